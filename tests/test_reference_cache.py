"""The reference cache: values kept per process while the database's config token holds.

Run on SQLite and PostgreSQL with real commits: the token is changed by the triggers of
migration 0011, whichever session (or process) writes.
"""

from __future__ import annotations

import importlib
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from watchkeeper import reference_cache
from watchkeeper.alerting import grouping, silences
from watchkeeper.alerting.models import Silence
from watchkeeper.db import make_session_factory, session_scope
from watchkeeper.reference_cache import ConfigVersion

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def _token(engine: Engine) -> str:
    with session_scope(make_session_factory(engine)) as session:
        token = session.scalar(select(ConfigVersion.token))
        assert token is not None
        return token


def _silence(session: Session, *matchers: str) -> Silence:
    return silences.create(
        session,
        matchers=list(matchers),
        starts_at=NOW - timedelta(minutes=1),
        ends_at=NOW + timedelta(hours=1),
        comment="deploy",
        created_by="ann",
        now=NOW - timedelta(minutes=1),
    )


def test_the_migration_watches_the_tables_the_cache_names() -> None:
    migration = importlib.import_module("watchkeeper.migrations.versions.0011_config_version")
    assert frozenset(migration.WATCHED) == reference_cache.WATCHED_TABLES


def test_writes_to_watched_columns_change_the_token_and_tallies_do_not(
    committing_engine: Engine,
) -> None:
    factory = make_session_factory(committing_engine)
    first = _token(committing_engine)
    with session_scope(factory) as session:
        silence_id = _silence(session, "service=checkout").id
    created = _token(committing_engine)
    assert created != first
    with session_scope(factory) as session:
        stored = session.get(Silence, silence_id)
        assert stored is not None
        stored.silenced_count += 1
    assert _token(committing_engine) == created  # a tally is not what matching reads
    with session_scope(factory) as session:
        silences.expire(session, silence_id=silence_id, now=NOW)
    assert _token(committing_engine) != created


def test_a_committed_change_reaches_a_caching_transaction(committing_engine: Engine) -> None:
    factory = make_session_factory(committing_engine)
    labels = {"service": "checkout", "severity": "critical"}

    def matched() -> int | None:
        with session_scope(factory) as session:
            reference_cache.enable(session)
            found = grouping.matching_silence(session, labels, NOW)
            return None if found is None else found.id

    assert matched() is None
    assert matched() is None  # served from the cache: still nothing
    with session_scope(factory) as session:
        silence_id = _silence(session, "service=checkout").id
    assert matched() == silence_id  # another transaction's commit changed the token


def test_a_cached_value_is_served_without_a_load(committing_engine: Engine) -> None:
    factory = make_session_factory(committing_engine)
    loads: list[str] = []

    def load() -> tuple[str, ...]:
        loads.append("loaded")
        return ("value",)

    def seen(*, enabled: bool) -> tuple[str, ...]:
        with session_scope(factory) as session:
            if enabled:
                reference_cache.enable(session)
            return reference_cache.read(session, "test-key", load)

    assert seen(enabled=True) == ("value",)
    assert seen(enabled=True) == ("value",)
    assert loads == ["loaded"]  # once across two transactions
    assert seen(enabled=False) == ("value",)
    assert loads == ["loaded", "loaded"]  # a transaction that did not opt in loads afresh


def test_a_transaction_that_writes_a_watched_table_reads_afresh(
    committing_engine: Engine,
) -> None:
    factory = make_session_factory(committing_engine)
    labels = {"service": "checkout"}
    with session_scope(factory) as session:
        reference_cache.enable(session)
        assert grouping.matching_silence(session, labels, NOW) is None
        silence = _silence(session, "service=checkout")
        # Its own write turned the cache off for the rest of the transaction.
        found = grouping.matching_silence(session, labels, NOW)
        assert found is not None and found.id == silence.id
