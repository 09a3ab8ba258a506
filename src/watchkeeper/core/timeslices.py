"""Timeslice SLIs: the share of time slices that met their own target.

A time-slice SLI (OpenSLO v1 ``budgetingMethod: Timeslices``; "windows-based" SLOs in Google
Cloud Monitoring) cuts the window into slices of ``slice_duration`` aligned to multiples of
that duration since the Unix epoch. Only slices lying entirely inside ``[start, end)`` count.
A slice whose events sum to zero total has no data and is left out; a slice with data is
good when its own ratio ``good / total`` is at least ``slice_target`` (``>=``, unrounded).
The SLI over a window is then ``good slices / slices with data``, and budgets and burn rates
(SRE Workbook ch. 5) use the same formulas as event SLIs with slices in place of events.
Maintenance windows act on the underlying events, so a slice wholly under maintenance has
no data.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import numpy as np
from numpy.typing import ArrayLike, NDArray

from watchkeeper.core.budget import FloatArray, sli_ratio
from watchkeeper.core.series import CountSource, sums_excluding
from watchkeeper.core.slo import SLI


@dataclass(frozen=True, eq=False)  # arrays have no single truth value to compare by
class SliceOutcomes:
    """Per-slice results: each slice's start (Unix seconds), whether it had data, whether good."""

    starts: FloatArray
    has_data: NDArray[np.bool_]
    good: NDArray[np.bool_]


def slice_parameters(indicator: SLI) -> tuple[timedelta, float]:
    """The (slice_duration, slice_target) of a timeslice SLI; ValueError when either is missing."""
    if indicator.slice_duration is None or indicator.slice_target is None:
        raise ValueError(f"timeslice SLI {indicator.name!r} needs slice_duration and slice_target")
    return indicator.slice_duration, indicator.slice_target


def _slice_seconds(slice_duration: timedelta) -> float:
    seconds = slice_duration.total_seconds()
    if seconds <= 0:
        raise ValueError("slice_duration must be positive")
    return seconds


def _outcomes_at(
    source: CountSource,
    slice_starts: FloatArray,
    seconds: float,
    slice_target: float,
    excluded_starts: ArrayLike,
    excluded_ends: ArrayLike,
) -> SliceOutcomes:
    good, total = sums_excluding(
        source, slice_starts, slice_starts + seconds, excluded_starts, excluded_ends
    )
    # NaN ratios (no data) compare false, so an empty slice is never good.
    return SliceOutcomes(slice_starts, total > 0, sli_ratio(good, total) >= slice_target)


def slice_outcomes(
    source: CountSource,
    start: float,
    end: float,
    slice_duration: timedelta,
    slice_target: float,
    excluded_starts: ArrayLike = (),
    excluded_ends: ArrayLike = (),
) -> SliceOutcomes:
    """Outcome of every epoch-aligned slice lying entirely inside ``[start, end)``."""
    seconds = _slice_seconds(slice_duration)
    first, past = np.ceil(start / seconds), np.floor(end / seconds)
    indices = np.arange(first, max(first, past), dtype=np.float64)
    return _outcomes_at(
        source, indices * seconds, seconds, slice_target, excluded_starts, excluded_ends
    )


def slice_counts(
    source: CountSource,
    starts: ArrayLike,
    ends: ArrayLike,
    slice_duration: timedelta,
    slice_target: float,
    excluded_starts: ArrayLike = (),
    excluded_ends: ArrayLike = (),
) -> tuple[FloatArray, FloatArray]:
    """(good slices, slices with data) for each window ``[starts[i], ends[i])``, vectorised.

    All slices of all windows are summed in one ``sums`` call. Windows that overlap (as the
    burn-rate windows of one SLO do, all ending at the same instant) share one run of slices
    evaluated once and counted per window from cumulative sums.
    """
    seconds = _slice_seconds(slice_duration)
    window_starts = np.asarray(starts, dtype=np.float64)
    window_ends = np.asarray(ends, dtype=np.float64)
    # Slice k covers [k s, (k + 1) s); it lies inside [start, end) iff
    # ceil(start / s) <= k and k + 1 <= floor(end / s).
    first = np.ceil(window_starts / seconds).astype(np.int64)
    past = np.maximum(np.floor(window_ends / seconds).astype(np.int64), first)
    per_window = past - first
    requested = int(per_window.sum())
    if requested == 0:
        return np.zeros(window_starts.shape), np.zeros(window_starts.shape)
    used = per_window > 0
    low, high = int(first[used].min()), int(past[used].max())
    if high - low <= requested:
        outcomes = _outcomes_at(
            source,
            np.arange(low, high, dtype=np.float64) * seconds,
            seconds,
            slice_target,
            excluded_starts,
            excluded_ends,
        )
        good_before = np.concatenate(([0], np.cumsum(outcomes.good)))
        data_before = np.concatenate(([0], np.cumsum(outcomes.has_data)))
        begin = np.clip(first - low, 0, high - low)
        finish = np.clip(past - low, begin, high - low)
        good_slices = good_before[finish] - good_before[begin]
        data_slices = data_before[finish] - data_before[begin]
        return good_slices.astype(np.float64), data_slices.astype(np.float64)
    # Windows far apart: evaluate only their own slices rather than the whole span between.
    window_of_slice = np.repeat(np.arange(window_starts.size), per_window)
    offsets = np.arange(requested) - np.repeat(np.cumsum(per_window) - per_window, per_window)
    slice_index = first[window_of_slice] + offsets
    outcomes = _outcomes_at(
        source,
        slice_index.astype(np.float64) * seconds,
        seconds,
        slice_target,
        excluded_starts,
        excluded_ends,
    )
    size = window_starts.size
    # bincount with weights already yields float64; asarray only tells the type checker.
    good_slices = np.bincount(window_of_slice, weights=outcomes.good, minlength=size)
    data_slices = np.bincount(window_of_slice, weights=outcomes.has_data, minlength=size)
    return np.asarray(good_slices, dtype=np.float64), np.asarray(data_slices, dtype=np.float64)
