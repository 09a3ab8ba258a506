"""Light SLO summaries: the very figures of the full stored statuses, in three queries, with
each stored spec parsed once per version and re-read when it changes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session

from tests.slo import unevaluable
from tests.slo.scenario import AT
from tests.slo.unevaluable import BROKEN, FOREVER
from watchkeeper.slo import service
from watchkeeper.slo.evaluator import Evaluator
from watchkeeper.slo.models import SLORecord
from watchkeeper.slo.summaries import IDENTITIES, IdentityCache, summaries

MINUTE = timedelta(minutes=1)


@pytest.fixture
def evaluated(session: Session, shop_events: None) -> None:
    """The shop scenario's SLOs with events, two unevaluable ones, evaluated once."""
    unevaluable.insert_both(session)
    Evaluator(history_interval=timedelta(0)).tick(session, now=AT)
    session.flush()


def test_summaries_carry_the_full_statuses_figures(session: Session, evaluated: None) -> None:
    records = service.list_slos(session)
    full = service.stored_statuses(session, records=records)
    by_key = {s.identity.key: s for s in summaries(session, burn_window="1h")}
    assert list(by_key) == sorted(r.key for r in records)
    for record in records:
        status, summary = full[record.id], by_key[record.key]
        assert summary.slo_id == record.id
        assert summary.evaluated_at == status.at
        assert summary.error == status.error
        assert summary.sli == status.sli
        assert summary.budget_remaining == status.error_budget_remaining
        # The same floats, not merely close ones.
        assert summary.burn == status.burn_rates.get("1h")
        assert summary.burn_rates() == status.burn_rates
        assert [(a.severity, a.long, a.short) for a in summary.firing] == [
            (a.severity, a.long, a.short) for a in status.alerts if a.firing
        ]
    availability = by_key["shop/availability"]
    assert availability.burn is not None and availability.burn > 14.4
    assert {a.severity for a in availability.firing} == {"page"}
    # Failing SLOs: the reason, no figures, no alerts.
    for key, mentions in ((FOREVER, "window"), (BROKEN, "stored spec is invalid: objective")):
        failing = by_key[key]
        assert failing.error is not None and mentions in failing.error
        assert (failing.sli, failing.budget_remaining, failing.burn, failing.firing) == (
            None,
            None,
            None,
            (),
        )
        assert failing.burn_rates() == {}
    # A spec that no longer parses is listed as written.
    broken = by_key[BROKEN].identity
    assert broken.problem is not None and broken.alert_windows == ()
    assert by_key["shop/availability"].identity.alert_windows == (
        timedelta(minutes=5),
        timedelta(minutes=30),
        timedelta(hours=1),
        timedelta(hours=2),
        timedelta(hours=6),
        timedelta(days=1),
        timedelta(days=3),
    )


def test_a_never_evaluated_slo_has_no_figures(session: Session, shop_events: None) -> None:
    [availability, latency] = summaries(session, burn_window="1h")
    assert (availability.identity.key, latency.identity.key) == (
        "shop/availability",
        "shop/latency",
    )
    assert availability.evaluated_at is None and availability.error is None
    assert (availability.sli, availability.burn, availability.burn_rates()) == (None, None, {})
    assert availability.identity.objective == 0.99 and availability.identity.window == "30d"


def test_summaries_take_three_queries_whatever_the_count(session: Session, evaluated: None) -> None:
    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", count)
    try:
        assert len(summaries(session, burn_window="1h")) == 4
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(statements) == 3


def test_an_edited_spec_is_read_afresh(session: Session, evaluated: None) -> None:
    def objective() -> float | None:
        [found] = [s for s in summaries(session, burn_window="1h") if s.identity.key == BROKEN]
        return found.identity.objective

    assert objective() == 2  # as written: the stored spec no longer parses
    record = session.query(SLORecord).filter_by(key=BROKEN).one()
    record.spec = unevaluable.spec("broken", objective=0.9)
    session.flush()  # same updated_at: the spec text alone tells the versions apart
    assert objective() == 0.9


def test_the_identity_cache_is_bounded() -> None:
    cache = IdentityCache(max_entries=2)
    spec = '{"name": "n", "objective": 0.99}'
    for slo_id in range(5):
        cache.get(slo_id, f"s/n{slo_id}", "s", f"n{slo_id}", AT, spec)
    assert len(cache) == 2
    cache.clear()
    assert len(cache) == 0
    assert len(IDENTITIES) <= IDENTITIES.max_entries
