"""Time-slice SLIs: the share of good slices, or the average of the slices' own ratios.

Both OpenSLO v1 slice methods cut the window into slices of ``slice_duration`` aligned to
multiples of that duration since the Unix epoch. Only slices lying entirely inside
``[start, end)`` count. A slice whose events sum to zero total has no data and is left out
(it counts neither as 0 nor as 1, as a window without events has no SLI). Maintenance
windows act on the underlying events, so a slice wholly under maintenance has no data.

- ``Timeslices`` (SLIKind.TIMESLICES; "windows-based" SLOs in Google Cloud Monitoring): a
  slice with data is good when its own ratio ``good / total`` is at least ``slice_target``
  (``>=``, unrounded). The SLI is ``good slices / slices with data``.
- ``RatioTimeslices`` (SLIKind.RATIO_TIMESLICES): the SLI is computed per slice and averaged
  over the slices (OpenSLO v1 README, "budgetingMethod"): ``mean(good_i / total_i)`` over
  the slices with data. Every slice weighs the same whatever its traffic, and a slice is
  never rounded to good or bad.

Either way a slice contributes a *score* to the numerator (1 or 0 for Timeslices, its ratio
for RatioTimeslices) and 1 to the denominator, so the SLI over a window is
``sum(score) / slices with data`` and budgets and burn rates (SRE Workbook ch. 5) use the
same formulas as event SLIs with slices in place of events: the budget remaining is
``1 - mean(1 - score) / (1 - objective)`` and the burn rate over ``w`` is
``mean(1 - score over the slices in w) / (1 - objective)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta

import numpy as np
from numpy.typing import ArrayLike, NDArray

from watchkeeper.core.budget import FloatArray, sli_ratio
from watchkeeper.core.series import CountSource, sums_excluding
from watchkeeper.core.slo import SLI, SLIKind


@dataclass(frozen=True, eq=False)  # arrays have no single truth value to compare by
class SliceOutcomes:
    """Per-slice results: each slice's start (Unix seconds), whether it had data, whether it
    was good (ratio at least the slice target) and its score (see the module docstring; 0
    for a slice without data)."""

    starts: FloatArray
    has_data: NDArray[np.bool_]
    good: NDArray[np.bool_]
    score: FloatArray


def slice_parameters(indicator: SLI) -> tuple[timedelta, float | None]:
    """The (slice_duration, slice_target) of a sliced SLI; the target is None for
    RatioTimeslices (scores are the slices' ratios). ValueError when a needed one is missing."""
    if indicator.kind is SLIKind.RATIO_TIMESLICES and indicator.slice_duration is not None:
        return indicator.slice_duration, None
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
    slice_target: float | None,
    excluded_starts: ArrayLike,
    excluded_ends: ArrayLike,
) -> SliceOutcomes:
    good, total = sums_excluding(
        source, slice_starts, slice_starts + seconds, excluded_starts, excluded_ends
    )
    ratios = sli_ratio(good, total)
    has_data = total > 0
    # NaN ratios (no data) compare false, so an empty slice is never good.
    met = ratios >= (slice_target if slice_target is not None else 1.0)
    score = np.where(has_data, ratios, 0.0) if slice_target is None else met.astype(np.float64)
    return SliceOutcomes(slice_starts, has_data, met, score)


def slice_outcomes(
    source: CountSource,
    start: float,
    end: float,
    slice_duration: timedelta,
    slice_target: float | None,
    excluded_starts: ArrayLike = (),
    excluded_ends: ArrayLike = (),
) -> SliceOutcomes:
    """Outcome of every epoch-aligned slice lying entirely inside ``[start, end)``
    (``slice_target`` None: RatioTimeslices scores)."""
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
    slice_target: float | None,
    excluded_starts: ArrayLike = (),
    excluded_ends: ArrayLike = (),
) -> tuple[FloatArray, FloatArray]:
    """(sum of slice scores, slices with data) for each window ``[starts[i], ends[i])``.

    With a ``slice_target`` (Timeslices) the score sum is the number of good slices; with
    None (RatioTimeslices) it is the sum of the slices' own ratios, so dividing by the
    slices with data gives their average.

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
        data_before = np.concatenate(([0], np.cumsum(outcomes.has_data)))
        begin = np.clip(first - low, 0, high - low)
        finish = np.clip(past - low, begin, high - low)
        if slice_target is None:
            # Ratios: a difference of running sums would carry the rounding of every slice
            # before the window (a window of ratios 1 could average 1.0000000000000002), so
            # each window's ratios are summed exactly on their own.
            good_slices = np.array(
                [math.fsum(outcomes.score[b:f]) for b, f in zip(begin, finish, strict=True)],
                dtype=np.float64,
            )
        else:  # counts of good slices: whole numbers, summed exactly either way
            good_before = np.concatenate(([0.0], np.cumsum(outcomes.score)))
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
    scores = np.bincount(window_of_slice, weights=outcomes.score, minlength=size)
    with_data = np.bincount(window_of_slice, weights=outcomes.has_data, minlength=size)
    return np.asarray(scores, dtype=np.float64), np.asarray(with_data, dtype=np.float64)
