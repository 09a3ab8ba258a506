"""Running the real ``watchkeeper`` CLI in-process, as the CLI tests do."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from click.testing import Result
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from watchkeeper.cli.main import app
from watchkeeper.config import Settings
from watchkeeper.db import make_engine, make_session_factory, session_scope

Run = Callable[..., Result]


def invoke(*args: str, data_dir: Path | None = None, **env: str) -> Result:
    """One command against ``data_dir``'s SQLite file (or ``env``'s database).

    A caller's mistake is an stderr line and an exit code, never a traceback: any test that
    provokes one fails here.
    """
    environment = {"WATCHKEEPER_DATABASE_URL": "", **env}
    if data_dir is not None:
        environment["WATCHKEEPER_DATA_DIR"] = str(data_dir)
    result = CliRunner().invoke(app, list(args), env=environment)
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


def upgraded(data_dir: Path) -> Run:
    """A runner on ``data_dir`` after ``watchkeeper db upgrade`` created its database."""

    def run(*args: str) -> Result:
        return invoke(*args, data_dir=data_dir)

    assert run("db", "upgrade").exit_code == 0
    return run


def in_database(data_dir: Path, work: Callable[[Session], None]) -> None:
    """Run ``work(session)`` in one committed transaction on the CLI's database."""
    engine = make_engine(Settings(data_dir=data_dir).resolved_database_url())
    try:
        with session_scope(make_session_factory(engine)) as session:
            work(session)
    finally:
        engine.dispose()
