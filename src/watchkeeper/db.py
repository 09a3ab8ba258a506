"""Engine and session factory, the declarative Base and the UTC timestamp column type."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import DateTime, Engine, MetaData, create_engine, event
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import (
    DBAPIError,
    DisconnectionError,
    InterfaceError,
    OperationalError,
    SQLAlchemyError,
)
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from watchkeeper.errors import StorageFailed, Unavailable, WatchkeeperError

# The largest id an INTEGER primary key holds on PostgreSQL (SQLite's are wider): adapters
# refuse a larger one as input instead of letting the driver overflow.
MAX_ROW_ID = 2**31 - 1

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base for every Watchkeeper table."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored as UTC and always read back timezone-aware (SQLite drops zones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def _explicit_begin_on_connect(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None


def _explicit_begin(connection: Any) -> None:
    connection.exec_driver_sql("BEGIN")


def make_engine(url: str, *, explicit_sqlite_transactions: bool = False) -> Engine:
    """Create an engine; SQLite files get WAL mode and their parent directory is created.

    By default pysqlite opens a SQLite transaction lazily, at the first write, so a unit of
    work that reads and then writes waits for the write lock (busy_timeout) instead of
    failing with SQLITE_BUSY when another writer committed since its read began.
    ``explicit_sqlite_transactions`` applies SQLAlchemy's documented recipe instead (BEGIN
    when SQLAlchemy begins), which tests need so SAVEPOINTs nest inside a rolled-back
    transaction.
    """
    if url.startswith("sqlite"):
        path = url.split("///", 1)[1] if "///" in url else ""
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        if explicit_sqlite_transactions:
            event.listen(engine, "connect", _explicit_begin_on_connect)
            event.listen(engine, "begin", _explicit_begin)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """A session factory bound to ``engine`` that keeps objects usable after commit."""
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any exception."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def utcnow() -> datetime:
    """The current time, timezone-aware UTC (adapters pass it into services and core)."""
    return datetime.now(UTC)


def driver_message(exc: SQLAlchemyError) -> str:
    """The first line of what the database driver said (or the error's class name)."""
    lines = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def database_error(exc: SQLAlchemyError) -> WatchkeeperError:
    """The caller's view of a database failure: 503 when it is unreachable, else 500."""
    first_line = driver_message(exc)
    # Unreachable, locked, disk full: the server cannot store now, a retry may succeed.
    if isinstance(exc, DisconnectionError | OperationalError | InterfaceError) or (
        isinstance(exc, DBAPIError) and exc.connection_invalidated
    ):
        return Unavailable(f"database unavailable: {first_line[:300]}")
    return StorageFailed(
        f"the database refused the request, nothing was stored: {first_line[:300]}"
    )
