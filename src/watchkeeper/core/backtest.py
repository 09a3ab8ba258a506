"""Backtesting burn-rate alerts: when would page and ticket alerts have fired over a past range?

The alert logic replayed is the one the worker runs (SRE Workbook ch. 5, "Alerting on SLOs";
``core.burn_rate.alert_firing``): at each evaluation time ``t`` every alert window pair sums
its counts over ``[t - long, t)`` and ``[t - short, t)`` and fires when both burn rates are
strictly above its factor (unrounded), with the SLO's ``min_events`` guard on the long
window; a window without events has no burn rate and never fires. A severity fires at ``t``
when any of its window pairs does. Maintenance windows are excluded and sliced SLIs count
slices, exactly as in ``core.evaluation`` (its ``window_sums`` does the summing).

The evaluation times are ``start, start + step, ...`` up to and including ``end``. An
*episode* of a severity runs from the first time it fires (``fired_at``) to the first later
time it does not (``cleared_at``; None when it still fires at the last evaluation time). Its
``duration`` is ``cleared_at - fired_at``, or ``end - fired_at`` while it still fires.

Budget consumed by an episode: the bad events in ``[fired_at, cleared_at or end)`` divided by
the error budget of the SLO window ending at the episode's end, that is by
``window_total x (1 - objective)`` where ``window_total`` is every event of
``[episode_end - period, episode_end)`` and ``period`` the SLO period
(``core.windows.nominal_period``: the rolling duration, or the length of the calendar period
containing the episode's end). The same definition as the budget an incident burned
(``core.incident.budget_burned``). The summary applies it to the whole range ``[start, end)``.

Everything is vectorised over the evaluation times: each chunk of times costs one ``sums``
call on the source, whatever the number of alert windows.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import MappingProxyType

import numpy as np
from numpy.typing import NDArray

from watchkeeper.core.budget import FloatArray
from watchkeeper.core.burn_rate import alert_firing, burn_rate
from watchkeeper.core.evaluation import window_sums
from watchkeeper.core.incident import budget_burned
from watchkeeper.core.series import CountSource, from_unix_seconds, to_unix_seconds
from watchkeeper.core.slo import SLO, AlertWindow, CalendarWindow, Severity
from watchkeeper.core.windows import alert_windows, calendar_period_bounds, nominal_period

__all__ = [
    "DEFAULT_STEP",
    "Backtest",
    "Episode",
    "FiringSeries",
    "SeveritySummary",
    "backtest",
    "evaluation_times",
    "firing_series",
    "with_alerting",
]

DEFAULT_STEP = timedelta(minutes=1)
# Evaluation times handled per ``sums`` call: bounds the memory of long ranges (50,000 times x
# 8 windows is 400,000 windows, a few MB per array) while keeping short ranges to one call.
CHUNK_STEPS = 50_000
SEVERITIES = (Severity.PAGE, Severity.TICKET)


@dataclass(frozen=True)
class Episode:
    """One stretch of time during which a severity's alert would have fired."""

    severity: Severity
    fired_at: datetime
    cleared_at: datetime | None  # None: still firing at the end of the range
    duration: timedelta
    # True when it already fired at the first evaluation time: it may have started earlier.
    firing_at_start: bool
    # The highest long-window burn rate of the severity's firing window pairs during it.
    peak_burn_rate: float
    bad: float  # bad events (slices) in [fired_at, cleared_at or end)
    total: float  # all events (slices) in the same span
    window_total: float  # events of the SLO window ending with the episode
    budget_consumed: float | None  # bad / (window_total x (1 - objective)); None without events


@dataclass(frozen=True)
class SeveritySummary:
    """How often, and for how long, one severity fired over the range."""

    severity: Severity
    alerts: int
    firing: timedelta


@dataclass(frozen=True)
class Backtest:
    """A replay of an SLO's burn-rate alerts over ``[start, end]``."""

    slo_key: str
    start: datetime
    end: datetime
    step: timedelta
    steps: int  # evaluation times replayed
    windows: tuple[AlertWindow, ...]  # the alert windows in force at ``end``
    min_events: int
    episodes: tuple[Episode, ...]  # by fired_at, pages before tickets at the same time
    summary: Mapping[Severity, SeveritySummary]
    bad: float  # bad events (slices) in [start, end)
    total: float
    window_total: float  # events of the SLO window ending at ``end``
    budget_consumed: float | None  # bad / (window_total x (1 - objective))


@dataclass(frozen=True)
class FiringSeries:
    """Per severity and evaluation time: whether it fires, and its firing pairs' peak burn."""

    times: FloatArray  # Unix seconds
    firing: Mapping[Severity, NDArray[np.bool_]]
    # Highest long-window burn rate among the severity's firing pairs; -inf where none fires.
    peak: Mapping[Severity, FloatArray]


def with_alerting(
    slo: SLO, *, windows: tuple[AlertWindow, ...] | None = None, min_events: int | None = None
) -> SLO:
    """``slo`` with its alert windows and/or event minimum replaced (None keeps the SLO's)."""
    alerting = slo.alerting
    if windows is not None:
        alerting = dataclasses.replace(alerting, windows=windows)
    if min_events is not None:
        alerting = dataclasses.replace(alerting, min_events=min_events)
    return dataclasses.replace(slo, alerting=alerting)


def evaluation_times(start: datetime, end: datetime, step: timedelta) -> FloatArray:
    """Unix seconds ``start, start + step, ...`` up to and including ``end``."""
    if step <= timedelta():
        raise ValueError("the step must be positive")
    if end < start:
        raise ValueError("the end must not be before the start")
    count = (end - start) // step + 1
    return to_unix_seconds(start) + np.arange(count, dtype=np.float64) * step.total_seconds()


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{moment!r} has no time zone; backtests need aware datetimes")
    return moment.astimezone(UTC)


def _factor_table(slo: SLO, times: FloatArray) -> tuple[tuple[AlertWindow, ...], FloatArray]:
    """The alert windows in force and their factor at each time (rows: windows, columns: times).

    Factors change only for a calendar SLO window with the default alert windows (scaled to
    each period's length); then the periods the times span are looked up once each.
    """
    last = from_unix_seconds(float(times[-1]))
    windows = alert_windows(slo, last)
    if slo.alerting.windows is not None or not isinstance(slo.window, CalendarWindow):
        factors = np.array([w.factor for w in windows], dtype=np.float64)
        return windows, np.repeat(factors[:, None], times.size, axis=1)
    period_starts: list[float] = []
    period_factors: list[list[float]] = []
    moment = from_unix_seconds(float(times[0]))
    while True:
        period_start, period_end = calendar_period_bounds(slo.window, moment)
        in_force = alert_windows(slo, moment)
        # Only the factors depend on the period: the windows' lengths are the defaults'.
        assert [(w.severity, w.long, w.short) for w in in_force] == [
            (w.severity, w.long, w.short) for w in windows
        ]
        period_starts.append(to_unix_seconds(period_start))
        period_factors.append([w.factor for w in in_force])
        if period_end > last:
            break
        moment = period_end
    index = np.searchsorted(np.array(period_starts), times, side="right") - 1
    table = np.array(period_factors, dtype=np.float64).T
    return windows, table[:, np.clip(index, 0, None)]


def firing_series(slo: SLO, source: CountSource, times: FloatArray) -> FiringSeries:
    """Which severities fire at each of ``times`` (Unix seconds), with the peak burn rates."""
    times = np.asarray(times, dtype=np.float64)
    firing = {s: np.zeros(times.size, dtype=np.bool_) for s in SEVERITIES}
    peak = {s: np.full(times.size, -np.inf) for s in SEVERITIES}
    if times.size == 0:
        return FiringSeries(times, MappingProxyType(firing), MappingProxyType(peak))
    windows, factors = _factor_table(slo, times)
    lengths = sorted({length for w in windows for length in (w.long, w.short)})
    row_of = {length: i for i, length in enumerate(lengths)}
    long_rows = np.array([row_of[w.long] for w in windows], dtype=np.intp)
    short_rows = np.array([row_of[w.short] for w in windows], dtype=np.intp)
    seconds = np.array([length.total_seconds() for length in lengths], dtype=np.float64)
    severity_of = np.array([w.severity.value for w in windows])
    for first in range(0, times.size, CHUNK_STEPS):
        chunk = times[first : first + CHUNK_STEPS]
        # One sums call for every window length at every time of the chunk.
        ends = np.tile(chunk, len(lengths))
        starts = ends - np.repeat(seconds, chunk.size)
        good, total = window_sums(slo, source, starts, ends)
        good = good.reshape(len(lengths), chunk.size)
        total = total.reshape(len(lengths), chunk.size)
        rates = burn_rate(total - good, total, slo.objective)
        long_rates = rates[long_rows]
        pair_firing = alert_firing(
            long_rates,
            rates[short_rows],
            factors[:, first : first + CHUNK_STEPS],
            total[long_rows],
            slo.alerting.min_events,
        )
        firing_rates = np.where(pair_firing, long_rates, -np.inf)
        for severity in SEVERITIES:
            mine = severity_of == severity.value
            if not mine.any():
                continue
            span = slice(first, first + chunk.size)
            firing[severity][span] = pair_firing[mine].any(axis=0)
            peak[severity][span] = firing_rates[mine].max(axis=0)
    return FiringSeries(times, MappingProxyType(firing), MappingProxyType(peak))


def _runs(firing: NDArray[np.bool_]) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """Index of each run's first firing time and of the first time after it (len: still on)."""
    edges = np.diff(np.concatenate(([0], firing.astype(np.int8), [0])))
    return np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)


def backtest(
    slo: SLO,
    source: CountSource,
    *,
    start: datetime,
    end: datetime,
    step: timedelta = DEFAULT_STEP,
    windows: tuple[AlertWindow, ...] | None = None,
    min_events: int | None = None,
) -> Backtest:
    """Replay ``slo``'s burn-rate alerts from ``start`` to ``end`` every ``step``.

    ``windows`` and ``min_events`` override the SLO's alerting (None keeps it). ``source``
    must hold events from ``start`` minus the longest alert window (and minus the SLO period,
    for the budget figures) up to ``end``.
    """
    start, end = _utc(start), _utc(end)
    slo = with_alerting(slo, windows=windows, min_events=min_events)
    times = evaluation_times(start, end, step)
    series = firing_series(slo, source, times)
    end_seconds = to_unix_seconds(end)
    found: list[tuple[Severity, int, int, float]] = []
    for severity in SEVERITIES:
        rises, falls = _runs(series.firing[severity])
        if rises.size == 0:
            continue
        # Interleaved [rise, fall) bounds; the appended -inf stands at index len for open runs.
        padded = np.concatenate((series.peak[severity], [-np.inf]))
        peaks = np.maximum.reduceat(padded, np.column_stack((rises, falls)).ravel())[::2]
        found.extend(
            (severity, int(rise), int(fall), float(top))
            for rise, fall, top in zip(rises, falls, peaks, strict=True)
        )
    # Counts of every episode, of every SLO window ending with one, and of the whole range.
    span_starts = [float(times[rise]) for _, rise, _, _ in found] + [to_unix_seconds(start)]
    span_ends = [
        float(times[fall]) if fall < times.size else end_seconds for _, _, fall, _ in found
    ]
    span_ends.append(end_seconds)
    window_starts = [
        to_unix_seconds(moment - nominal_period(slo.window, moment))
        for moment in (from_unix_seconds(seconds) for seconds in span_ends)
    ]
    count = len(span_ends)
    good, total = window_sums(
        slo,
        source,
        np.array(span_starts + window_starts, dtype=np.float64),
        np.array(span_ends + span_ends, dtype=np.float64),
    )
    bad = total - good
    episodes = []
    for i, (severity, rise, fall, top) in enumerate(found):
        fired_at = from_unix_seconds(float(times[rise]))
        cleared_at = from_unix_seconds(float(times[fall])) if fall < times.size else None
        episodes.append(
            Episode(
                severity=severity,
                fired_at=fired_at,
                cleared_at=cleared_at,
                duration=(cleared_at or end) - fired_at,
                firing_at_start=rise == 0,
                peak_burn_rate=top,
                bad=float(bad[i]),
                total=float(total[i]),
                window_total=float(total[count + i]),
                budget_consumed=budget_burned(
                    bad=float(bad[i]), window_total=float(total[count + i]), objective=slo.objective
                ),
            )
        )
    episodes.sort(key=lambda e: (e.fired_at, SEVERITIES.index(e.severity)))
    summary = {
        severity: SeveritySummary(
            severity,
            alerts=sum(1 for e in episodes if e.severity is severity),
            firing=sum((e.duration for e in episodes if e.severity is severity), timedelta()),
        )
        for severity in SEVERITIES
    }
    range_index, range_window = count - 1, 2 * count - 1
    return Backtest(
        slo_key=slo.key,
        start=start,
        end=end,
        step=step,
        steps=int(times.size),
        windows=alert_windows(slo, end),
        min_events=slo.alerting.min_events,
        episodes=tuple(episodes),
        summary=MappingProxyType(summary),
        bad=float(bad[range_index]),
        total=float(total[range_index]),
        window_total=float(total[range_window]),
        budget_consumed=budget_burned(
            bad=float(bad[range_index]),
            window_total=float(total[range_window]),
            objective=slo.objective,
        ),
    )
