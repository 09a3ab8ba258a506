"""Budget exhaustion forecasts and the budget left at window end if the rate holds."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from watchkeeper.core.forecast import (
    FORECAST_BASES,
    HEADLINE_BASIS,
    Forecast,
    budget_remaining_at_window_end,
    exhaustion_at,
    forecast,
    forecasts,
    seconds_to_exhaustion,
    time_to_exhaustion,
)
from watchkeeper.core.slo import CalendarUnit, CalendarWindow, RollingWindow

AT = datetime(2024, 6, 10, tzinfo=UTC)
THIRTY_DAYS = timedelta(days=30)
ROLLING = RollingWindow(THIRTY_DAYS)

# (name, remaining r, burn rate b, time to exhaustion r * 30 d / b, or None)
EXHAUSTION_TABLE: list[tuple[str, float | None, float | None, timedelta | None]] = [
    # A burn rate of 1 spends the whole budget in one period: half of it in 15 days.
    ("half left at rate 1", 0.5, 1.0, timedelta(days=15)),
    ("half left at rate 2", 0.5, 2.0, timedelta(days=7, hours=12)),
    # 30 d = 720 h; 720 h / 14.4 = 50 h (the page threshold empties a full budget in ~2 d).
    ("full budget at 14.4", 1.0, 14.4, timedelta(hours=50)),
    ("quarter left at rate 0.5", 0.25, 0.5, timedelta(days=15)),
    ("exhausted", 0.0, 5.0, timedelta(0)),
    ("overspent, not burning now", -0.3, 0.0, timedelta(0)),
    ("overspent, no recent data", -0.3, None, None),
    ("not burning", 0.5, 0.0, None),
    ("no data in the window", None, 2.0, None),
    ("no recent data", 0.5, None, None),
]


@pytest.mark.parametrize(("name", "remaining", "rate", "wait"), EXHAUSTION_TABLE)
def test_time_to_exhaustion(
    name: str, remaining: float | None, rate: float | None, wait: timedelta | None
) -> None:
    assert time_to_exhaustion(remaining, rate, THIRTY_DAYS) == wait, name
    expected_at = None if wait is None else AT + wait
    assert exhaustion_at(remaining, rate, THIRTY_DAYS, AT) == expected_at, name


def test_seconds_to_exhaustion_matches_the_scalar_form() -> None:
    remaining = np.array([np.nan if r is None else r for _, r, _, _ in EXHAUSTION_TABLE])
    rates = np.array([np.nan if b is None else b for _, _, b, _ in EXHAUSTION_TABLE])
    seconds = seconds_to_exhaustion(remaining, rates, THIRTY_DAYS.total_seconds())
    for (name, _, _, wait), value in zip(EXHAUSTION_TABLE, seconds, strict=True):
        if wait is None:
            assert math.isnan(value), name
        else:
            assert value == pytest.approx(wait.total_seconds(), rel=1e-12), name


def test_seconds_to_exhaustion_broadcasts_periods() -> None:
    # Same r = 1, b = 1 for a 30 d and a 28 d SLO: one period each.
    seconds = seconds_to_exhaustion(1.0, 1.0, np.array([2_592_000.0, 2_419_200.0]))
    assert seconds.tolist() == [2_592_000.0, 2_419_200.0]


@pytest.mark.parametrize(
    ("name", "rate"),
    [
        # 30 d / 1e-5 = 3,000,000 days: about 8,200 years, past datetime's year 9999.
        ("beyond year 9999", 1e-5),
        # 30 d / 1e-300 does not even fit a timedelta.
        ("beyond timedelta", 1e-300),
    ],
)
def test_exhaustion_out_of_range_is_none(name: str, rate: float) -> None:
    assert exhaustion_at(1.0, rate, THIRTY_DAYS, AT) is None, name


@pytest.mark.parametrize(
    ("name", "window", "at", "remaining", "rate", "expected"),
    [
        # Rolling: steady state after a whole period at rate b leaves 1 - b.
        ("rolling, half speed", ROLLING, AT, 0.9, 0.5, 0.5),
        ("rolling, twice the speed", ROLLING, AT, 0.9, 2.0, -1.0),
        ("rolling, no window data needed", ROLLING, AT, None, 0.25, 0.75),
        ("rolling, no rate", ROLLING, AT, 0.9, None, None),
        # June (30 d), 21 d to go: 0.8 - 1 * 21 / 30 = 0.1.
        ("calendar month", CalendarWindow(CalendarUnit.MONTH), AT, 0.8, 1.0, 0.1),
        ("calendar, not burning", CalendarWindow(CalendarUnit.MONTH), AT, 0.8, 0.0, 0.8),
        ("calendar, no rate", CalendarWindow(CalendarUnit.MONTH), AT, 0.8, None, None),
        ("calendar, no window data", CalendarWindow(CalendarUnit.MONTH), AT, None, 1.0, None),
        # March 2024 in Berlin runs 2024-02-29T23:00Z to 2024-03-31T22:00Z: 743 h (the DST
        # change takes an hour). At 2024-03-31T00:00Z 22 h remain: 1 - 22 / 743.
        (
            "calendar month across DST",
            CalendarWindow(CalendarUnit.MONTH, "Europe/Berlin"),
            datetime(2024, 3, 31, tzinfo=UTC),
            1.0,
            1.0,
            1 - 22 / 743,
        ),
    ],
)
def test_budget_remaining_at_window_end(
    name: str,
    window: RollingWindow | CalendarWindow,
    at: datetime,
    remaining: float | None,
    rate: float | None,
    expected: float | None,
) -> None:
    value = budget_remaining_at_window_end(window, at, remaining, rate)
    if expected is None:
        assert value is None, name
    else:
        assert value == pytest.approx(expected, rel=1e-12, abs=1e-12), name


def test_forecasts_on_each_basis() -> None:
    rates = {timedelta(hours=1): 2.0, timedelta(hours=6): None, timedelta(days=1): 0.5}
    assert (timedelta(hours=1), timedelta(hours=6), timedelta(days=1)) == FORECAST_BASES
    assert timedelta(hours=1) == HEADLINE_BASIS
    assert forecasts(ROLLING, AT, 0.5, rates) == (
        # 0.5 * 30 d / 2 = 7.5 d; steady state 1 - 2 = -1.
        Forecast(timedelta(hours=1), 2.0, AT + timedelta(days=7, hours=12), -1.0),
        Forecast(timedelta(hours=6), None, None, None),
        # 0.5 * 30 d / 0.5 = 30 d; steady state 1 - 0.5 = 0.5.
        Forecast(timedelta(days=1), 0.5, AT + THIRTY_DAYS, 0.5),
    )
    assert forecasts(ROLLING, AT, 0.5, {}, bases=(timedelta(hours=2),)) == (
        Forecast(timedelta(hours=2), None, None, None),
    )


def test_calendar_forecast_uses_the_current_period_length() -> None:
    # July has 31 days: at rate 1 a full budget lasts exactly 31 days.
    at = datetime(2024, 7, 10, tzinfo=UTC)
    result = forecast(
        CalendarWindow(CalendarUnit.MONTH), at, 1.0, {HEADLINE_BASIS: 1.0}, HEADLINE_BASIS
    )
    assert result.exhaustion_at == at + timedelta(days=31)
    # July 10 00:00 to August 1 00:00 is 22 of 31 days: 1 - 22 / 31 left at month end.
    assert result.budget_remaining_at_window_end == pytest.approx(1 - 22 / 31, rel=1e-12)
