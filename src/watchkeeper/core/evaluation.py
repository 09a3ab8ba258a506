"""Evaluating one SLO at an instant: SLI, error budget, burn rates, alerts and forecasts.

The figures follow the SRE Workbook ch. 5 ("Alerting on SLOs"): the SLI and the budget
remaining come from counts summed over the SLO window ``[window_start, at)``; each burn rate
from counts over ``[at - w, at)`` for the reported windows (5 m ... 3 d) and every long and
short window of the alerts in force; multiwindow alerts fire when both windows burn faster
than their factor. Maintenance windows are excluded from every sum. For sliced SLIs every
count is a count of slices (good slices, or for RatioTimeslices the sum of the slices'
ratios, over slices with data), so ``total``, ``window_counts``, the alerts' totals and
``min_events`` all count slices (core/timeslices.py). A window without data has no SLI,
budget or burn rate (``None``). Offline evaluation, the API status and ``slo explain`` all
use this module.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import MappingProxyType

import numpy as np

from watchkeeper.core.budget import (
    FloatArray,
    budget_remaining,
    error_budget,
    optional_float,
    sli_ratio,
)
from watchkeeper.core.burn_rate import alert_firing, burn_rate
from watchkeeper.core.forecast import HEADLINE_BASIS, Forecast, forecasts
from watchkeeper.core.series import (
    CountSource,
    maintenance_intervals,
    sums_excluding,
    to_unix_seconds,
)
from watchkeeper.core.slo import SLO, Severity
from watchkeeper.core.timeslices import slice_counts, slice_outcomes, slice_parameters
from watchkeeper.core.windows import REPORTED_BURN_WINDOWS, alert_windows, window_start

__all__ = [
    "AlertStatus",
    "Forecast",
    "SLOStatus",
    "WindowCounts",
    "budget_consumed_per_day",
    "burn_windows",
    "evaluate",
]

_DAY = timedelta(days=1)
_DAY_SECONDS = _DAY.total_seconds()


@dataclass(frozen=True)
class WindowCounts:
    """Good and total counts summed over one window (slices, for timeslice SLIs)."""

    good: float
    total: float

    @property
    def bad(self) -> float:
        """Events (or slices) that were not good."""
        return self.total - self.good


@dataclass(frozen=True)
class AlertStatus:
    """One multiwindow burn-rate alert, evaluated: its windows, rates and whether it fires."""

    severity: Severity
    long: timedelta
    short: timedelta
    factor: float
    long_burn_rate: float | None
    short_burn_rate: float | None
    long_total: float
    short_total: float
    firing: bool


@dataclass(frozen=True)
class SLOStatus:
    """Everything known about one SLO at ``at``; None marks figures without data."""

    slo_key: str
    at: datetime
    window_start: datetime
    good: float
    total: float
    sli: float | None
    error_budget_remaining: float | None
    burn_rates: Mapping[timedelta, float | None]
    window_counts: Mapping[timedelta, WindowCounts]
    alerts: tuple[AlertStatus, ...]
    forecasts: tuple[Forecast, ...]
    exhaustion_at: datetime | None


def _utc(at: datetime) -> datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"{at!r} has no time zone; evaluation needs an aware datetime")
    return at.astimezone(UTC)


def window_sums(
    slo: SLO, source: CountSource, starts: FloatArray, ends: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Good and total of ``slo`` over ``[starts, ends)``: maintenance excluded, slices counted."""
    excluded_starts, excluded_ends = maintenance_intervals(slo.maintenance)
    if slo.sli.is_sliced:
        duration, target = slice_parameters(slo.sli)
        return slice_counts(source, starts, ends, duration, target, excluded_starts, excluded_ends)
    return sums_excluding(source, starts, ends, excluded_starts, excluded_ends)


def burn_windows(slo: SLO, at: datetime) -> tuple[timedelta, ...]:
    """Windows whose burn rate is reported: the standard ones plus every alert window, sorted."""
    alert_lengths = {
        length for window in alert_windows(slo, at) for length in (window.long, window.short)
    }
    return tuple(sorted(set(REPORTED_BURN_WINDOWS) | alert_lengths))


def evaluate(slo: SLO, source: CountSource, at: datetime) -> SLOStatus:
    """Evaluate ``slo`` at ``at`` (aware) from ``source``: one vectorised sum over all windows.

    Every alert window in force is reported, including those of a severity whose target is
    disabled: whether to notify is the caller's decision, and the batch path does the same.
    """
    at = _utc(at)
    start = window_start(slo.window, at)
    lengths = burn_windows(slo, at)
    at_seconds = to_unix_seconds(at)
    starts = np.array(
        [to_unix_seconds(start), *(to_unix_seconds(at - length) for length in lengths)],
        dtype=np.float64,
    )
    good, total = window_sums(slo, source, starts, np.full(starts.shape, at_seconds))
    bad = total - good
    rates = burn_rate(bad, total, slo.objective)
    burn_rates = {length: optional_float(rates[i + 1]) for i, length in enumerate(lengths)}
    counts = {
        length: WindowCounts(float(good[i + 1]), float(total[i + 1]))
        for i, length in enumerate(lengths)
    }
    remaining = optional_float(budget_remaining(bad[0], total[0], slo.objective))
    alerts = _alert_statuses(slo, at, lengths, rates, total)
    predicted = forecasts(slo.window, at, remaining, burn_rates)
    headline = next(f for f in predicted if f.basis == HEADLINE_BASIS)
    return SLOStatus(
        slo_key=slo.key,
        at=at,
        window_start=start,
        good=float(good[0]),
        total=float(total[0]),
        sli=optional_float(sli_ratio(good[0], total[0])),
        error_budget_remaining=remaining,
        burn_rates=MappingProxyType(burn_rates),
        window_counts=MappingProxyType(counts),
        alerts=alerts,
        forecasts=predicted,
        exhaustion_at=headline.exhaustion_at,
    )


def _alert_statuses(
    slo: SLO,
    at: datetime,
    lengths: tuple[timedelta, ...],
    rates: FloatArray,
    total: FloatArray,
) -> tuple[AlertStatus, ...]:
    in_force = alert_windows(slo, at)
    # Index 0 of the sums is the SLO window; burn window i sits at i + 1.
    position = {length: i + 1 for i, length in enumerate(lengths)}
    long_index = np.array([position[w.long] for w in in_force], dtype=np.intp)
    short_index = np.array([position[w.short] for w in in_force], dtype=np.intp)
    factors = np.array([w.factor for w in in_force], dtype=np.float64)
    states = alert_firing(
        rates[long_index],
        rates[short_index],
        factors,
        total[long_index],
        slo.alerting.min_events,
    )
    return tuple(
        AlertStatus(
            severity=window.severity,
            long=window.long,
            short=window.short,
            factor=window.factor,
            long_burn_rate=optional_float(rates[long_index[i]]),
            short_burn_rate=optional_float(rates[short_index[i]]),
            long_total=float(total[long_index[i]]),
            short_total=float(total[short_index[i]]),
            firing=bool(states[i]),
        )
        for i, window in enumerate(in_force)
    )


def budget_consumed_per_day(
    slo: SLO, source: CountSource, at: datetime
) -> list[tuple[datetime, float | None]]:
    """Share of the whole-window error budget consumed on each UTC day of the SLO window.

    Each entry is (UTC midnight of the day, ``bad_day / ((1 - objective) * total_window)``),
    the day's counts clipped to ``[window_start, at)`` and maintenance excluded; the values
    sum to ``1 - error_budget_remaining``. Every value is None when the window has no data.
    For sliced SLIs a slice belongs to the day its start falls on, and its bad share is
    ``1 - score`` (a bad slice, or one minus a RatioTimeslices slice's ratio).
    """
    at = _utc(at)
    start = window_start(slo.window, at)
    if start >= at:
        return []
    first_day = start.replace(hour=0, minute=0, second=0, microsecond=0)
    days: list[datetime] = []
    day = first_day
    while day < at:
        days.append(day)
        day += _DAY
    excluded_starts, excluded_ends = maintenance_intervals(slo.maintenance)
    if slo.sli.is_sliced:
        duration, target = slice_parameters(slo.sli)
        outcomes = slice_outcomes(
            source,
            to_unix_seconds(start),
            to_unix_seconds(at),
            duration,
            target,
            excluded_starts,
            excluded_ends,
        )
        day_of_slice = np.floor(
            (outcomes.starts - to_unix_seconds(first_day)) / _DAY_SECONDS
        ).astype(np.intp)
        bad_slices = np.where(outcomes.has_data, 1.0 - outcomes.score, 0.0)
        bad_per_day: FloatArray = np.asarray(
            np.bincount(day_of_slice, weights=bad_slices, minlength=len(days)), dtype=np.float64
        )
        window_total = float(np.count_nonzero(outcomes.has_data))
    else:
        starts = [start, *(max(day, start) for day in days)]
        ends = [at, *(min(day + _DAY, at) for day in days)]
        good, total = sums_excluding(
            source,
            np.array([to_unix_seconds(moment) for moment in starts], dtype=np.float64),
            np.array([to_unix_seconds(moment) for moment in ends], dtype=np.float64),
            excluded_starts,
            excluded_ends,
        )
        bad_per_day = total[1:] - good[1:]
        window_total = float(total[0])
    if window_total <= 0:
        return [(day, None) for day in days]
    shares = bad_per_day / (float(error_budget(slo.objective)) * window_total)
    return [(day, float(share)) for day, share in zip(days, shares, strict=True)]
