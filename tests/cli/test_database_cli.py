"""How commands open the database: settings once, one engine, only `db upgrade` migrates."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from click.testing import Result
from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError

from tests import conftest
from tests.cli_runner import invoke
from tests.slo import scenario
from watchkeeper.cli import context as cli_context
from watchkeeper.cli import server as cli_server
from watchkeeper.config import Settings
from watchkeeper.db import make_engine
from watchkeeper.migrate import alembic_config, packaged_migrations, schema_state
from watchkeeper.slo import service as slo_service

# Every command that reads or writes the database (arguments need not name anything real).
DATABASE_COMMANDS = {
    "slo apply": ["slo", "apply", "{spec}"],
    "slo list": ["slo", "list"],
    "slo status": ["slo", "status", "shop/availability"],
    "slo explain": ["slo", "explain", "shop/availability"],
    "gate": ["gate", "--service", "shop"],
    "events ingest": ["events", "ingest", "{data}"],
    "token create": ["token", "create", "--name", "ci", "--role", "viewer"],
    "token list": ["token", "list"],
    "token revoke": ["token", "revoke", "ci"],
    "serve": ["serve", "--port", "0"],
    "worker": ["worker"],
}

HEAD = packaged_migrations().get_current_head()


def run(*args: str, **env: str) -> Result:
    return invoke(*args, **env)


@pytest.fixture
def files(tmp_path: Path) -> dict[str, str]:
    spec = tmp_path / "shop.yaml"
    spec.write_text(scenario.SPEC)
    return {"{spec}": str(spec), "{data}": str(scenario.write_csv(tmp_path / "events.csv"))}


@pytest.fixture(autouse=True)
def no_server(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record instead of serving or looping: only whether they got as far as starting."""
    started: list[str] = []
    monkeypatch.setattr(
        cli_server.uvicorn.Server, "run", lambda self, sockets=None: started.append("serve")
    )
    monkeypatch.setattr(
        cli_server.Worker, "run_forever", lambda self, stop: started.append("worker")
    )
    return started


def argv(name: str, files: dict[str, str]) -> list[str]:
    return [files.get(argument, argument) for argument in DATABASE_COMMANDS[name]]


def test_help_and_offline_commands_read_no_settings_and_open_no_database(
    tmp_path: Path, files: dict[str, str]
) -> None:
    data_dir = tmp_path / "data"
    broken = {
        "WATCHKEEPER_DATA_DIR": str(data_dir),
        "WATCHKEEPER_DATABASE_URL": "mysql://root@db/watchkeeper",
        "WATCHKEEPER_MINUTE_RETENTION_DAYS": "2",
    }
    spec, data = files["{spec}"], files["{data}"]
    for args in (
        ["--help"],
        ["slo", "--help"],
        ["slo", "validate", spec],
        ["slo", "convert", spec, "--to", "openslo"],
        ["slo", "eval", spec, "--data", data, "--at", scenario.AT_TEXT],
    ):
        assert run(*args, **broken).exit_code == 0, args
    assert not data_dir.exists()
    # A command that needs the settings names the bad ones.
    listed = run("slo", "list", **broken)
    assert listed.exit_code == 1
    assert listed.stderr.count("\n") == 1
    assert "invalid setting: WATCHKEEPER_DATABASE_URL: scheme 'mysql' is not supported" in (
        listed.stderr
    )
    assert "WATCHKEEPER_MINUTE_RETENTION_DAYS" in listed.stderr


@pytest.mark.parametrize("name", sorted(DATABASE_COMMANDS))
def test_a_missing_database_is_refused_not_created(
    tmp_path: Path, files: dict[str, str], no_server: list[str], name: str
) -> None:
    data_dir = tmp_path / "data"
    result = run(*argv(name, files), WATCHKEEPER_DATA_DIR=str(data_dir))
    assert result.exit_code == 1, name
    assert result.stdout == "", name
    assert result.stderr == (
        f"error: no database at {data_dir.resolve() / 'watchkeeper.db'}: run `watchkeeper db "
        "upgrade` to create it (or set WATCHKEEPER_DATA_DIR / WATCHKEEPER_DATABASE_URL to an "
        "existing one)\n"
    ), name
    assert no_server == [], name
    assert not data_dir.exists(), name


def _sqlite_at(data_dir: Path, revision: str | None) -> Engine:
    """The data dir's SQLite file: empty, or migrated up to ``revision``."""
    url = Settings(data_dir=data_dir).resolved_database_url()
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(text("SELECT 1"))  # creates the file
    if revision is not None:
        config = alembic_config()
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
    return engine


@pytest.mark.parametrize("name", sorted(DATABASE_COMMANDS))
@pytest.mark.parametrize(
    ("state", "message"),
    [
        (None, "has no Watchkeeper schema yet: run `watchkeeper db upgrade` first"),
        (
            "0003",
            f"is at schema revision 0003, not the newest ({HEAD}): run `watchkeeper db upgrade`",
        ),
    ],
)
def test_an_empty_or_outdated_schema_is_refused_and_left_alone(
    tmp_path: Path,
    files: dict[str, str],
    no_server: list[str],
    name: str,
    state: str | None,
    message: str,
) -> None:
    data_dir = tmp_path / "data"
    engine = _sqlite_at(data_dir, state)
    try:
        result = run(*argv(name, files), WATCHKEEPER_DATA_DIR=str(data_dir))
        assert result.exit_code == 1, name
        assert message in result.stderr, (name, result.stderr)
        assert result.stderr.count("\n") == 1, name
        assert no_server == [], name
        assert schema_state(engine).current == state, name  # nothing migrated it
    finally:
        engine.dispose()


def test_db_upgrade_then_every_command_runs(
    tmp_path: Path, files: dict[str, str], no_server: list[str]
) -> None:
    data_dir = tmp_path / "data"
    engine = _sqlite_at(data_dir, "0003")
    engine.dispose()
    env = {"WATCHKEEPER_DATA_DIR": str(data_dir), "WATCHKEEPER_RUN_WORKER_IN_PROCESS": "false"}
    upgraded = run("db", "upgrade", **env)
    assert upgraded.exit_code == 0, upgraded.stderr
    assert run(*argv("slo apply", files), **env).exit_code == 0
    for name in (
        "slo list",
        "slo status",
        "slo explain",
        "gate",
        "events ingest",
        "token create",
        "token list",
        "token revoke",
    ):
        result = run(*argv(name, files), **env)
        assert result.exit_code == 0, (name, result.stderr)
    assert run("serve", "--port", "0", **env).exit_code == 0
    assert run("worker", **env).exit_code == 0
    assert no_server == ["serve", "worker"]


def test_a_database_newer_than_this_version_is_named(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    engine = _sqlite_at(data_dir, "head")
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '0099'"))
    engine.dispose()
    for args in (["slo", "list"], ["db", "upgrade"]):
        result = run(*args, WATCHKEEPER_DATA_DIR=str(data_dir))
        assert result.exit_code == 1, args
        assert (
            "is at schema revision 0099, which this version of Watchkeeper does not know "
            f"(its newest is {HEAD}): run a newer Watchkeeper"
        ) in " ".join(result.stderr.split())


class EngineSpy:
    """Counts engines the CLI creates and how many of them it disposed of."""

    def __init__(self) -> None:
        self.created: list[Engine] = []
        self.disposed = 0

    def make_engine(self, url: str) -> Engine:
        engine = make_engine(url)
        self.created.append(engine)
        dispose = engine.dispose

        def counted(close: bool = True) -> None:
            self.disposed += 1
            dispose(close)

        engine.dispose = counted  # type: ignore[method-assign]
        return engine


def test_one_engine_per_command_disposed_when_it_ends(
    tmp_path: Path, files: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    env = {"WATCHKEEPER_DATA_DIR": str(tmp_path / "data")}
    assert run("db", "upgrade", **env).exit_code == 0
    assert run("slo", "apply", files["{spec}"], **env).exit_code == 0
    spy = EngineSpy()
    monkeypatch.setattr(cli_context, "make_engine", spy.make_engine)
    # A bare name is resolved and then evaluated: two steps, one engine.
    for args in (["slo", "status", "availability"], ["slo", "explain", "availability"]):
        before = len(spy.created)
        assert run(*args, **env).exit_code == 0, args
        assert len(spy.created) == before + 1, args
        assert spy.disposed == len(spy.created), args
    failed = run("slo", "status", "nope", **env)
    assert failed.exit_code == 1
    assert spy.disposed == len(spy.created) == 3  # disposed on failure too
    assert run("slo", "validate", files["{spec}"], **env).exit_code == 0
    assert len(spy.created) == 3


def test_an_unreachable_database_is_one_clear_line(tmp_path: Path) -> None:
    # Nothing listens on port 1 of the loopback interface.
    url = "postgresql://nobody:hunter2@127.0.0.1:1/none?connect_timeout=2"
    for args in (["slo", "list"], ["db", "upgrade"], ["serve", "--port", "0"]):
        result = run(*args, WATCHKEEPER_DATABASE_URL=url)
        assert result.exit_code == 1, args
        assert result.stderr.startswith(
            "error: cannot open database postgresql+psycopg://nobody:***@127.0.0.1:1/none"
        ), result.stderr
        assert result.stderr.count("\n") == 1, args
        assert "hunter2" not in result.output


def test_a_data_dir_that_cannot_be_created_is_one_clear_line(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    result = run("db", "upgrade", WATCHKEEPER_DATA_DIR=str(blocker / "data"))
    assert result.exit_code == 1
    assert result.stderr.startswith("error: cannot open database sqlite:///")
    assert "Not a directory" in result.stderr


@pytest.mark.parametrize(
    ("url", "scheme"),
    [
        ("mysql://root:secret@db/watchkeeper", "scheme 'mysql'"),
        ("postgresql+asyncpg://root:secret@db/watchkeeper", "scheme 'postgresql+asyncpg'"),
        ("watchkeeper.db", "a URL without a scheme"),
    ],
)
def test_an_unsupported_database_url_is_named(tmp_path: Path, url: str, scheme: str) -> None:
    for args in (["db", "upgrade"], ["slo", "list"], ["serve", "--port", "0"]):
        result = run(*args, WATCHKEEPER_DATABASE_URL=url)
        assert result.exit_code == 1, args
        assert result.stderr.startswith(
            f"error: invalid setting: WATCHKEEPER_DATABASE_URL: {scheme} is not supported; use "
            "one of sqlite, postgresql, postgresql+psycopg, postgres, postgres+psycopg"
        ), result.stderr
        assert "secret" not in result.output


@pytest.fixture
def postgres_schema() -> Iterator[str]:
    """The URL of a fresh, empty schema in the local PostgreSQL (dropped afterwards)."""
    with conftest.postgres_schema("wk_cli") as schema:
        yield conftest.postgres_schema_url(schema)


def test_postgresql_empty_schema_is_refused_until_db_upgrade(
    postgres_schema: str, files: dict[str, str], no_server: list[str]
) -> None:
    env = {
        "WATCHKEEPER_DATABASE_URL": postgres_schema,
        "WATCHKEEPER_RUN_WORKER_IN_PROCESS": "false",
    }
    refused = run("slo", "list", **env)
    assert refused.exit_code == 1
    assert "has no Watchkeeper schema yet: run `watchkeeper db upgrade` first" in refused.stderr
    assert run("serve", "--port", "0", **env).exit_code == 1
    assert no_server == []
    assert run("db", "upgrade", **env).exit_code == 0
    assert run(*argv("slo apply", files), **env).exit_code == 0
    assert run("slo", "list", **env).exit_code == 0
    assert run("serve", "--port", "0", **env).exit_code == 0
    assert no_server == ["serve"]


def test_a_database_failing_mid_command_is_one_clear_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = {"WATCHKEEPER_DATA_DIR": str(tmp_path / "data")}
    assert run("db", "upgrade", **env).exit_code == 0

    def lost(*_args: object, **_kwargs: object) -> None:
        raise OperationalError("SELECT ...", {}, Exception("server closed the connection\nmore"))

    monkeypatch.setattr(slo_service, "list_slos", lost)
    result = run("slo", "list", **env)
    assert result.exit_code == 1
    assert result.stderr == "error: database error: server closed the connection\n"


def test_serve_on_a_port_in_use_stops_before_the_worker_runs(
    tmp_path: Path, no_server: list[str]
) -> None:
    data_dir = tmp_path / "data"
    env = {"WATCHKEEPER_DATA_DIR": str(data_dir)}
    assert run("db", "upgrade", **env).exit_code == 0
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run("serve", "--port", str(port), **env)
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: cannot listen on 127.0.0.1:{port}: ")
    assert "in use" in result.stderr
    assert no_server == []  # neither the server nor the in-process worker started
