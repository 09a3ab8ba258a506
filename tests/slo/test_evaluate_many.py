"""Evaluating many SLOs at once (``evaluate_many``): what ``evaluate_now`` gives each alone,
to the bit, from two queries whatever their number."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session

from tests.slo import unevaluable
from tests.slo.scenario import AT
from watchkeeper.core.series import EventSeries, to_unix_seconds
from watchkeeper.errors import WatchkeeperError
from watchkeeper.flows import specs as spec_flows
from watchkeeper.slo import service as slo_service
from watchkeeper.slo.buckets import stored_series
from watchkeeper.slo.exceptions import EvaluationFailed, NotEvaluable, TimeOutOfRange
from watchkeeper.specs import load_text

CATALOGUED = Path(__file__).resolve().parents[2] / "examples" / "openslo" / "search-datadog.yaml"

# Beside the scenario's ratio (30 d) and threshold (7 d) SLOs: a timeslice SLO, a calendar
# month, and a 1 d window (its grid keeps more minutes than hours), all on the request SLI.
MORE = """\
apiVersion: watchkeeper/v1
kind: ServiceLevels
service: shop
slos:
  - name: slices
    objective: 0.9
    window: 7d
    sli: {name: shop-requests, kind: timeslices, slice: 1h, slice_target: 0.95}
  - name: monthly
    objective: 0.995
    window: {calendar: month, timezone: Europe/Paris}
    sli: {name: shop-requests}
  - name: daily
    objective: 0.9
    window: 1d
    sli: {name: shop-requests}
    alerting:
      windows: [{severity: page, long: 1h, short: 5m, factor: 10}]
"""


@contextmanager
def counted(session: Session) -> Iterator[list[str]]:
    """The SQL statements the session runs inside the block."""
    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    engine = session.connection().engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def sums_of(series: object, at: datetime) -> tuple[list[float], list[float]]:
    """Sums over windows of many lengths ending at ``at`` (and slices across them)."""
    end = to_unix_seconds(at)
    starts = np.array([end - s for s in (60, 300, 3600, 7200, 86_400, 7 * 86_400, 40 * 86_400)])
    starts = np.concatenate([starts, np.arange(end - 8 * 86_400, end, 3600.0)])
    assert isinstance(series, EventSeries)
    good, total = series.sums(starts, np.full(starts.shape, end))
    return good.tolist(), total.tolist()


@pytest.fixture
def every_kind(session: Session, shop_events: None) -> None:
    """The scenario, the SLOs of MORE, two that cannot be evaluated, one whose SLI has no
    events registered, and a catalogued one."""
    spec_flows.apply(session, spec_set=load_text(MORE), now=AT)
    unevaluable.insert_both(session)
    unevaluable.insert(session, "unregistered", unevaluable.spec("unregistered", sli={"name": "x"}))
    spec_flows.apply(session, spec_set=load_text(CATALOGUED.read_text()), now=AT)


def test_each_slo_as_evaluate_now_gives_it(session: Session, every_kind: None) -> None:
    records = slo_service.list_slos(session)
    assert len(records) == 9
    many = slo_service.evaluate_many(session, records=records[::-1], at=AT)
    assert list(many) == [r.key for r in records[::-1]]  # in the order asked
    kinds: dict[str, str] = {}
    for record in records:
        outcome = many[record.key]
        try:
            alone = slo_service.evaluate_now(session, key=record.key, at=AT)
        except WatchkeeperError as exc:
            assert isinstance(outcome, WatchkeeperError), record.key
            assert (type(outcome), outcome.detail) == (type(exc), exc.detail)
            kinds[record.key] = type(exc).__name__
            continue
        assert not isinstance(outcome, WatchkeeperError), record.key
        assert outcome.status == alone.status  # every float the same
        assert (outcome.record, outcome.slo) == (alone.record, alone.slo)
        assert sums_of(outcome.series, AT) == sums_of(alone.series, AT)
        assert isinstance(outcome.series, EventSeries)
        assert isinstance(alone.series, EventSeries)
        assert outcome.series.times.tolist() == alone.series.times.tolist()
        kinds[record.key] = "evaluated"
    assert kinds == {
        "shop/availability": "evaluated",
        "shop/latency": "evaluated",
        "shop/slices": "evaluated",
        "shop/monthly": "evaluated",
        "shop/daily": "evaluated",
        "shop/unregistered": "evaluated",  # no SLI row: no data
        "shop/forever": EvaluationFailed.__name__,
        "shop/broken": EvaluationFailed.__name__,
        "search/search-success": NotEvaluable.__name__,
    }
    assert many["shop/availability"].status.error_budget_remaining == pytest.approx(0.5)  # type: ignore[union-attr]


def test_two_queries_however_many_slos(session: Session, every_kind: None) -> None:
    records = slo_service.list_slos(session)
    one = [slo_service.get(session, key="shop/availability")]
    for chosen in (one, records):
        with counted(session) as statements:
            many = slo_service.evaluate_many(session, records=chosen, at=AT)
        assert len(statements) == 2, statements  # SLI ids, then every bucket
        assert not isinstance(many["shop/availability"], WatchkeeperError)


def test_a_time_out_of_range_fails_every_slo(session: Session, every_kind: None) -> None:
    records = slo_service.list_slos(session)
    many = slo_service.evaluate_many(session, records=records, at=AT.replace(year=1))
    assert {type(outcome) for outcome in many.values()} == {TimeOutOfRange}
    assert len(many) == len(records)


def test_nothing_to_evaluate(session: Session) -> None:
    with counted(session) as statements:
        assert slo_service.evaluate_many(session, records=[], at=AT) == {}
        assert stored_series(session, [], AT) == []
    assert statements == []


def test_stored_series_are_the_buckets_series_for_reads(session: Session, every_kind: None) -> None:
    slos = [
        slo_service.to_core(slo_service.get(session, key=f"shop/{name}"))
        for name in ("availability", "latency", "slices", "monthly", "daily", "unregistered")
    ]
    for at in (AT, AT + timedelta(minutes=1, seconds=30), AT - timedelta(days=2, hours=5)):
        together = stored_series(session, slos, at)
        for slo, series in zip(slos, together, strict=True):
            alone = slo_service.series_for(session, slo=slo, at=at)
            assert series.times.tolist() == alone.times.tolist(), slo.key
            assert sums_of(series, at) == sums_of(alone, at), slo.key
