"""``watchkeeper token create|list|revoke`` and ``watchkeeper db upgrade``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import Result

from tests.cli_runner import invoke
from watchkeeper.auth import service as auth_service
from watchkeeper.auth.roles import Permission
from watchkeeper.config import Settings
from watchkeeper.db import make_engine, make_session_factory, session_scope, utcnow
from watchkeeper.errors import Forbidden, Unauthorized
from watchkeeper.migrate import is_current


def run(data_dir: Path, *args: str, database_url: str = "") -> Result:
    return invoke(*args, data_dir=data_dir, WATCHKEEPER_DATABASE_URL=database_url)


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
    assert run(tmp_path, "db", "upgrade").exit_code == 0
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


def test_token_create_needs_a_role(tmp_path: Path) -> None:
    assert run(tmp_path, "db", "upgrade").exit_code == 0
    result = run(tmp_path, "token", "create", "--name", "dashboard")
    assert result.exit_code == 2
    assert "Missing option '--role'" in result.stderr
    listed = run(tmp_path, "token", "list", "--json")
    assert json.loads(listed.stdout) == []


def test_token_create_text_names_role_and_expiry(tmp_path: Path) -> None:
    assert run(tmp_path, "db", "upgrade").exit_code == 0
    result = run(tmp_path, "token", "create", "--name", "dashboard", "--role", "viewer")
    assert result.exit_code == 0
    assert "token 'dashboard' (viewer, expires never): wk_" in result.stdout
    assert "It is not shown again." in result.stdout
    short = run(
        tmp_path, "token", "create", "--name", "temp", "--role", "ingest", "--expires-in", "1h"
    )
    assert short.exit_code == 0
    assert "token 'temp' (ingest, expires 20" in short.stdout


def test_token_list_and_revoke(tmp_path: Path) -> None:
    assert run(tmp_path, "db", "upgrade").exit_code == 0
    created = run(
        tmp_path, "token", "create", "--name", "ci", "--role", "editor", "--expires-in", "90d",
        "--json",
    )  # fmt: skip
    issued = json.loads(created.stdout)
    assert issued["expires_at"] is not None
    assert run(tmp_path, "token", "create", "--name", "reader", "--role", "viewer").exit_code == 0

    listed = {t["name"]: t for t in json.loads(run(tmp_path, "token", "list", "--json").stdout)}
    assert listed["ci"]["state"] == "active" and listed["ci"]["role"] == "editor"
    assert listed["ci"]["expires_at"] == issued["expires_at"]
    assert listed["ci"]["prefix"] == issued["token"][:10]
    assert listed["reader"]["expires_at"] is None and listed["reader"]["last_used_at"] is None
    assert all("token" not in t for t in listed.values())
    table = run(tmp_path, "token", "list")
    assert table.exit_code == 0
    assert "ci" in table.stdout and "editor" in table.stdout and "active" in table.stdout

    revoked = run(tmp_path, "token", "revoke", "ci")
    assert (revoked.exit_code, revoked.stdout) == (0, "token 'ci' revoked\n")
    again = run(tmp_path, "token", "revoke", "ci")
    assert again.exit_code == 0 and "was already revoked at" in again.stdout
    listed = {t["name"]: t for t in json.loads(run(tmp_path, "token", "list", "--json").stdout)}
    assert listed["ci"]["state"] == "revoked" and listed["reader"]["state"] == "active"
    engine = make_engine(Settings(data_dir=tmp_path).resolved_database_url())
    with session_scope(make_session_factory(engine)) as session, pytest.raises(Unauthorized):
        auth_service.authenticate(
            session, token=issued["token"], permission=Permission.READ, now=utcnow()
        )
    engine.dispose()
    missing = run(tmp_path, "token", "revoke", "nobody")
    assert (missing.exit_code, missing.stderr) == (1, "error: no token named 'nobody'\n")


@pytest.mark.parametrize(
    ("lifetime", "message"),
    [
        ("soon", "Invalid value for --expires-in"),
        ("0s", "must be a positive duration"),
        ("9999999999999d", "Invalid value for --expires-in"),
        ("20000d", "at most 3660 days"),
    ],
)
def test_token_lifetimes_are_checked(tmp_path: Path, lifetime: str, message: str) -> None:
    assert run(tmp_path, "db", "upgrade").exit_code == 0
    result = run(
        tmp_path, "token", "create", "--name", "x", "--role", "viewer", "--expires-in", lifetime
    )
    assert result.exit_code in (1, 2)
    assert message in " ".join(result.stderr.split())


def test_token_list_is_empty_at_first(tmp_path: Path) -> None:
    assert run(tmp_path, "db", "upgrade").exit_code == 0
    result = run(tmp_path, "token", "list")
    assert (result.exit_code, result.stdout) == (
        0,
        "no API tokens: create one with `watchkeeper token create`\n",
    )


@pytest.mark.parametrize(
    ("name", "arguments", "message"),
    [
        (
            "unknown role",
            ["--name", "x", "--role", "root"],
            "unknown role 'root'; choose one of: admin, editor, responder, viewer, ingest",
        ),
        (
            "blank name",
            ["--name", "  ", "--role", "viewer"],
            "token name '  ' is not valid: 1-200 letters, digits and . _ @ : -, "
            "starting with a letter or digit",
        ),
        (
            "taken name",
            ["--name", "taken", "--role", "viewer"],
            "a token named 'taken' already exists",
        ),
    ],
)
def test_token_create_errors(tmp_path: Path, name: str, arguments: list[str], message: str) -> None:
    assert run(tmp_path, "db", "upgrade").exit_code == 0
    assert run(tmp_path, "token", "create", "--name", "taken", "--role", "admin").exit_code == 0
    result = run(tmp_path, "token", "create", *arguments)
    assert result.exit_code == 1, name
    assert result.stdout == "", name
    assert result.stderr == f"error: {message}\n", name
