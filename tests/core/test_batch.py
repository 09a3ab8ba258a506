"""The vectorised batch path gives exactly what per-SLO evaluation gives over the same buckets."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from watchkeeper.core.batch import (
    _calendar_factors,
    evaluate_batch,
    make_plan,
    needs_single_evaluation,
)
from watchkeeper.core.evaluation import evaluate
from watchkeeper.core.grid import CountGrid, minute_index
from watchkeeper.core.series import EventSeries
from watchkeeper.core.slo import (
    SLI,
    SLO,
    Alerting,
    AlertWindow,
    CalendarUnit,
    CalendarWindow,
    MaintenanceWindow,
    RollingWindow,
    Severity,
    SLIKind,
)

AT = datetime(2026, 11, 23, 12, 0, 30, tzinfo=UTC)
ROWS = 3


def _slo(name: str, window: object, **extra: object) -> SLO:
    return SLO(
        service="shop",
        name=name,
        sli=SLI(name=f"sli-{name}"),
        objective=float(extra.pop("objective", 0.999)),  # type: ignore[arg-type]
        window=window,  # type: ignore[arg-type]
        **extra,  # type: ignore[arg-type]
    )


SLOS = (
    _slo("rolling-30d", RollingWindow(timedelta(days=30))),
    _slo("rolling-28d", RollingWindow(timedelta(days=28)), objective=0.99),
    _slo("rolling-7d", RollingWindow(timedelta(days=7)), objective=0.95),
    _slo("month-berlin", CalendarWindow(CalendarUnit.MONTH, "Europe/Berlin")),
    _slo(
        "custom-windows",
        RollingWindow(timedelta(days=30)),
        alerting=Alerting(
            windows=(
                AlertWindow(Severity.PAGE, timedelta(minutes=90), timedelta(minutes=7), 9.5),
                AlertWindow(Severity.TICKET, timedelta(days=4), timedelta(hours=8), 1.2),
            ),
            min_events=50,
        ),
    ),
)
ROW_OF = np.array([0, 1, 2, 0, 1], dtype=np.int64)


def _grid(seed: int, bad_share: float) -> CountGrid:
    rng = np.random.default_rng(seed)
    current = minute_index(AT.timestamp())
    grid = CountGrid(ROWS, minute_slots=4 * 1440 + 180, hour_slots=34 * 24, current_minute=current)
    hours = np.arange(current // 60 - grid.hour_slots + 1, current // 60 + 1, dtype=np.int64)
    for row in range(ROWS):
        totals = rng.integers(0, 400, size=hours.size)
        bad = rng.binomial(totals, bad_share)
        grid.set_hours(np.full(hours.size, row), hours, totals - bad, totals)
    minutes = np.arange(current - grid.minute_slots + 1, current + 1, dtype=np.int64)
    for row in range(ROWS):
        totals = rng.integers(0, 20, size=minutes.size)
        bad = rng.binomial(totals, bad_share * 3)
        grid.set_minutes(np.full(minutes.size, row), minutes, totals - bad, totals)
    return grid


def _same(batch_value: float, single: float | None) -> bool:
    return single is None if math.isnan(batch_value) else batch_value == single


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), bad_share=st.sampled_from([0.0, 0.0005, 0.01, 0.2]))
def test_batch_equals_single_evaluation(seed: int, bad_share: float) -> None:
    grid = _grid(seed, bad_share)
    plan = make_plan(SLOS, ROW_OF)
    result = evaluate_batch(plan, grid, AT)
    for slot, slo in enumerate(SLOS):
        times, good, total = grid.buckets_of(int(ROW_OF[slot]))
        single = evaluate(slo, EventSeries.from_counts(times, good, total), AT)
        assert result.good[slot] == single.good
        assert result.total[slot] == single.total
        assert _same(result.sli[slot], single.sli)
        assert _same(result.budget_remaining[slot], single.error_budget_remaining)
        for column, window in enumerate(plan.burn_windows):
            if window in single.burn_rates:
                assert _same(result.burn[slot, column], single.burn_rates[window]), window
        for j, alert in enumerate(single.alerts):
            assert plan.alert_windows[slot][j][1:3] == (alert.long, alert.short)
            assert bool(result.alert_firing[slot, j]) is alert.firing
            assert _same(result.alert_long_burn[slot, j], alert.long_burn_rate)
        seconds = result.exhaustion_seconds[slot]
        expected = single.exhaustion_at
        if math.isnan(seconds):
            assert expected is None
        else:
            assert expected == AT + timedelta(seconds=float(seconds))


def test_a_fast_burn_fires_the_page_alert_in_both_paths() -> None:
    current = minute_index(AT.timestamp())
    grid = CountGrid(1, minute_slots=3 * 1440 + 120, hour_slots=32 * 24, current_minute=current)
    minutes = np.arange(current - 59, current + 1, dtype=np.int64)
    # 2 % errors over the last hour: burn 20 > 14.4 on 1h and on 5m.
    grid.set_minutes(np.zeros(60, dtype=np.int64), minutes, np.full(60, 980), np.full(60, 1000))
    slo = SLOS[0]
    result = evaluate_batch(make_plan((slo,), np.array([0])), grid, AT)
    assert result.alert_firing[0].tolist() == [True, True, True, True]
    assert math.isclose(result.alert_long_burn[0, 0], 20.0)


def test_calendar_factors_follow_the_month_length() -> None:
    plan = make_plan((SLOS[3],), np.array([0]))
    assert plan.calendar_columns == (SLOS[3].window,)
    # November has 30 days: 2 % of the budget in 1 h is 0.02 x 720 h = 14.4, as for 30d.
    assert _calendar_factors(plan, AT)[0, 0] == 14.4
    # December has 31 days (744 h): 0.02 x 744 = 14.88.
    december = datetime(2026, 12, 15, tzinfo=UTC)
    assert math.isclose(_calendar_factors(plan, december)[0, 0], 14.88)
    result = evaluate_batch(plan, _grid(1, 0.0), AT)
    # The calendar window starts at 1 Nov 00:00 Berlin time = 31 Oct 23:00 UTC.
    assert result.total[0] > 0


def test_timeslices_and_maintenance_need_single_evaluation() -> None:
    sliced = SLO(
        service="s",
        name="t",
        sli=SLI(
            name="x",
            kind=SLIKind.TIMESLICES,
            slice_duration=timedelta(minutes=1),
            slice_target=0.9,
        ),
        objective=0.99,
        window=RollingWindow(timedelta(days=30)),
    )
    maintained = SLOS[0].__class__(
        **{
            **SLOS[0].__dict__,
            "maintenance": (MaintenanceWindow(AT - timedelta(hours=1), AT),),
        }
    )
    assert needs_single_evaluation(sliced)
    assert needs_single_evaluation(maintained)
    assert not needs_single_evaluation(SLOS[0])


def test_the_factors_in_force_are_returned() -> None:
    december = datetime(2026, 12, 15, tzinfo=UTC)
    plan = make_plan((SLOS[3], SLOS[0]), np.array([0, 0]))
    current = minute_index(december.timestamp())
    grid = CountGrid(1, minute_slots=3 * 1440 + 120, hour_slots=33 * 24, current_minute=current)
    result = evaluate_batch(plan, grid, december)
    # The calendar month has 31 days in December (14.88); the rolling 30d keeps 14.4.
    assert math.isclose(result.alert_factor[0, 0], 14.88)
    assert result.alert_factor[1, 0] == 14.4
