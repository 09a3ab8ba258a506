"""``watchkeeper token create`` and ``watchkeeper db upgrade``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import Result
from typer.testing import CliRunner

from watchkeeper.auth import service as auth_service
from watchkeeper.auth.roles import Permission
from watchkeeper.cli.main import app
from watchkeeper.config import Settings
from watchkeeper.db import make_engine, make_session_factory, session_scope, utcnow
from watchkeeper.errors import Forbidden
from watchkeeper.migrate import is_current


def run(data_dir: Path, *args: str, database_url: str = "") -> Result:
    env = {"WATCHKEEPER_DATA_DIR": str(data_dir), "WATCHKEEPER_DATABASE_URL": database_url}
    result = CliRunner().invoke(app, list(args), env=env)
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    return result


def test_db_upgrade_creates_a_current_database(tmp_path: Path) -> None:
    result = run(tmp_path, "db", "upgrade")
    assert result.exit_code == 0, result.stderr
    url = Settings(data_dir=tmp_path).resolved_database_url()
    assert f"database at the newest schema: {url}" in result.stdout.replace("\n", "")
    engine = make_engine(url)
    assert is_current(engine)
    engine.dispose()
    assert run(tmp_path, "db", "upgrade").exit_code == 0  # running it again is harmless


def test_db_upgrade_without_a_database_server(tmp_path: Path) -> None:
    # Nothing listens on port 1 of the loopback interface.
    result = run(
        tmp_path, "db", "upgrade",
        database_url="postgresql://nobody@127.0.0.1:1/none?connect_timeout=2",
    )  # fmt: skip
    assert result.exit_code == 1
    assert result.stderr.startswith("error: cannot open database")


def test_token_create_json_prints_a_working_token(tmp_path: Path) -> None:
    result = run(tmp_path, "token", "create", "--name", "ci", "--role", "editor", "--json")
    assert result.exit_code == 0, result.stderr
    body = json.loads(result.stdout)
    assert (body["name"], body["role"]) == ("ci", "editor")
    assert body["token"].startswith("wk_")
    engine = make_engine(Settings(data_dir=tmp_path).resolved_database_url())
    with session_scope(make_session_factory(engine)) as session:
        token = auth_service.authenticate(
            session, token=body["token"], permission=Permission.WRITE, now=utcnow()
        )
        assert token.name == "ci"
        with pytest.raises(Forbidden):
            auth_service.authenticate(
                session, token=body["token"], permission=Permission.ADMIN, now=utcnow()
            )
    engine.dispose()


def test_token_create_text_defaults_to_viewer(tmp_path: Path) -> None:
    result = run(tmp_path, "token", "create", "--name", "dashboard")
    assert result.exit_code == 0
    assert "token 'dashboard' (viewer): wk_" in result.stdout
    assert "It is not shown again." in result.stdout


@pytest.mark.parametrize(
    ("name", "arguments", "message"),
    [
        (
            "unknown role",
            ["--name", "x", "--role", "root"],
            "unknown role 'root'; choose one of: admin, editor, viewer, ingest",
        ),
        (
            "blank name",
            ["--name", "  "],
            "token name '  ' is not valid: 1-200 letters, digits and . _ @ : -, "
            "starting with a letter or digit",
        ),
        ("taken name", ["--name", "taken"], "a token named 'taken' already exists"),
    ],
)
def test_token_create_errors(tmp_path: Path, name: str, arguments: list[str], message: str) -> None:
    assert run(tmp_path, "token", "create", "--name", "taken").exit_code == 0
    result = run(tmp_path, "token", "create", *arguments)
    assert result.exit_code == 1, name
    assert result.stdout == "", name
    assert result.stderr == f"error: {message}\n", name
