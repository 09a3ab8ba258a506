"""What every CLI command shares: the settings and the database, each opened once, lazily.

The root command stores one :class:`CLIState` on the Typer context. Nothing is read or opened
until a command asks: ``--help``, ``slo validate``, ``slo convert`` and ``slo eval`` never build
the settings or touch a database. A command that does gets one engine for its whole run,
disposed when the command ends. Only ``watchkeeper db upgrade`` changes the schema; every
other command refuses a database that is not at the newest migration.
"""

from __future__ import annotations

import getpass
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from watchkeeper.auth import audit
from watchkeeper.config import Settings
from watchkeeper.core.duration import parse_duration
from watchkeeper.db import driver_message, make_engine, make_session_factory, session_scope
from watchkeeper.errors import InvalidInput, Unavailable
from watchkeeper.events.rows import parse_time as event_time
from watchkeeper.migrate import SchemaNotCurrent, require_current, schema_state, upgrade_to_head

ActorOption = Annotated[
    str | None, typer.Option("--as", help="Who acts (default: your login name).")
]


def actor_name(given: str | None) -> str:
    """Who a CLI action is recorded as: ``--as NAME``, else the login name."""
    if given:
        return given
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name (a container without a passwd entry)
        return "cli"


class CLIState:
    """Settings and engine of one CLI invocation, created on first use."""

    def __init__(self, settings: Settings | None = None) -> None:
        self._settings = settings
        self._engine: Engine | None = None
        self._factory: sessionmaker[Session] | None = None
        self._checked = False

    @property
    def settings(self) -> Settings:
        """The ``WATCHKEEPER_*`` settings (read from the environment on first use)."""
        if self._settings is None:
            self._settings = Settings()
        return self._settings

    @property
    def shown_url(self) -> str:
        """The database URL for messages, password hidden."""
        url = make_url(self.settings.resolved_database_url())
        return url.render_as_string(hide_password=True)

    @property
    def engine(self) -> Engine:
        """The configured database's engine, whatever its schema (created once)."""
        if self._engine is None:
            try:
                self._engine = make_engine(self.settings.resolved_database_url())
            except OSError as exc:  # the SQLite file's directory cannot be created
                raise Unavailable(
                    f"cannot open database {self.shown_url}: {exc.strerror or exc}"
                ) from None
        return self._engine

    def current_engine(self) -> Engine:
        """The engine, once the database answers and its schema is the newest."""
        if not self._checked:
            sqlite_file = _sqlite_file(self.settings.resolved_database_url())
            if sqlite_file is not None and not sqlite_file.exists():
                # Connecting would create an empty file; say what to do instead.
                raise SchemaNotCurrent(
                    f"no database at {sqlite_file}: run `watchkeeper db upgrade` to create it "
                    "(or set WATCHKEEPER_DATA_DIR / WATCHKEEPER_DATABASE_URL to an existing one)"
                )
            engine = self.engine
            with _reported_connection_errors(self.shown_url):
                require_current(engine, shown=self.shown_url)
            self._checked = True
        return self.engine

    def upgrade(self) -> None:
        """Apply every pending migration (the one place the CLI migrates)."""
        engine = self.engine
        with _reported_connection_errors(self.shown_url):
            if not schema_state(engine).known:
                require_current(engine, shown=self.shown_url)  # says a newer version wrote it
            upgrade_to_head(engine)
            require_current(engine, shown=self.shown_url)
        self._checked = True

    def session_factory(self) -> sessionmaker[Session]:
        """Sessions on the current-schema database."""
        if self._factory is None:
            # Imported here: commands that open no database should not load the alerting stack.
            from watchkeeper.alerting import escalation_config
            from watchkeeper.sources import registry as sources

            self._factory = make_session_factory(self.current_engine())
            audit.install()
            escalation_config.configure(self._factory, self.settings)
            sources.configure(self._factory, sources.registry_from_settings(self.settings))
        return self._factory

    @contextmanager
    def session(self, *, actor: str | None = None) -> Iterator[Session]:
        """One transaction on the configured database (committed on success); its changes
        are audited as made by ``actor`` (a command's ``--as`` person), else by "cli"."""
        with session_scope(self.session_factory()) as session:
            audit.bind_actor(session, audit.Actor(audit.ActorKind.CLI, actor or "cli"))
            yield session

    def close(self) -> None:
        """Dispose of the engine, if one was created."""
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None
            self._factory = None
            self._checked = False


def cli_state(ctx: typer.Context) -> CLIState:
    """The invocation's state: the root callback's, or a new one closed with the root context.

    The fallback lets a sub-app run on its own (mounted without the root callback).
    """
    state = ctx.find_object(CLIState)
    if state is None:
        root = ctx.find_root()
        state = CLIState()
        root.obj = state
        root.call_on_close(state.close)
    return state


def _sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL (None for other databases and in-memory SQLite)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


@contextmanager
def _reported_connection_errors(shown: str) -> Iterator[None]:
    """A database that does not answer becomes Unavailable, with the driver's first line."""
    try:
        yield
    except DBAPIError as exc:
        raise Unavailable(f"cannot open database {shown}: {driver_message(exc)}") from None


def parse_time(text: str) -> datetime:
    """RFC 3339 with an offset, or Unix seconds, to an aware UTC datetime (as in event files)."""
    try:
        seconds = event_time(text)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None
    return datetime.fromtimestamp(seconds, UTC)


def parse_moment(text: str, *, now: datetime, option: str) -> datetime:
    """A time given on the command line: ``now``, a duration back from now (``30d``,
    ``1h30m``), RFC 3339 with an offset, or Unix seconds. InvalidInput names ``option``."""
    if text.strip().lower() == "now":
        return now
    try:
        return now - parse_duration(text)
    except ValueError:
        pass
    try:
        return parse_time(text)
    except InvalidInput as exc:
        raise InvalidInput(
            f"{option}: {exc.detail}; or give now or a duration back from now such as 30d"
        ) from None
