"""The evaluation tick: incremental reads, stored figures, alert transitions, history, reloads."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.slo import scenario
from tests.slo.scenario import AT
from watchkeeper.events import service as events_service
from watchkeeper.events.models import SLIBucket
from watchkeeper.flows import specs as spec_flows
from watchkeeper.flows.specs import ApplyResult
from watchkeeper.slo import repository, service
from watchkeeper.slo.evaluator import Evaluator
from watchkeeper.slo.models import AlertState, SLOHistory
from watchkeeper.slo.schemas import SLOStatusRead, status_read
from watchkeeper.specs import load_paths, load_text

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
MINUTE = timedelta(minutes=1)
API_SPEC = """\
apiVersion: watchkeeper/v1
kind: SLO
service: api
name: availability
objective: 0.99
window: 30d
sli: {name: api-requests}
"""


def stored(session: Session, key: str) -> SLOStatusRead:
    # The tick writes with Core statements: objects this long-lived test session loaded
    # earlier are refreshed (each worker tick and API request has its own session).
    session.expire_all()
    status = service.stored_status(session, record=service.get(session, key=key))
    assert status is not None, key
    return status


def fresh(session: Session, key: str, at: datetime) -> SLOStatusRead:
    evaluation = service.evaluate_now(session, key=key, at=at)
    return status_read(evaluation.slo, evaluation.status)


def close(actual: float | None, expected: float | None) -> bool:
    """Equal up to float summation order; None (no data) only equals None."""
    if actual is None or expected is None:
        return actual is expected
    return actual == pytest.approx(expected, rel=1e-12, abs=1e-15)


def alerts(status: SLOStatusRead) -> list[tuple[str, str, str, float, bool]]:
    return [(a.severity, a.long, a.short, a.factor, a.firing) for a in status.alerts]


def assert_same_figures(actual: SLOStatusRead, expected: SLOStatusRead) -> None:
    """The figures a tick stores (stored documents have no forecasts, fresh ones no since)."""
    assert (actual.good, actual.total) == (expected.good, expected.total), actual.key
    assert alerts(actual) == alerts(expected), actual.key
    assert close(actual.sli, expected.sli), (actual.key, "sli")
    assert close(actual.error_budget_remaining, expected.error_budget_remaining), actual.key
    assert actual.burn_rates.keys() == expected.burn_rates.keys(), actual.key
    for window, rate in expected.burn_rates.items():
        assert close(actual.burn_rates[window], rate), (actual.key, window)
    assert actual.slis.keys() == expected.burn_rates.keys(), actual.key
    for window, value in expected.slis.items():
        assert close(actual.slis[window], value), (actual.key, "sli", window)
    if expected.exhaustion_at is None or actual.exhaustion_at is None:
        assert actual.exhaustion_at is expected.exhaustion_at, actual.key
    else:
        gap = abs(actual.exhaustion_at - expected.exhaustion_at)
        assert gap < timedelta(milliseconds=1), actual.key


def bucket_count(session: Session, resolution: int) -> int:
    query = select(func.count()).select_from(SLIBucket).where(SLIBucket.resolution == resolution)
    return int(session.scalar(query) or 0)


def test_first_tick_loads_and_later_ticks_read_only_changed_buckets(
    session: Session, shop_events: None
) -> None:
    evaluator = Evaluator()
    first = evaluator.tick(session, now=AT)
    assert (first.reloaded, first.evaluated, first.changed_buckets) == (True, 2, 0)
    assert stored(session, "shop/availability").total == 20000.0
    # The scenario's 13 buckets were written at AT; reads overlap the last one by 60 s, so
    # they come again (harmlessly: counts are totals) until the read point passes AT + 60 s.
    again = evaluator.tick(session, now=AT + MINUTE)
    assert (again.reloaded, again.changed_buckets) == (False, 13)
    quiet = evaluator.tick(session, now=AT + 3 * MINUTE)
    assert quiet.changed_buckets == 13  # read from AT + 1m - 60 s = AT: still includes AT
    quiet = evaluator.tick(session, now=AT + 5 * MINUTE)
    assert quiet.changed_buckets == 0
    # New events written now are folded in by the next tick, without a reload.
    moment = (AT + 5 * MINUTE).timestamp()
    events_service.ingest(
        session,
        [{"time": moment + 30, "sli": "shop-requests", "good": 7, "total": 9}],
        now=AT + 6 * MINUTE,
    )
    report = evaluator.tick(session, now=AT + 6 * MINUTE)
    assert (report.reloaded, report.changed_buckets) == (False, 1)
    status = stored(session, "shop/availability")
    # [AT + 6m - 30d, AT + 6m): the AT - 30d row has left, the AT row (0/1000) and the new
    # one (7/9) are in: 19900 - 9935 + 7 good of 20000 - 10000 + 1000 + 9.
    assert (status.good, status.total) == (9972.0, 11009.0)
    assert status.at == AT + 6 * MINUTE
    assert_same_figures(status, fresh(session, "shop/availability", AT + 6 * MINUTE))


def test_an_evaluator_without_slos_does_nothing(session: Session) -> None:
    report = Evaluator().tick(session, now=AT)
    assert (report.reloaded, report.evaluated, report.transitions) == (True, 0, [])


def test_alert_transitions_when_a_burn_starts_and_stops(session: Session) -> None:
    spec_flows.apply(session, spec_set=load_text(API_SPEC), now=AT - timedelta(hours=2))
    moment = int(AT.timestamp())
    healthy = [
        {"time": moment - 60 * m, "sli": "api-requests", "good": 100, "total": 100}
        for m in range(1, 61)
    ]
    events_service.ingest(session, healthy, now=AT)
    evaluator = Evaluator()
    first = evaluator.tick(session, now=AT)
    assert first.transitions == []
    record = service.get(session, key="api/availability")
    states = repository.alert_states(session, [record.id])
    assert [(s.severity, s.long_seconds, s.firing) for s in states] == [
        ("page", 3600, False),
        ("page", 21600, False),
        ("ticket", 86400, False),
        ("ticket", 259200, False),
    ]
    # A burst of 3000 failures at AT. At AT + 2m:
    #   5m  [AT - 3m, AT + 2m): 3000 bad of 300 + 3000 -> burn 0.909 / 0.01 = 90.9
    #   1h  [AT - 58m, AT + 2m): 3000 of 5800 + 3000   -> burn 34.1 > 14.4
    #   30m, 2h, 6h, 1d, 3d all hold the burst and at most 6000 good: burn >= 33 > 6, 3, 1
    # so every alert starts firing.
    events_service.ingest(
        session, [{"time": moment, "sli": "api-requests", "good": 0, "total": 3000}], now=AT
    )
    burning = evaluator.tick(session, now=AT + 2 * MINUTE)
    assert [
        (t.severity, t.long_seconds, t.short_seconds, t.firing) for t in burning.transitions
    ] == [
        ("page", 3600, 300, True),
        ("page", 21600, 1800, True),
        ("ticket", 86400, 7200, True),
        ("ticket", 259200, 21600, True),
    ]
    page = burning.transitions[0]
    assert page.at == AT + 2 * MINUTE
    assert page.factor == pytest.approx(14.4)
    assert page.long_burn_rate == pytest.approx(3000 / 8800 / 0.01)
    assert page.short_burn_rate == pytest.approx(3000 / 3300 / 0.01)
    # Nothing changes while the burn holds: no new transitions.
    assert evaluator.tick(session, now=AT + 3 * MINUTE).transitions == []
    # Healthy minutes from AT + 1m on: at AT + 7m the 5m window [AT + 2m, AT + 7m) has no
    # failure (burn 0), so the fast page alert stops; every other short window still holds
    # the burst.
    events_service.ingest(
        session,
        [
            {"time": moment + 60 * m, "sli": "api-requests", "good": 100, "total": 100}
            for m in range(1, 10)
        ],
        now=AT + 7 * MINUTE,
    )
    resolved = evaluator.tick(session, now=AT + 7 * MINUTE)
    session.expire_all()  # the tick updates alert states with Core statements
    assert [(t.severity, t.long_seconds, t.firing) for t in resolved.transitions] == [
        ("page", 3600, False)
    ]
    assert resolved.transitions[0].short_burn_rate == 0.0
    states = {s.long_seconds: s for s in repository.alert_states(session, [record.id])}
    assert (states[3600].firing, states[3600].since) == (False, AT + 7 * MINUTE)
    assert (states[21600].firing, states[21600].since) == (True, AT + 2 * MINUTE)
    # Newest first (ties by insertion order, newest first).
    history = repository.transitions(session, record.id, limit=10)
    assert [(t.long_seconds, t.firing, t.at) for t in history] == [
        (3600, False, AT + 7 * MINUTE),
        (259200, True, AT + 2 * MINUTE),
        (86400, True, AT + 2 * MINUTE),
        (21600, True, AT + 2 * MINUTE),
        (3600, True, AT + 2 * MINUTE),
    ]


def test_history_is_kept_at_the_configured_cadence(session: Session, shop_events: None) -> None:
    evaluator = Evaluator(history_interval=timedelta(minutes=2))
    for minutes in range(5):
        evaluator.tick(session, now=AT + minutes * MINUTE)
    record = service.get(session, key="shop/latency")
    times = session.scalars(
        select(SLOHistory.at).where(SLOHistory.slo_id == record.id).order_by(SLOHistory.at)
    ).all()
    assert times == [AT, AT + 2 * MINUTE, AT + 4 * MINUTE]
    # The latest status is overwritten every tick: one row, the newest instant.
    assert stored(session, "shop/latency").at == AT + 4 * MINUTE


def test_reapplied_slos_are_reloaded(session: Session, shop_events: None) -> None:
    evaluator = Evaluator()
    evaluator.tick(session, now=AT)
    before = stored(session, "shop/availability")
    assert evaluator.tick(session, now=AT + MINUTE).reloaded is False
    # A stricter objective and a single custom page alert for availability.
    changed = scenario.SPEC.replace(
        "    objective: 0.99\n    window: 30d\n",
        "    objective: 0.995\n    window: 30d\n"
        "    alerting: {windows: [{severity: page, long: 1h, short: 5m, factor: 10}]}\n",
    )
    result = spec_flows.apply(session, spec_set=load_text(changed), now=AT + MINUTE)
    assert result.updated == ["shop/availability"]
    report = evaluator.tick(session, now=AT + 2 * MINUTE)
    assert report.reloaded is True
    after = stored(session, "shop/availability")
    assert after.objective == 0.995
    assert after.error_budget_remaining != pytest.approx(before.error_budget_remaining)
    # The alert windows no longer configured are gone; the one left is re-evaluated.
    assert [(a.severity, a.long, a.short) for a in after.alerts] == [("page", "1h", "5m")]
    refreshed = fresh(session, "shop/availability", AT + 2 * MINUTE)
    assert [a.firing for a in after.alerts] == [a.firing for a in refreshed.alerts] == [True]
    assert (after.good, after.total) == (refreshed.good, refreshed.total)
    assert close(after.error_budget_remaining, refreshed.error_budget_remaining)
    # A new SLO is picked up, a deleted one dropped.
    spec_flows.apply(session, spec_set=load_text(API_SPEC), now=AT + 2 * MINUTE)
    assert evaluator.tick(session, now=AT + 3 * MINUTE).evaluated == 3
    service.delete(session, key="shop/latency")
    assert evaluator.tick(session, now=AT + 4 * MINUTE).evaluated == 2


CUSTOM_PAGE = scenario.SPEC.replace(
    "    window: 30d\n",
    "    window: 30d\n"
    "    alerting: {windows: [{severity: page, long: 1h, short: 5m, factor: 10}]}\n",
)


def test_a_changed_factor_is_stored_when_the_alert_keeps_firing(
    session: Session, shop_events: None
) -> None:
    evaluator = Evaluator()
    evaluator.tick(session, now=AT)
    assert stored(session, "shop/availability").alerts[0].factor == pytest.approx(14.4)
    # Same page window, factor 10: the 1h burn of 20 still exceeds it, so no transition.
    spec_flows.apply(session, spec_set=load_text(CUSTOM_PAGE), now=AT + MINUTE)
    report = evaluator.tick(session, now=AT + MINUTE)
    assert report.transitions == []
    [page] = stored(session, "shop/availability").alerts
    assert page.firing is True
    assert page.factor == 10.0


def old_minutes(at_seconds: int, seed: int = 3) -> list[dict[str, object]]:
    """Minute events 4.5 to 6 days before AT, several per hour, some bad."""
    rng = random.Random(seed)
    rows: list[dict[str, object]] = []
    for minute in range(0, 36 * 60, 7):
        total = rng.randint(50, 150)
        rows.append(
            {
                "time": at_seconds - 6 * 86_400 + 60 * minute,
                "sli": "shop-requests",
                "good": total - rng.randint(0, 3),
                "total": total,
            }
        )
    return rows


def test_compacted_hour_rows_are_folded_without_changing_the_figures(
    session: Session, shop_events: None
) -> None:
    events_service.ingest(session, old_minutes(int(AT.timestamp())), now=AT)
    evaluator = Evaluator()
    evaluator.tick(session, now=AT)
    before = {key: stored(session, key) for key in ("shop/availability", "shop/latency")}
    minutes_before = bucket_count(session, 60)
    result = events_service.compact(
        session, now=AT, minute_retention=timedelta(days=4), hour_retention=timedelta(days=400)
    )
    assert result.folded > 0 and result.hour_buckets > 0
    assert bucket_count(session, 60) == minutes_before - result.folded
    assert bucket_count(session, 3600) == result.hour_buckets
    report = evaluator.tick(session, now=AT)
    assert report.reloaded is False
    assert report.changed_buckets >= result.hour_buckets  # the hour rows were read
    for key, status in before.items():
        assert_same_figures(stored(session, key), status)
    # A fresh evaluator (loading hour rows) and a fresh evaluation agree.
    Evaluator().tick(session, now=AT)
    assert_same_figures(stored(session, "shop/availability"), before["shop/availability"])
    assert_same_figures(fresh(session, "shop/availability", AT), before["shop/availability"])


def test_late_events_older_than_the_minute_ring_are_counted_once(
    session: Session, shop_events: None
) -> None:
    moment = int(AT.timestamp())
    old = [{"time": moment - 5 * 86_400 + 120, "sli": "shop-requests", "good": 40, "total": 50}]
    events_service.ingest(session, old, now=AT)
    events_service.compact(
        session, now=AT, minute_retention=timedelta(days=4), hour_retention=timedelta(days=400)
    )
    evaluator = Evaluator()
    evaluator.tick(session, now=AT)
    assert stored(session, "shop/availability").total == 20050.0
    # Another late event in that already-compacted hour: a minute row beside the hour row.
    late = [{"time": moment - 5 * 86_400 + 600, "sli": "shop-requests", "good": 1, "total": 5}]
    events_service.ingest(session, late, now=AT + MINUTE)
    evaluator.tick(session, now=AT + MINUTE)
    status = stored(session, "shop/availability")
    # AT + 1m drops the AT - 30d row (10000) and adds the AT row (1000): 20050 - 9000 + 5.
    assert status.total == 11055.0
    assert_same_figures(status, fresh(session, "shop/availability", AT + MINUTE))


def test_tick_results_equal_a_fresh_evaluation_of_each_slo(session: Session) -> None:
    spec_set = load_paths(
        [EXAMPLES / "checkout.yaml", EXAMPLES / "checkout-policy.yaml", EXAMPLES / "sloth"]
    )
    spec_flows.apply(session, spec_set=spec_set, now=AT - timedelta(days=40))
    spec_flows.apply(session, spec_set=load_text(scenario.SPEC), now=AT - timedelta(days=40))
    events_service.ingest(session, scenario.event_rows(), now=AT)
    rng = random.Random(5)
    moment = int(AT.timestamp())
    requests, latency = [], []
    # Ten days of checkout traffic every 13 minutes, denser and worse in the last two hours.
    for minute in range(0, 10 * 1440, 13):
        total = rng.randint(20, 200)
        requests.append(
            {
                "time": moment - 60 * minute - rng.randint(0, 59),
                "sli": "checkout-requests",
                "good": total - (rng.randint(0, total // 3) if minute < 120 else rng.randint(0, 1)),
                "total": total,
            }
        )
        latency.append(
            {"time": moment - 60 * minute, "sli": "checkout-latency", "value": rng.uniform(0, 0.5)}
        )
    events_service.ingest(session, requests + latency, now=AT)
    # Not on a minute boundary: both paths must round windows to buckets the same way.
    when = AT + timedelta(minutes=17, seconds=23)
    report = Evaluator().tick(session, now=when)
    watchkeeper_slos = [s.key for s in spec_set.slos if s.sli.source.value == "watchkeeper"] + [
        "shop/availability",
        "shop/latency",
    ]
    assert report.evaluated == len(watchkeeper_slos) == 5
    for key in watchkeeper_slos:
        assert_same_figures(stored(session, key), fresh(session, key, when))
    # The Prometheus-backed SLOs get no stored status.
    for slo in spec_set.slos:
        if slo.sli.source.value == "prometheus":
            record = service.get(session, key=slo.key)
            assert service.stored_status(session, record=record) is None
    # Four alert states per evaluated SLO, also for good-minutes' disabled ticket severity
    # (whether to notify is decided later; the figures are kept), and as many for each
    # Prometheus SLO, whose tick runs after this one (slo/source_evaluator.py).
    prometheus = sum(s.sli.source.value == "prometheus" for s in spec_set.slos)
    assert prometheus
    assert session.scalar(select(func.count()).select_from(AlertState)) == (5 + prometheus) * 4


def test_compaction_keeps_minutes_the_evaluator_still_reads(
    session: Session, shop: ApplyResult
) -> None:
    # The evaluator's minute ring spans 3 d + 2 h, inside the 4 d minute retention.
    assert Evaluator().minute_span == timedelta(days=3, hours=2)
    evaluator = Evaluator()
    evaluator.tick(session, now=AT)
    assert evaluator.minute_span == timedelta(days=3, hours=2)
    assert evaluator.minute_span < timedelta(days=4)


LONG_WINDOW_SPEC = """\
apiVersion: watchkeeper/v1
kind: ServiceLevels
service: batch
slos:
  - name: jobs
    objective: 0.99
    window: 30d
    sli: {name: batch-jobs}
    alerting:
      windows:
        - {severity: ticket, long: 7d, short: 12h, budget_percent: 20}
"""


def test_hour_buckets_inside_a_longer_minute_range_still_count(session: Session) -> None:
    # Data compacted to hours under the default 4 d retention, then an SLO whose 7 d alert
    # window makes the evaluator keep minutes for 7 d: the hours must still be counted.
    events_service.register_slis(session, [load_text(LONG_WINDOW_SPEC).slos[0].sli], now=AT)
    five_days_ago = int((AT - timedelta(days=5)).timestamp()) // 3600 * 3600
    events_service.ingest(
        session,
        [
            {"time": five_days_ago + 60 * i, "sli": "batch-jobs", "good": 9, "total": 10}
            for i in range(30)
        ],
        now=AT,
    )
    events_service.compact(
        session, now=AT, minute_retention=timedelta(days=4), hour_retention=timedelta(days=400)
    )
    assert session.scalar(select(func.count()).select_from(SLIBucket)) == 1  # one hour row
    spec_flows.apply(session, spec_set=load_text(LONG_WINDOW_SPEC), now=AT)
    evaluator = Evaluator()
    evaluator.tick(session, now=AT)
    assert evaluator.minute_span >= timedelta(days=7)
    status = stored(session, "batch/jobs")
    # 30 minutes of 10 events, 1 bad each: 300 events, 30 bad, all inside the 7 d window.
    assert (status.good, status.total) == (270, 300)
    assert status.burn_rates["7d"] == (30 / 300) / (1 - 0.99)
    assert_same_figures(status, fresh(session, "batch/jobs", AT))


def test_buckets_stamped_ahead_of_the_worker_count_when_their_minute_arrives(
    session: Session,
) -> None:
    spec_flows.apply(session, spec_set=load_text(scenario.SPEC), now=AT)
    evaluator = Evaluator()
    evaluator.tick(session, now=AT)
    ahead = int(AT.timestamp()) // 60 * 60 + 180  # three minutes ahead of the worker's clock
    events_service.ingest(
        session, [{"time": ahead, "sli": "shop-requests", "good": 7, "total": 10}], now=AT
    )
    evaluator.tick(session, now=AT + timedelta(seconds=30))
    early = stored(session, "shop/availability").total
    evaluator.tick(session, now=AT + timedelta(minutes=2))  # still ahead; re-read by overlap
    evaluator.tick(session, now=AT + timedelta(minutes=4))
    # Not read again as a change by then (written 4 minutes earlier), yet counted.
    assert stored(session, "shop/availability").total == early + 10
