"""Incident lifecycle rules and response metrics, with numbers worked out by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from watchkeeper.core.incident import (
    IncidentStatus,
    IncidentTimes,
    SeverityTargets,
    budget_burned,
    burn_rate,
    grouped,
    in_period,
    resolution_breached,
    response_breached,
    summarize,
    transition_problem,
    uptime_gaps,
)

T0 = datetime(2026, 1, 1, tzinfo=UTC)
M = timedelta(minutes=1)
H = timedelta(hours=1)
TARGETS = {
    "SEV1": SeverityTargets("SEV1", 1, response=5 * M, resolution=4 * H),
    "SEV2": SeverityTargets("SEV2", 2, response=15 * M, resolution=8 * H),
}

# checkout SEV1: impact at T0, declared 2 minutes later, acknowledged 3 minutes after that,
# resolved after 1 hour: within both targets.
A = IncidentTimes("checkout", "SEV1", T0 + 2 * M, T0, T0 + 5 * M, T0 + H)
# checkout SEV2: acknowledged after 20 minutes (> 15m) and resolved after 10 hours (> 8h).
B = IncidentTimes("checkout", "SEV2", T0 + 10 * H, T0 + 10 * H, T0 + 10 * H + 20 * M, T0 + 20 * H)
# search SEV1: never acknowledged, still open at NOW (22 hours in): both targets breached.
C = IncidentTimes("search", "SEV1", T0 + 2 * H, T0 + 2 * H)
NOW = T0 + 24 * H


@pytest.mark.parametrize(
    ("current", "target", "problem"),
    [
        ("investigating", "identified", None),
        ("identified", "monitoring", None),
        ("monitoring", "identified", None),  # the fix did not hold: back is allowed
        ("monitoring", "investigating", None),
        ("investigating", "resolved", None),
        ("identified", "identified", "already identified"),
        ("resolved", "investigating", "reopen it first"),
        ("resolved", "monitoring", "reopen it first"),
    ],
)
def test_transitions(current: str, target: str, problem: str | None) -> None:
    found = transition_problem(IncidentStatus(current), IncidentStatus(target))
    if problem is None:
        assert found is None
    else:
        assert found is not None and problem in found


def test_summary_of_three_incidents() -> None:
    metrics = summarize([A, B, C], TARGETS, now=NOW)
    assert (metrics.count, metrics.open, metrics.acknowledged, metrics.resolved) == (3, 1, 2, 2)
    assert metrics.mtta == (3 * M + 20 * M) / 2  # 11.5 minutes, from declaration
    assert metrics.mttr == (1 * H + 10 * H) / 2  # 5.5 hours, from impact start
    assert metrics.mtbf == 9 * H  # checkout: up from T0+1h to T0+10h; search has one outage
    assert metrics.response_breaches == 2  # B (20m > 15m) and C (open 22h > 5m)
    assert metrics.resolution_breaches == 2  # B (10h > 8h) and C (open 22h > 4h)


def test_nothing_measured_is_none() -> None:
    metrics = summarize([C], TARGETS, now=NOW)
    assert (metrics.mtta, metrics.mttr, metrics.mtbf) == (None, None, None)
    empty = summarize([], TARGETS, now=NOW)
    assert (empty.count, empty.mtta, empty.response_breaches) == (0, None, 0)


def test_incidents_without_a_service_have_no_time_between_them() -> None:
    first = IncidentTimes(None, "SEV1", T0, T0, T0, T0 + H)
    later = IncidentTimes(None, "SEV1", T0 + 5 * H, T0 + 5 * H, T0 + 5 * H, T0 + 6 * H)
    metrics = summarize([first, later], TARGETS, now=NOW)
    assert (metrics.count, metrics.mtbf) == (2, None)
    assert summarize([A, B, first, later], TARGETS, now=NOW).mtbf == 9 * H  # checkout's only


def test_resolved_unacknowledged_is_counted_apart_from_mtta() -> None:
    # Resolved 10 and 30 minutes after declaration, never acknowledged: no MTTA sample; the
    # resolution counts as the response for SEV2's 15-minute target (late breaches it).
    quiet = IncidentTimes("api", "SEV2", T0, T0, None, T0 + 10 * M)
    late = IncidentTimes("api", "SEV2", T0, T0, None, T0 + 30 * M)
    metrics = summarize([A, quiet, late], TARGETS, now=NOW)
    assert metrics.mtta == 3 * M  # A's acknowledgement only
    assert (metrics.acknowledged, metrics.resolved_unacknowledged) == (1, 2)
    assert metrics.response_breaches == 1  # late: resolved 30m after declaration > 15m


def test_unknown_severity_has_no_targets() -> None:
    odd = IncidentTimes("checkout", "SEV9", T0, T0)
    assert summarize([odd], TARGETS, now=NOW).response_breaches == 0


def test_grouped_by_service_and_severity() -> None:
    by_service = grouped([A, B, C], TARGETS, key=lambda i: i.service, now=NOW)
    assert by_service["checkout"].mtta == 11.5 * M
    assert by_service["checkout"].mtbf == 9 * H
    assert by_service["search"].open == 1
    by_severity = grouped([A, B, C], TARGETS, key=lambda i: i.severity, now=NOW)
    assert by_severity["SEV1"].count == 2
    # A and C are on different services: no gap between them counts as uptime.
    assert by_severity["SEV1"].mtbf is None
    assert by_severity["SEV2"].mttr == 10 * H


@pytest.mark.parametrize(
    ("spans", "gaps"),
    [
        ([(0, 1)], []),
        ([(0, 1), (3, 4)], [2]),
        ([(0, 2), (1, 3), (5, 6)], [2]),  # overlapping incidents are one outage
        ([(5, 6), (0, 1)], [4]),  # order does not matter
        ([(0, None), (3, 4)], []),  # still open at NOW: later ones fall inside the outage
        ([(0, 1), (1, 2)], []),  # back to back: no uptime between them
    ],
)
def test_uptime_gaps(spans: list[tuple[int, int | None]], gaps: list[int]) -> None:
    incidents = [
        IncidentTimes("s", "SEV1", T0 + a * H, T0 + a * H, None, None if b is None else T0 + b * H)
        for a, b in spans
    ]
    assert uptime_gaps(incidents, NOW) == [g * H for g in gaps]


def test_breach_boundaries() -> None:
    exactly = IncidentTimes("s", "SEV1", T0, T0, T0 + 5 * M, T0 + 4 * H)
    assert not response_breached(exactly, 5 * M, NOW)  # at the target is within it
    assert not resolution_breached(exactly, 4 * H, NOW)
    assert response_breached(exactly, 4 * M, NOW)
    assert not response_breached(exactly, None, NOW)
    waiting = IncidentTimes("s", "SEV1", T0, T0)
    assert response_breached(waiting, 5 * M, T0 + 6 * M)
    assert not response_breached(waiting, 5 * M, T0 + 4 * M)


def test_in_period_by_impact_start() -> None:
    assert in_period([A, B, C], since=T0 + H, until=T0 + 10 * H) == [C]
    assert in_period([A, B, C], since=T0, until=T0 + 10 * H + M) == [A, B, C]


@pytest.mark.parametrize(
    ("bad", "window_total", "objective", "burned"),
    [
        # The reviewer's night incident: 99.9 %, 30 days at 1000 events/h on average
        # (720,000 in the window), 100 bad events in one quiet hour: 100 / 720 = 13.9 %,
        # not the 138.9 % that scaling the hour's burn rate by 1h/720h would claim.
        (100, 720_000, 0.999, 100 / 720),
        (5, 100_000, 0.99, 5 / 1000),
        (0, 1000, 0.99, 0.0),
        # As many bad events as the window allows spends exactly the budget.
        (720, 720_000, 0.999, 1.0),
        (0, 0, 0.99, None),  # no events in the window: no figure
    ],
)
def test_budget_burned(
    bad: float, window_total: float, objective: float, burned: float | None
) -> None:
    found = budget_burned(bad=bad, window_total=window_total, objective=objective)
    if burned is None:
        assert found is None
    else:
        assert found == pytest.approx(burned, rel=1e-12)


@pytest.mark.parametrize(
    ("bad", "total", "objective", "rate"),
    [(100, 100, 0.999, 1000.0), (70, 1000, 0.99, 7.0), (0, 10, 0.99, 0.0), (0, 0, 0.99, None)],
)
def test_burn_rate(bad: float, total: float, objective: float, rate: float | None) -> None:
    found = burn_rate(bad=bad, total=total, objective=objective)
    assert found == (None if rate is None else pytest.approx(rate))


spans = st.lists(st.tuples(st.integers(0, 1000), st.integers(0, 100)), min_size=1, max_size=20)


@given(spans)
def test_outages_and_gaps_cover_the_whole_span(raw: list[tuple[int, int]]) -> None:
    """Merged outage time plus uptime gaps equals first start to last end."""
    incidents = [
        IncidentTimes("s", "SEV1", T0 + start * M, T0 + start * M, None, T0 + (start + d) * M)
        for start, d in raw
    ]
    gaps = uptime_gaps(incidents, NOW)
    assert all(gap > timedelta() for gap in gaps)
    # Naive recomputation: a minute is down when any incident covers it.
    down = {m for start, d in raw for m in range(start, start + d)}
    first, last = min(s for s, _ in raw), max(s + d for s, d in raw)
    uptime = sum((M for m in range(first, last) if m not in down), timedelta())
    assert sum(gaps, timedelta()) == uptime
