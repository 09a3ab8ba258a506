"""Opening the configured database for CLI commands."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from watchkeeper.config import Settings
from watchkeeper.db import make_engine, make_session_factory, session_scope
from watchkeeper.errors import InvalidInput, Unavailable
from watchkeeper.migrate import is_current, upgrade_to_head


def open_engine(settings: Settings) -> Engine:
    """The configured database, migrated to the newest schema."""
    url = settings.resolved_database_url()
    engine = make_engine(url)
    try:
        if not is_current(engine):
            upgrade_to_head(engine)
    except OperationalError as exc:
        raise Unavailable(f"cannot open database {engine.url!r}: {exc.orig}") from None
    return engine


@contextmanager
def database_session(settings: Settings | None = None) -> Iterator[Session]:
    """One transaction on the configured database (committed on success)."""
    engine = open_engine(settings or Settings())
    factory: sessionmaker[Session] = make_session_factory(engine)
    try:
        with session_scope(factory) as session:
            yield session
    finally:
        engine.dispose()


def parse_time(text: str) -> datetime:
    """RFC 3339 with an offset, or Unix seconds, to an aware UTC datetime."""
    value = text.strip()
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        try:
            return datetime.fromtimestamp(seconds, UTC)
        except (OverflowError, OSError, ValueError):
            raise InvalidInput(f"{text!r} is out of range for a Unix time") from None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise InvalidInput(
            f"{text!r} is not a time: use RFC 3339 with an offset "
            "(2026-11-23T10:00:00Z) or Unix seconds"
        ) from None
    if parsed.tzinfo is None:
        raise InvalidInput(f"{text!r} has no UTC offset: add Z or +01:00")
    return parsed.astimezone(UTC)
