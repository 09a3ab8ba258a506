"""The migrated schema matches the models, on every backend, and readiness sees it."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine

from watchkeeper.db import make_engine
from watchkeeper.migrate import is_current, upgrade_to_head
from watchkeeper.tables import Base


def test_models_and_migrations_agree(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    assert differences == []


def test_upgrade_is_idempotent_and_current(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'fresh.db'}")
    assert not is_current(engine)
    upgrade_to_head(engine)
    upgrade_to_head(engine)
    assert is_current(engine)
    engine.dispose()
