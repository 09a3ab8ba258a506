"""Applying and inspecting Alembic migrations on an engine."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import Engine

from watchkeeper.errors import Unavailable

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


class SchemaNotCurrent(Unavailable):
    """The database schema is missing or older (or newer) than this version's migrations."""


@dataclass(frozen=True)
class SchemaState:
    """Where a database stands against the packaged migrations."""

    current: str | None  # None: no Watchkeeper schema at all
    head: str
    known: bool  # False: a revision these migrations do not have (a newer Watchkeeper's)

    @property
    def is_current(self) -> bool:
        """Whether the database is at the newest migration."""
        return self.current == self.head


def alembic_config() -> Config:
    """An Alembic Config pointing at the packaged migrations."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def upgrade_to_head(engine: Engine) -> None:
    """Apply every pending migration."""
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


@functools.cache
def packaged_migrations() -> ScriptDirectory:
    """The migrations shipped in the package, read from disk once per process."""
    # /readyz asks on every probe; the scripts never change while the process runs.
    return ScriptDirectory.from_config(alembic_config())


def schema_state(engine: Engine) -> SchemaState:
    """The database's revision next to the newest one (connects; raises if it cannot)."""
    scripts = packaged_migrations()
    head = scripts.get_current_head()
    assert head is not None, "the packaged migrations have a head"
    with engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_revision()
    known = True
    if current is not None:
        try:
            known = scripts.get_revision(current) is not None
        except CommandError:
            known = False
    return SchemaState(current, head, known)


def is_current(engine: Engine) -> bool:
    """Whether the database is at the newest migration."""
    return schema_state(engine).is_current


def require_current(engine: Engine, *, shown: str) -> None:
    """Raise SchemaNotCurrent unless the database is at the newest migration.

    Only ``watchkeeper db upgrade`` migrates: servers and workers must never race each other
    to change a shared schema, so everything else refuses to run on an outdated one.
    """
    state = schema_state(engine)
    if state.is_current:
        return
    if state.current is None:
        raise SchemaNotCurrent(
            f"the database {shown} has no Watchkeeper schema yet: "
            "run `watchkeeper db upgrade` first"
        )
    if not state.known:
        raise SchemaNotCurrent(
            f"the database {shown} is at schema revision {state.current}, which this version "
            f"of Watchkeeper does not know (its newest is {state.head}): run a newer Watchkeeper"
        )
    raise SchemaNotCurrent(
        f"the database {shown} is at schema revision {state.current}, not the newest "
        f"({state.head}): run `watchkeeper db upgrade`"
    )


def revision(engine: Engine, message: str) -> None:
    """Autogenerate a new migration from the models (a developer command)."""
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.revision(config, message=message, autogenerate=True)
