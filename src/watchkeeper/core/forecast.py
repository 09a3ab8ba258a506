"""Error-budget exhaustion forecasts (SRE Workbook ch. 5: burn rate and time to exhaustion).

A burn rate of 1 spends exactly the whole budget in one SLO period ``P`` (the rolling
duration, or the length of the calendar period containing ``at``). With a fraction ``r`` of
the budget remaining and a burn rate ``b`` measured over a basis window (1 h, 6 h or 1 d),
the budget runs out after ``r * P / b`` if the rate holds:

* ``None`` when ``r`` or ``b`` is unknown (no data in the SLO window or the basis window);
* otherwise ``exhaustion_at = at`` when ``r <= 0`` (already exhausted);
* otherwise ``None`` when ``b <= 0`` (the budget is not being spent), or when the instant
  lies beyond what ``datetime`` can represent;
* otherwise ``exhaustion_at = at + r * P / b``.

The budget remaining at the end of the window if the rate holds:

* calendar windows: ``r - b * (period_end - at) / P``, the rest of this period burning at ``b``;
* rolling windows: ``1 - b``, the steady state once the window holds a whole period at ``b``.

Neither is clamped: a negative value is an overspend.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from watchkeeper.core.budget import FloatArray, Numeric
from watchkeeper.core.slo import RollingWindow, Window
from watchkeeper.core.windows import calendar_period_bounds, nominal_period

FORECAST_BASES: tuple[timedelta, ...] = (
    timedelta(hours=1),
    timedelta(hours=6),
    timedelta(days=1),
)
HEADLINE_BASIS = timedelta(hours=1)


@dataclass(frozen=True)
class Forecast:
    """Where the budget goes if the burn rate over ``basis`` holds."""

    basis: timedelta
    burn_rate: float | None
    exhaustion_at: datetime | None
    budget_remaining_at_window_end: float | None


def seconds_to_exhaustion(
    remaining: Numeric, burn_rate: Numeric, period_seconds: Numeric
) -> FloatArray:
    """Elementwise ``r * P / b`` seconds; 0 if ``r <= 0``; NaN if r or b is NaN or ``b <= 0``."""
    remaining_values, rates, periods = np.broadcast_arrays(
        np.asarray(remaining, dtype=np.float64),
        np.asarray(burn_rate, dtype=np.float64),
        np.asarray(period_seconds, dtype=np.float64),
    )
    result = np.full(remaining_values.shape, np.nan, dtype=np.float64)
    spending = (rates > 0) & (remaining_values > 0)
    np.divide(remaining_values * periods, rates, out=result, where=spending)
    # NaN rates compare false, so "already exhausted" needs a known rate, as in the scalar form.
    result[(remaining_values <= 0) & ~np.isnan(rates)] = 0.0
    return result


def time_to_exhaustion(
    remaining: float | None, burn_rate: float | None, period: timedelta
) -> timedelta | None:
    """Time until the budget is spent at ``burn_rate``; 0 if spent, None if never or unknown."""
    if remaining is None or burn_rate is None:
        return None
    if remaining <= 0:
        return timedelta()
    if burn_rate <= 0:
        return None
    seconds = remaining * period.total_seconds() / burn_rate
    try:
        return timedelta(seconds=seconds)
    except OverflowError:
        return None


def exhaustion_at(
    remaining: float | None, burn_rate: float | None, period: timedelta, at: datetime
) -> datetime | None:
    """The instant the budget runs out if ``burn_rate`` holds (see the module docstring)."""
    wait = time_to_exhaustion(remaining, burn_rate, period)
    if wait is None:
        return None
    try:
        return at + wait
    except OverflowError:
        return None


def budget_remaining_at_window_end(
    window: Window, at: datetime, remaining: float | None, burn_rate: float | None
) -> float | None:
    """Budget left at the window's end if ``burn_rate`` holds; None when that rate is unknown.

    Calendar windows: ``r - b * (period_end - at) / P``. Rolling windows: ``1 - b``.
    """
    if burn_rate is None:
        return None
    if isinstance(window, RollingWindow):
        return 1.0 - burn_rate
    if remaining is None:
        return None
    period_start, period_end = calendar_period_bounds(window, at)
    return remaining - burn_rate * ((period_end - at) / (period_end - period_start))


def forecast(
    window: Window,
    at: datetime,
    remaining: float | None,
    burn_rates: Mapping[timedelta, float | None],
    basis: timedelta,
) -> Forecast:
    """The forecast on one basis window, from the budget remaining and that window's burn rate."""
    rate = burn_rates.get(basis)
    return Forecast(
        basis=basis,
        burn_rate=rate,
        exhaustion_at=exhaustion_at(remaining, rate, nominal_period(window, at), at),
        budget_remaining_at_window_end=budget_remaining_at_window_end(window, at, remaining, rate),
    )


def forecasts(
    window: Window,
    at: datetime,
    remaining: float | None,
    burn_rates: Mapping[timedelta, float | None],
    bases: tuple[timedelta, ...] = FORECAST_BASES,
) -> tuple[Forecast, ...]:
    """Forecasts on each basis window (1 h, 6 h, 1 d by default)."""
    return tuple(forecast(window, at, remaining, burn_rates, basis) for basis in bases)
