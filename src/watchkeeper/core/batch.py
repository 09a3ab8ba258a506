"""Evaluating many SLOs at once over a CountGrid (the worker's hot path).

The same formulas as core/evaluation.py, vectorised over SLOs: window sums are read once per
distinct window for every SLI row, then gathered per SLO. SLOs this path does not cover
(sliced SLIs, maintenance exclusions) are evaluated one by one by the caller.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
from numpy.typing import NDArray

from watchkeeper.core.budget import budget_remaining, sli_ratio
from watchkeeper.core.burn_rate import alert_firing, burn_rate
from watchkeeper.core.forecast import seconds_to_exhaustion
from watchkeeper.core.grid import CountGrid
from watchkeeper.core.slo import SLO, CalendarWindow, RollingWindow, Severity
from watchkeeper.core.windows import (
    REPORTED_BURN_WINDOWS,
    alert_windows,
    calendar_period_bounds,
    nominal_period,
)

FORECAST_BASIS = timedelta(hours=1)
SEVERITY_CODES = {Severity.PAGE: 0, Severity.TICKET: 1}


def needs_single_evaluation(slo: SLO) -> bool:
    """True for SLOs the batch path does not cover (Timeslices and RatioTimeslices SLIs,
    maintenance windows)."""
    return slo.sli.is_sliced or bool(slo.maintenance)


@dataclass(frozen=True)
class BatchPlan:
    """Index arrays that map SLOs to grid rows and window columns (built once per SLO set)."""

    slos: tuple[SLO, ...]
    rows: NDArray[np.int64]
    objectives: NDArray[np.float64]
    min_events: NDArray[np.float64]
    burn_windows: tuple[timedelta, ...]
    rolling_columns: tuple[timedelta, ...]  # distinct rolling durations (window sums columns)
    calendar_columns: tuple[CalendarWindow, ...]
    slo_window_column: NDArray[np.int64]  # column index into rolling + calendar columns
    burn_column: NDArray[np.int64]  # (n_slos, n_burn_windows): columns of burn_windows
    alert_long: NDArray[np.int64]  # (n_slos, k): index into burn_windows
    alert_short: NDArray[np.int64]
    alert_factor: NDArray[np.float64]
    alert_severity: NDArray[np.int64]
    alert_valid: NDArray[np.bool_]
    alert_windows: tuple[tuple[tuple[Severity, timedelta, timedelta, float], ...], ...]


@dataclass(frozen=True)
class BatchResult:
    """Figures for every SLO of a plan at one instant; NaN where there is no data."""

    at: datetime
    good: NDArray[np.float64]
    total: NDArray[np.float64]
    sli: NDArray[np.float64]
    budget_remaining: NDArray[np.float64]
    burn: NDArray[np.float64]  # (n_slos, n_burn_windows)
    window_good: NDArray[np.float64]  # (n_slos, n_burn_windows)
    window_total: NDArray[np.float64]
    alert_long_burn: NDArray[np.float64]  # (n_slos, k)
    alert_short_burn: NDArray[np.float64]
    alert_firing: NDArray[np.bool_]
    alert_factor: NDArray[np.float64]  # (n_slos, k): in force at ``at`` (calendar periods vary)
    exhaustion_seconds: NDArray[np.float64]  # seconds after ``at``; NaN = not at this rate


def make_plan(slos: tuple[SLO, ...], rows: NDArray[np.int64]) -> BatchPlan:
    """Prepare the batch evaluation of ``slos`` whose SLIs sit in grid ``rows``."""
    burn_set = set(REPORTED_BURN_WINDOWS)
    per_slo_alerts = []
    for slo in slos:
        windows = tuple((w.severity, w.long, w.short, w.factor) for w in alert_windows(slo))
        per_slo_alerts.append(windows)
        burn_set.update(w[1] for w in windows)
        burn_set.update(w[2] for w in windows)
    burn_windows = tuple(sorted(burn_set))
    rolling = sorted(
        burn_set | {s.window.duration for s in slos if isinstance(s.window, RollingWindow)}
    )
    calendars = sorted(
        {s.window for s in slos if isinstance(s.window, CalendarWindow)},
        key=lambda c: (c.unit.value, c.timezone, c.count),
    )
    rolling_index = {d: i for i, d in enumerate(rolling)}
    calendar_index = {c: len(rolling) + i for i, c in enumerate(calendars)}
    count = len(slos)
    k = max((len(a) for a in per_slo_alerts), default=0)
    alert_long = np.zeros((count, k), dtype=np.int64)
    alert_short = np.zeros((count, k), dtype=np.int64)
    alert_factor = np.full((count, k), np.inf)
    alert_severity = np.zeros((count, k), dtype=np.int64)
    alert_valid = np.zeros((count, k), dtype=np.bool_)
    burn_index = {d: i for i, d in enumerate(burn_windows)}
    for i, windows in enumerate(per_slo_alerts):
        for j, (severity, long, short, factor) in enumerate(windows):
            alert_long[i, j] = burn_index[long]
            alert_short[i, j] = burn_index[short]
            alert_factor[i, j] = factor
            alert_severity[i, j] = SEVERITY_CODES[severity]
            alert_valid[i, j] = True
    slo_column = np.array(
        [
            rolling_index[s.window.duration]
            if isinstance(s.window, RollingWindow)
            else calendar_index[s.window]
            for s in slos
        ],
        dtype=np.int64,
    )
    burn_column = np.tile(
        np.array([rolling_index[d] for d in burn_windows], dtype=np.int64), (count, 1)
    )
    return BatchPlan(
        slos=slos,
        rows=rows,
        objectives=np.array([s.objective for s in slos], dtype=np.float64),
        min_events=np.array([s.alerting.min_events for s in slos], dtype=np.float64),
        burn_windows=burn_windows,
        rolling_columns=tuple(rolling),
        calendar_columns=tuple(calendars),
        slo_window_column=slo_column,
        burn_column=burn_column,
        alert_long=alert_long,
        alert_short=alert_short,
        alert_factor=alert_factor,
        alert_severity=alert_severity,
        alert_valid=alert_valid,
        alert_windows=tuple(per_slo_alerts),
    )


def _calendar_factors(plan: BatchPlan, at: datetime) -> NDArray[np.float64]:
    """Alert factors with calendar periods resolved at ``at`` (rolling ones are fixed)."""
    factors = plan.alert_factor.copy()
    for i, slo in enumerate(plan.slos):
        if isinstance(slo.window, CalendarWindow) and slo.alerting.windows is None:
            for j, window in enumerate(alert_windows(slo, at)):
                factors[i, j] = window.factor
    return factors


def _periods(plan: BatchPlan, at: datetime) -> NDArray[np.float64]:
    return np.array(
        [nominal_period(s.window, at).total_seconds() for s in plan.slos], dtype=np.float64
    )


def evaluate_batch(plan: BatchPlan, grid: CountGrid, at: datetime) -> BatchResult:
    """Evaluate every SLO of ``plan`` at ``at`` from the grid's buckets."""
    end = at.timestamp()
    starts = [end - d.total_seconds() for d in plan.rolling_columns]
    starts += [calendar_period_bounds(c, at)[0].timestamp() for c in plan.calendar_columns]
    row_good, row_total = grid.window_sums(starts, end)
    rows = plan.rows
    good = row_good[rows, plan.slo_window_column].astype(np.float64)
    total = row_total[rows, plan.slo_window_column].astype(np.float64)
    objectives = plan.objectives
    window_good = row_good[rows[:, None], plan.burn_column].astype(np.float64)
    window_total = row_total[rows[:, None], plan.burn_column].astype(np.float64)
    burn = burn_rate(window_total - window_good, window_total, objectives[:, None])
    slots = np.arange(len(plan.slos))[:, None]
    long_burn = burn[slots, plan.alert_long]
    short_burn = burn[slots, plan.alert_short]
    long_total = window_total[slots, plan.alert_long]
    has_calendar = bool(plan.calendar_columns)
    factors = _calendar_factors(plan, at) if has_calendar else plan.alert_factor
    firing = (
        alert_firing(long_burn, short_burn, factors, long_total, plan.min_events[:, None])
        & plan.alert_valid
    )
    remaining = budget_remaining(total - good, total, objectives)
    basis = burn[:, plan.burn_windows.index(FORECAST_BASIS)]
    seconds = seconds_to_exhaustion(remaining, basis, _periods(plan, at))
    return BatchResult(
        at=at,
        good=good,
        total=total,
        sli=sli_ratio(good, total),
        budget_remaining=remaining,
        burn=burn,
        window_good=window_good,
        window_total=window_total,
        alert_long_burn=long_burn,
        alert_short_burn=short_burn,
        alert_firing=firing,
        alert_factor=factors,
        exhaustion_seconds=seconds,
    )
