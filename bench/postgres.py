"""A throwaway PostgreSQL schema for a benchmark run (the local server of the test suite)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, text

from watchkeeper.config import Settings, normalise_database_url

DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"


@contextmanager
def postgres_schema() -> Iterator[str | None]:
    """A URL whose search_path is a fresh schema, dropped afterwards; None if unreachable."""
    base = normalise_database_url(Settings().test_database_url or DEFAULT_POSTGRES)
    schema = f"wk_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base, connect_args={"connect_timeout": 3})
    try:
        with admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as exc:
        print(f"PostgreSQL skipped: not reachable at {base}: {exc.__class__.__name__}")
        admin.dispose()
        yield None
        return
    separator = "&" if "?" in base else "?"
    try:
        yield f"{base}{separator}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()
