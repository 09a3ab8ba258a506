"""Evaluating one SLO: hand-worked scenarios, then properties against naive recomputation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from watchkeeper.core.evaluation import (
    AlertStatus,
    SLOStatus,
    WindowCounts,
    budget_consumed_per_day,
    burn_windows,
    evaluate,
)
from watchkeeper.core.forecast import Forecast
from watchkeeper.core.series import CountSource, EventSeries, FloatArray, to_unix_seconds
from watchkeeper.core.slo import (
    SLI,
    SLO,
    Alerting,
    AlertTarget,
    AlertWindow,
    CalendarUnit,
    CalendarWindow,
    MaintenanceWindow,
    RollingWindow,
    Severity,
    SLIKind,
)
from watchkeeper.core.windows import REPORTED_BURN_WINDOWS, default_alert_windows

FAST = settings(max_examples=50, deadline=None)
AT = datetime(2024, 3, 1, tzinfo=UTC)
MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
THIRTY_DAYS = RollingWindow(timedelta(days=30))


class CountingSource:
    """Counts ``sums`` calls: evaluation must ask for all its windows at once."""

    def __init__(self, inner: CountSource) -> None:
        self.inner = inner
        self.calls = 0

    def sums(self, starts: FloatArray, ends: FloatArray) -> tuple[FloatArray, FloatArray]:
        self.calls += 1
        return self.inner.sums(starts, ends)


def _series(rows: list[tuple[datetime, float, float]]) -> EventSeries:
    """Buckets of (time, good, total)."""
    return EventSeries.from_counts(
        [to_unix_seconds(t) for t, _, _ in rows],
        [good for _, good, _ in rows],
        [total for _, _, total in rows],
    )


def _slo(objective: float, **changes: object) -> SLO:
    fields: dict[str, object] = {
        "service": "checkout",
        "name": "availability",
        "sli": SLI("requests"),
        "objective": objective,
        "window": THIRTY_DAYS,
    }
    fields.update(changes)
    return SLO(**fields)  # type: ignore[arg-type]


def _firing(status: SLOStatus) -> list[tuple[Severity, timedelta, bool]]:
    return [(a.severity, a.long, a.firing) for a in status.alerts]


def test_thirty_days_500_bad_in_a_million_leaves_half_the_budget() -> None:
    # One bucket 10 days ago: 999,500 good of 1,000,000. SLI 0.9995; 500 / 1e6 = 0.0005 of a
    # 0.001 budget is half of it, so 0.5 remains. Nothing in the last 3 days: no burn rates.
    status = evaluate(_slo(0.999), _series([(AT - 10 * DAY, 999_500, 1_000_000)]), AT)
    assert status.slo_key == "checkout/availability"
    assert (status.at, status.window_start) == (AT, AT - timedelta(days=30))
    assert (status.good, status.total) == (999_500, 1_000_000)
    assert status.sli == 0.9995
    assert status.error_budget_remaining == pytest.approx(0.5, rel=1e-12)
    assert tuple(status.burn_rates) == REPORTED_BURN_WINDOWS
    assert set(status.burn_rates.values()) == {None}
    assert set(status.window_counts.values()) == {WindowCounts(0, 0)}
    assert [a.firing for a in status.alerts] == [False] * 4
    assert all(a.long_burn_rate is None and a.short_burn_rate is None for a in status.alerts)
    assert status.exhaustion_at is None
    assert [f.basis for f in status.forecasts] == [HOUR, 6 * HOUR, DAY]
    assert all(f == Forecast(f.basis, None, None, None) for f in status.forecasts)


def test_window_is_half_open() -> None:
    # The start instant is in the window, ``at`` itself and anything before the start are not.
    rows = [
        (AT - timedelta(days=30), 1, 1),
        (AT - timedelta(days=30, microseconds=1), 0, 1),
        (AT, 0, 1),
        (AT - 5 * MINUTE, 0, 1),  # the 5 m window starts exactly here: included
    ]
    status = evaluate(_slo(0.75), _series(rows), AT)
    assert (status.good, status.total) == (1, 2)
    assert status.window_counts[5 * MINUTE] == WindowCounts(0, 1)
    assert status.window_counts[5 * MINUTE].bad == 1


def test_no_data_at_all() -> None:
    status = evaluate(_slo(0.99), EventSeries.empty(), AT)
    assert (status.good, status.total) == (0, 0)
    assert status.sli is None
    assert status.error_budget_remaining is None
    assert status.exhaustion_at is None
    assert not any(a.firing for a in status.alerts)


PAGE_1H, PAGE_6H = (Severity.PAGE, HOUR, False), (Severity.PAGE, 6 * HOUR, False)
TICKET_1D, TICKET_3D = (Severity.TICKET, DAY, False), (Severity.TICKET, 3 * DAY, False)


def _fires(entry: tuple[Severity, timedelta, bool]) -> tuple[Severity, timedelta, bool]:
    return (entry[0], entry[1], True)


@pytest.mark.parametrize(
    ("name", "rows", "min_events", "expected"),
    [
        # 93.75 % (budget 1/16 exactly). 9 bad of 10 two minutes ago is in every window:
        # each burns 0.9 * 16 = 14.4 exactly. The 1 h/5 m page (factor 14.4) does NOT fire
        # because the comparison is strict; 6 h/30 m (6), 1 d/2 h (3), 3 d/6 h (1) fire.
        (
            "burn exactly 14.4",
            [(AT - 2 * MINUTE, 1, 10)],
            0,
            [PAGE_1H, _fires(PAGE_6H), _fires(TICKET_1D), _fires(TICKET_3D)],
        ),
        # All 10 bad: burn 16 everywhere, above every factor.
        (
            "burn 16",
            [(AT - 2 * MINUTE, 0, 10)],
            0,
            [_fires(PAGE_1H), _fires(PAGE_6H), _fires(TICKET_1D), _fires(TICKET_3D)],
        ),
        # 40 minutes ago: inside 1 h, 2 h ... but not the 5 m or 30 m short windows, which
        # have no data, so neither page fires; the tickets (short 2 h, 6 h) do.
        (
            "short windows without data",
            [(AT - 40 * MINUTE, 0, 10)],
            0,
            [PAGE_1H, PAGE_6H, _fires(TICKET_1D), _fires(TICKET_3D)],
        ),
        # min_events = 11 needs 11 events in the long window; there are 10.
        (
            "below min_events",
            [(AT - 2 * MINUTE, 0, 10)],
            11,
            [PAGE_1H, PAGE_6H, TICKET_1D, TICKET_3D],
        ),
        (
            "at min_events",
            [(AT - 2 * MINUTE, 0, 10)],
            10,
            [_fires(PAGE_1H), _fires(PAGE_6H), _fires(TICKET_1D), _fires(TICKET_3D)],
        ),
    ],
)
def test_default_alerts(
    name: str,
    rows: list[tuple[datetime, float, float]],
    min_events: int,
    expected: list[tuple[Severity, timedelta, bool]],
) -> None:
    slo = _slo(0.9375, alerting=Alerting(min_events=min_events))
    status = evaluate(slo, _series(rows), AT)
    assert _firing(status) == expected, name
    assert [a.factor for a in status.alerts] == [14.4, 6.0, 3.0, 1.0]


def test_burn_exactly_at_factor_reports_the_rates() -> None:
    status = evaluate(_slo(0.9375), _series([(AT - 2 * MINUTE, 1, 10)]), AT)
    assert set(status.burn_rates.values()) == {14.4}
    assert status.alerts[0] == AlertStatus(
        severity=Severity.PAGE,
        long=HOUR,
        short=5 * MINUTE,
        factor=14.4,
        long_burn_rate=14.4,
        short_burn_rate=14.4,
        long_total=10,
        short_total=10,
        firing=False,
    )
    # Overspent (1 - 14.4 < 0): the budget is exhausted now, whatever the rate.
    assert status.error_budget_remaining == pytest.approx(1 - 14.4, rel=1e-12)
    assert status.exhaustion_at == AT
    assert status.forecasts[0].budget_remaining_at_window_end == pytest.approx(1 - 14.4)


def test_exhaustion_forecast_from_the_one_hour_burn() -> None:
    # 75 % (budget 0.25). 10 days ago 1 bad of 40; 30 minutes ago 1 bad of 8.
    # Window: 2 bad of 48 -> 2/48 / 0.25 = 1/6 consumed, 5/6 left.
    # 1 h burn: 1/8 / 0.25 = 0.5 -> 5/6 * 30 d / 0.5 = 50 d to exhaustion.
    rows = [(AT - 10 * DAY, 39, 40), (AT - 30 * MINUTE, 7, 8)]
    status = evaluate(_slo(0.75), _series(rows), AT)
    assert status.error_budget_remaining == pytest.approx(5 / 6, rel=1e-12)
    assert status.burn_rates[HOUR] == 0.5
    assert status.exhaustion_at is not None
    assert abs(status.exhaustion_at - (AT + 50 * DAY)) < timedelta(milliseconds=1)
    assert status.forecasts[0].budget_remaining_at_window_end == 0.5  # 1 - 0.5, rolling


def test_custom_alert_windows_are_evaluated() -> None:
    # 75 % (budget 0.25). 3 bad of 4 five minutes ago: 0.75 / 0.25 = 3 in every window
    # from 5 m up; the custom 90 m / 10 m window at factor 2 fires (3 > 2).
    custom = AlertWindow(Severity.PAGE, timedelta(minutes=90), timedelta(minutes=10), 2.0)
    slo = _slo(0.75, alerting=Alerting(windows=(custom,)))
    status = evaluate(slo, _series([(AT - 5 * MINUTE, 1, 4)]), AT)
    assert list(status.burn_rates) == [
        5 * MINUTE,
        10 * MINUTE,
        30 * MINUTE,
        HOUR,
        90 * MINUTE,
        2 * HOUR,
        6 * HOUR,
        DAY,
        3 * DAY,
    ]
    assert status.burn_rates[10 * MINUTE] == 3.0
    assert status.burn_rates[90 * MINUTE] == 3.0
    assert _firing(status) == [(Severity.PAGE, 90 * MINUTE, True)]
    assert burn_windows(slo, AT) == tuple(status.burn_rates)


def test_no_alert_windows() -> None:
    status = evaluate(_slo(0.75, alerting=Alerting(windows=())), _series([(AT, 1, 1)]), AT)
    assert status.alerts == ()
    assert tuple(status.burn_rates) == REPORTED_BURN_WINDOWS


def test_disabled_severities_are_still_reported() -> None:
    # Whether to notify is the caller's decision; the figures are the same as the batch path.
    slo = _slo(0.9375, alerting=Alerting(page=AlertTarget(enabled=False)))
    status = evaluate(slo, _series([(AT - 2 * MINUTE, 0, 10)]), AT)
    assert [a.firing for a in status.alerts] == [True] * 4


def test_maintenance_windows_are_excluded_everywhere() -> None:
    # 75 %. Maintenance [at - 3 h, at - 1 h). In it: 4 bad of 4 at at - 2 h (ignored).
    # At its end, at - 1 h exactly: 1 good (counted: the end is exclusive). At - 30 m: 3 good.
    rows = [(AT - 2 * HOUR, 0, 4), (AT - HOUR, 1, 1), (AT - 30 * MINUTE, 3, 3)]
    maintenance = (MaintenanceWindow(AT - 3 * HOUR, AT - HOUR, "failover drill"),)
    source = CountingSource(_series(rows))
    status = evaluate(_slo(0.75, maintenance=maintenance), source, AT)
    assert source.calls == 1
    assert (status.good, status.total) == (4, 4)
    assert status.error_budget_remaining == 1.0
    assert status.window_counts[2 * HOUR] == WindowCounts(4, 4)
    assert status.window_counts[HOUR] == WindowCounts(4, 4)
    assert status.burn_rates[2 * HOUR] == 0.0
    assert status.burn_rates[5 * MINUTE] is None
    # Without the maintenance window: 4 bad of 8 -> 0.5 / 0.25 = 2 consumed, -1 left.
    plain = evaluate(_slo(0.75), _series(rows), AT)
    assert plain.error_budget_remaining == -1.0
    assert plain.burn_rates[2 * HOUR] == 2.0


def test_one_vectorised_sum_for_all_windows() -> None:
    source = CountingSource(_series([(AT - MINUTE, 1, 1)]))
    evaluate(_slo(0.99), source, AT)
    assert source.calls == 1


def _timeslice_slo(slice_duration: timedelta = MINUTE, **changes: object) -> SLO:
    sli = SLI("requests", SLIKind.TIMESLICES, slice_duration=slice_duration, slice_target=0.9)
    return _slo(0.5, sli=sli, **changes)


# The last hour before AT as 60 one-minute slices of 10 events each: slices 0-44 all good;
# slices 45-59 have 8 of 10 good (0.8 < 0.9 target), so those 15 slices are bad.
LAST_HOUR_SLICES = _series([(AT - HOUR + i * MINUTE, 10 if i < 45 else 8, 10) for i in range(60)])


def test_timeslice_slo() -> None:
    source = CountingSource(LAST_HOUR_SLICES)
    status = evaluate(_timeslice_slo(), source, AT)
    assert source.calls == 1
    # Counts are slices: 45 good of 60 with data. SLI 0.75 (events would say 0.97).
    assert (status.good, status.total) == (45, 60)
    assert status.sli == 0.75
    # Budget 0.5 (objective 50 %): 15/60 = 0.25 bad -> 0.5 consumed, 0.5 left.
    assert status.error_budget_remaining == 0.5
    # 5 m: slices 55-59, all bad: (5/5) / 0.5 = 2. 30 m: slices 30-59, 15 bad:
    # (15/30) / 0.5 = 1. 1 h and longer: (15/60) / 0.5 = 0.5.
    assert status.burn_rates[5 * MINUTE] == 2.0
    assert status.burn_rates[30 * MINUTE] == 1.0
    assert [status.burn_rates[w] for w in (HOUR, 2 * HOUR, 6 * HOUR, DAY, 3 * DAY)] == [0.5] * 5
    assert status.window_counts[5 * MINUTE] == WindowCounts(0, 5)
    assert status.alerts[0].long_total == 60  # slices, not events


def test_timeslice_windows_shorter_than_a_slice_have_no_data() -> None:
    status = evaluate(_timeslice_slo(slice_duration=HOUR), LAST_HOUR_SLICES, AT)
    # The hour before AT is one slice with 585 of 600 good (0.975 >= 0.9): good.
    assert (status.good, status.total) == (1, 1)
    assert status.burn_rates[5 * MINUTE] is None
    assert status.burn_rates[30 * MINUTE] is None
    assert status.burn_rates[HOUR] == 0.0


def test_timeslice_maintenance_empties_slices() -> None:
    # Maintenance over the last 15 minutes removes exactly the 15 bad slices.
    slo = _timeslice_slo(maintenance=(MaintenanceWindow(AT - 15 * MINUTE, AT),))
    status = evaluate(slo, LAST_HOUR_SLICES, AT)
    assert (status.good, status.total) == (45, 45)
    assert status.burn_rates[5 * MINUTE] is None


def test_timeslice_slo_needs_its_parameters() -> None:
    slo = _slo(0.5, sli=SLI("requests", SLIKind.TIMESLICES))
    with pytest.raises(ValueError, match="slice_duration"):
        evaluate(slo, LAST_HOUR_SLICES, AT)
    with pytest.raises(ValueError, match="slice_duration"):
        budget_consumed_per_day(slo, LAST_HOUR_SLICES, AT)


def test_calendar_month_in_berlin() -> None:
    # March 2024 in Berlin starts 2024-02-29T23:00Z and ends 2024-03-31T22:00Z (743 h).
    at = datetime(2024, 3, 15, 12, tzinfo=UTC)
    start = datetime(2024, 2, 29, 23, tzinfo=UTC)
    rows = [(start - timedelta(seconds=1), 0, 1), (start, 3, 4)]
    slo = _slo(0.75, window=CalendarWindow(CalendarUnit.MONTH, "Europe/Berlin"))
    status = evaluate(slo, _series(rows), at)
    assert status.window_start == start
    # Only the bucket at the start counts: 1 bad of 4 = 0.25 = the whole 0.25 budget.
    assert (status.good, status.total) == (3, 4)
    assert status.error_budget_remaining == 0.0
    # Factors scale to the 743 h period: 2 % of 743 h in 1 h is 14.86.
    assert status.alerts[0].factor == 14.86
    expected = default_alert_windows(timedelta(hours=743))
    assert [a.factor for a in status.alerts] == [w.factor for w in expected]


def test_at_is_normalised_to_utc_and_must_be_aware() -> None:
    paris_winter = timezone(timedelta(hours=1))
    local = datetime(2024, 3, 1, 1, tzinfo=paris_winter)  # the same instant as AT
    rows = [(AT - 2 * MINUTE, 1, 10)]
    status = evaluate(_slo(0.9375), _series(rows), local)
    assert status.at == AT
    assert status.at.tzinfo is UTC
    assert status == evaluate(_slo(0.9375), _series(rows), AT)
    with pytest.raises(ValueError, match="no time zone"):
        evaluate(_slo(0.9375), _series(rows), datetime(2024, 3, 1))
    with pytest.raises(ValueError, match="no time zone"):
        budget_consumed_per_day(_slo(0.9375), _series(rows), datetime(2024, 3, 1))


def test_status_mappings_are_read_only() -> None:
    status = evaluate(_slo(0.99), EventSeries.empty(), AT)
    with pytest.raises(TypeError):
        status.burn_rates[HOUR] = 1.0  # type: ignore[index]


# Budget consumed per day. 75 % (budget 0.25), rolling 3 d at 2024-03-10T12:00Z:
# window [03-07 12:00, 03-10 12:00). Buckets (bad of total):
#   03-07 06:00  100 of 100  (before the window)
#   03-07 13:00    5 of 100
#   03-08 12:00    0 of 100
#   03-09 23:59:59 10 of 100
#   03-10 06:00    5 of 100
#   03-10 12:00   50 of 50   (at ``at``: outside)
# Window total 400, so one day's share is bad / (0.25 * 400) = bad / 100:
# 0.05, 0, 0.10, 0.05 -> sum 0.2; remaining 1 - (20/400)/0.25 = 0.8 = 1 - 0.2.
DAILY_AT = datetime(2024, 3, 10, 12, tzinfo=UTC)
DAILY_ROWS = [
    (datetime(2024, 3, 7, 6, tzinfo=UTC), 0, 100),
    (datetime(2024, 3, 7, 13, tzinfo=UTC), 95, 100),
    (datetime(2024, 3, 8, 12, tzinfo=UTC), 100, 100),
    (datetime(2024, 3, 9, 23, 59, 59, tzinfo=UTC), 90, 100),
    (datetime(2024, 3, 10, 6, tzinfo=UTC), 95, 100),
    (DAILY_AT, 0, 50),
]
DAILY_SLO = _slo(0.75, window=RollingWindow(3 * DAY))


def _midnight(day: int) -> datetime:
    return datetime(2024, 3, day, tzinfo=UTC)


def test_budget_consumed_per_day() -> None:
    days = budget_consumed_per_day(DAILY_SLO, _series(DAILY_ROWS), DAILY_AT)
    assert days == [
        (_midnight(7), 0.05),
        (_midnight(8), 0.0),
        (_midnight(9), 0.1),
        (_midnight(10), 0.05),
    ]
    remaining = evaluate(DAILY_SLO, _series(DAILY_ROWS), DAILY_AT).error_budget_remaining
    assert remaining == 0.8
    assert sum(share for _, share in days if share is not None) == pytest.approx(1 - remaining)


def test_budget_consumed_per_day_excludes_maintenance() -> None:
    # Maintenance over all of 03-09: window total 300, so shares are bad / 75.
    slo = _slo(
        0.75,
        window=RollingWindow(3 * DAY),
        maintenance=(MaintenanceWindow(_midnight(9), _midnight(10)),),
    )
    days = budget_consumed_per_day(slo, _series(DAILY_ROWS), DAILY_AT)
    assert days == [
        (_midnight(7), 5 / 75),
        (_midnight(8), 0.0),
        (_midnight(9), 0.0),
        (_midnight(10), 5 / 75),
    ]


def test_budget_consumed_per_day_without_data() -> None:
    days = budget_consumed_per_day(DAILY_SLO, EventSeries.empty(), DAILY_AT)
    assert days == [(_midnight(d), None) for d in (7, 8, 9, 10)]


def test_budget_consumed_per_day_ending_at_midnight() -> None:
    # [03-09 00:00, 03-10 00:00): one day; 03-10 has no instant in the window.
    slo = _slo(0.75, window=RollingWindow(DAY))
    days = budget_consumed_per_day(slo, _series(DAILY_ROWS), _midnight(10))
    # 10 bad of 100 at 75 %: 10 / 25 = 0.4 of the budget.
    assert days == [(_midnight(9), 0.4)]


def test_budget_consumed_per_day_of_an_empty_calendar_window() -> None:
    # At the very first instant of a calendar month the window [start, at) is empty.
    slo = _slo(0.75, window=CalendarWindow(CalendarUnit.MONTH))
    assert budget_consumed_per_day(slo, _series(DAILY_ROWS), _midnight(1)) == []


def test_budget_consumed_per_day_for_timeslices() -> None:
    # The 15 bad slices of LAST_HOUR_SLICES all lie on 02-29 (the hour before 03-01 00:00).
    # 30 d window with 60 slices with data: 15 / (0.5 * 60) = 0.5 on 02-29, 0 elsewhere.
    days = budget_consumed_per_day(_timeslice_slo(), LAST_HOUR_SLICES, AT)
    assert len(days) == 30
    assert days[-1] == (datetime(2024, 2, 29, tzinfo=UTC), 0.5)
    assert all(share == 0.0 for _, share in days[:-1])


events_strategy = st.lists(
    st.tuples(
        st.integers(0, 4 * 86_400 - 1),  # seconds before AT
        st.integers(0, 20),
        st.integers(0, 20),
    ),
    max_size=40,
)
maintenance_strategy = st.lists(
    st.tuples(st.integers(0, 4 * 86_400), st.integers(1, 86_400)), max_size=3
)


@FAST
@given(
    events=events_strategy,
    maintenance=maintenance_strategy,
    objective=st.sampled_from([0.5, 0.9, 0.99, 0.999]),
)
def test_evaluation_equals_naive_recomputation(
    events: list[tuple[int, int, int]], maintenance: list[tuple[int, int]], objective: float
) -> None:
    gaps = [(AT - timedelta(seconds=ago), length) for ago, length in maintenance]
    windows = tuple(MaintenanceWindow(start, start + timedelta(seconds=n)) for start, n in gaps)
    slo = _slo(objective, window=RollingWindow(3 * DAY), maintenance=windows)
    rows = [(AT - timedelta(seconds=ago), min(a, b), max(a, b)) for ago, a, b in events]
    status = evaluate(slo, _series(rows), AT)

    def naive(length: timedelta) -> tuple[int, int]:
        kept = [
            (good, total)
            for t, good, total in rows
            if AT - length <= t < AT and not any(w.start <= t < w.end for w in windows)
        ]
        return sum(g for g, _ in kept), sum(n for _, n in kept)

    good, total = naive(3 * DAY)
    assert (status.good, status.total) == (good, total)
    if total == 0:
        assert status.error_budget_remaining is None
    else:
        assert status.error_budget_remaining == 1 - ((total - good) / total) / (1 - objective)
    for length, rate in status.burn_rates.items():
        good, total = naive(length)
        assert status.window_counts[length] == WindowCounts(good, total)
        expected = None if total == 0 else ((total - good) / total) / (1 - objective)
        assert rate == expected


@FAST
@given(
    events=events_strategy,
    maintenance=maintenance_strategy,
    timeslices=st.booleans(),
    hours_past_midnight=st.integers(0, 23),
)
def test_budget_consumed_per_day_sums_to_one_minus_remaining(
    events: list[tuple[int, int, int]],
    maintenance: list[tuple[int, int]],
    timeslices: bool,
    hours_past_midnight: int,
) -> None:
    at = AT + timedelta(hours=hours_past_midnight, seconds=17)
    windows = tuple(
        MaintenanceWindow(at - timedelta(seconds=ago), at - timedelta(seconds=ago - n))
        for ago, n in maintenance
    )
    # 7-minute slices do not divide a day, so slices cross midnight.
    sli = (
        SLI("requests", SLIKind.TIMESLICES, slice_duration=7 * MINUTE, slice_target=0.8)
        if timeslices
        else SLI("requests")
    )
    slo = _slo(0.9, sli=sli, window=RollingWindow(3 * DAY), maintenance=windows)
    source = _series([(at - timedelta(seconds=ago), min(a, b), max(a, b)) for ago, a, b in events])
    days = budget_consumed_per_day(slo, source, at)
    remaining = evaluate(slo, source, at).error_budget_remaining
    assert len(days) == 4
    assert days[0][0] == (at - 3 * DAY).replace(hour=0, minute=0, second=0)
    if remaining is None:
        assert all(share is None for _, share in days)
    else:
        total = sum(share for _, share in days if share is not None)
        assert total == pytest.approx(1 - remaining, rel=1e-9, abs=1e-9)
