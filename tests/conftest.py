"""Shared fixtures: a migrated database per backend, a rolled-back session per test."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.orm import Session, sessionmaker

from watchkeeper.app import create_app
from watchkeeper.auth import service as auth_service
from watchkeeper.config import Settings, normalise_database_url
from watchkeeper.db import make_engine, utcnow
from watchkeeper.migrate import upgrade_to_head

DEFAULT_TEST_POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"


def _postgres_url() -> str:
    settings = Settings()
    return normalise_database_url(settings.test_database_url or DEFAULT_TEST_POSTGRES)


@contextlib.contextmanager
def postgres_schema(prefix: str) -> Iterator[str]:
    """A fresh, empty schema in the local PostgreSQL, dropped afterwards; yields its name.

    Skips the test when PostgreSQL does not answer, or fails it when integration components
    are required (WATCHKEEPER_REQUIRE_INTEGRATION=1).
    """
    url = _postgres_url()
    schema = f"{prefix}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url, connect_args={"connect_timeout": 3})
    try:
        with admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as exc:
        admin.dispose()
        if Settings().require_integration:
            pytest.fail(f"PostgreSQL required but not reachable at {url}: {exc}")
        pytest.skip(f"PostgreSQL not reachable at {url}: {exc}")
    try:
        yield schema
    finally:
        with contextlib.suppress(Exception), admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


def postgres_schema_url(schema: str) -> str:
    """The test PostgreSQL's URL with ``schema`` as the search path (as the CLI takes it)."""
    url = _postgres_url()
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}options=-csearch_path%3D{schema}"


@contextlib.contextmanager
def migrated_engine(
    backend: str, sqlite_path: Path, *, prefix: str, **options: bool
) -> Iterator[Engine]:
    """A database at the newest schema: a SQLite file, or a schema of the local PostgreSQL."""
    with contextlib.ExitStack() as stack:
        if backend == "sqlite":
            db_engine = make_engine(f"sqlite:///{sqlite_path}", **options)
        else:
            schema = stack.enter_context(postgres_schema(prefix))
            db_engine = create_engine(
                _postgres_url(),
                connect_args={"options": f"-csearch_path={schema}"},
                pool_pre_ping=True,
            )
        stack.callback(db_engine.dispose)
        upgrade_to_head(db_engine)
        yield db_engine


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def engine(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    """A migrated database: a temp SQLite file, or a fresh schema in the local PostgreSQL."""
    path = tmp_path_factory.mktemp("db") / "watchkeeper.db"
    # Explicit SQLite transactions, so SAVEPOINTs nest inside a test's rolled-back one.
    with migrated_engine(
        request.param, path, prefix="wk_test", explicit_sqlite_transactions=True
    ) as db_engine:
        yield db_engine


@pytest.fixture
def connection(engine: Engine) -> Iterator[Connection]:
    """A connection inside an outer transaction that is rolled back after the test."""
    with engine.connect() as conn:
        outer = conn.begin()
        try:
            yield conn
        finally:
            outer.rollback()


@pytest.fixture
def session_factory(connection: Connection) -> sessionmaker[Session]:
    """Sessions that commit to savepoints inside the test's outer transaction."""
    return sessionmaker(
        bind=connection, expire_on_commit=False, join_transaction_mode="create_savepoint"
    )


@pytest.fixture
def session(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session for service and repository tests."""
    with session_factory() as db_session:
        yield db_session


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings for an app under test (the worker is not started in-process)."""
    return Settings(data_dir=tmp_path, run_worker_in_process=False)


@pytest.fixture
def client(
    settings: Settings, engine: Engine, session_factory: sessionmaker[Session]
) -> Iterator[TestClient]:
    """An API client whose requests run in the test's rolled-back transaction."""
    app = create_app(settings, engine=engine)
    app.state.session_factory = session_factory
    with TestClient(app) as test_client:
        yield test_client


def _token(session_factory: sessionmaker[Session], role: str) -> str:
    with session_factory() as db_session:
        issued = auth_service.create(
            db_session, name=f"{role}-{uuid.uuid4().hex[:6]}", role=role, now=utcnow()
        )
        db_session.commit()
        return issued.token


@pytest.fixture
def admin_headers(session_factory: sessionmaker[Session]) -> dict[str, str]:
    """Authorization headers of an admin token."""
    return {"Authorization": f"Bearer {_token(session_factory, 'admin')}"}


@pytest.fixture
def viewer_headers(session_factory: sessionmaker[Session]) -> dict[str, str]:
    """Authorization headers of a read-only token."""
    return {"Authorization": f"Bearer {_token(session_factory, 'viewer')}"}


@pytest.fixture(params=["sqlite", "postgresql"])
def committing_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A migrated database of the test's own whose commits are real (no outer transaction),
    for tests of what happens at COMMIT."""
    with migrated_engine(request.param, tmp_path / "committing.db", prefix="wk_commit") as db:
        yield db
