"""Good/total counts over time windows: the one thing the SLO math asks of a data source.

An SLI is a ratio of good to total events summed over a window (SRE Workbook ch. 2 and 5);
every window here is half-open, ``[start, end)``, in Unix seconds, so an event exactly at a
window's end belongs to the next window. ``EventSeries`` answers a window query in
O(log n) from cumulative sums, for exact per-event data and for buckets alike (a bucket is an
event at its start time). Maintenance windows are budget corrections: events inside them are
left out of every sum.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Protocol

import numpy as np
from numpy.typing import ArrayLike, NDArray

from watchkeeper.core.slo import MaintenanceWindow, Operator

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_SECOND = timedelta(seconds=1)


class CountSource(Protocol):
    """Anything that can sum good and total events over many half-open windows at once."""

    def sums(self, starts: FloatArray, ends: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Summed (good, total) over each ``[starts[i], ends[i])``, in Unix seconds."""


def to_unix_seconds(moment: datetime) -> float:
    """Unix seconds of a timezone-aware datetime; naive datetimes are refused (no local zone)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{moment!r} has no time zone; Watchkeeper works in aware UTC datetimes")
    # Integer microseconds divided once: exact to the float's precision, unlike summing parts.
    return (moment - _EPOCH) / _ONE_SECOND


def from_unix_seconds(seconds: float) -> datetime:
    """The aware UTC datetime for Unix seconds (microsecond resolution)."""
    return _EPOCH + timedelta(seconds=seconds)


def _as_float_vector(values: ArrayLike, name: str) -> FloatArray:
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {array.shape}")
    return array


class EventSeries:
    """Good/total counts at points in time, summed over windows from cumulative sums.

    Times are Unix seconds in any order (sorted stably on construction). Each window query
    is two binary searches (``searchsorted(side="left")``) into the sorted times and a
    difference of cumulative sums, so ``sums`` is O(m log n) for m windows over n events.
    Counts are float64: integer counts stay exact up to 2**53 events. Times must be finite
    and counts finite with ``0 <= good <= total``; anything else raises ValueError.
    """

    __slots__ = ("_cumulative_good", "_cumulative_total", "_times")

    def __init__(self, times: ArrayLike, good: ArrayLike, total: ArrayLike) -> None:
        event_times = _as_float_vector(times, "times")
        good_counts = _as_float_vector(good, "good")
        total_counts = _as_float_vector(total, "total")
        if not event_times.shape == good_counts.shape == total_counts.shape:
            raise ValueError(
                "times, good and total must have the same length, got "
                f"{event_times.size}, {good_counts.size} and {total_counts.size}"
            )
        if not np.all(np.isfinite(event_times)):
            raise ValueError("event times must be finite Unix seconds")
        if not (np.all(np.isfinite(good_counts)) and np.all(np.isfinite(total_counts))):
            raise ValueError("good and total counts must be finite")
        if np.any(good_counts < 0) or np.any(good_counts > total_counts):
            raise ValueError("counts must satisfy 0 <= good <= total")
        order = np.argsort(event_times, kind="stable")
        self._times: FloatArray = event_times[order]
        self._cumulative_good: FloatArray = _cumulative(good_counts[order])
        self._cumulative_total: FloatArray = _cumulative(total_counts[order])
        for array in (self._times, self._cumulative_good, self._cumulative_total):
            array.flags.writeable = False

    @classmethod
    def from_counts(cls, times: ArrayLike, good: ArrayLike, total: ArrayLike) -> EventSeries:
        """A series of (good, total) counts, one row per event or bucket."""
        return cls(times, good, total)

    @classmethod
    def from_observations(
        cls, times: ArrayLike, values: ArrayLike, operator: Operator, threshold: float
    ) -> EventSeries:
        """A threshold SLI's series: one event per observation, good when ``value op threshold``."""
        observations = _as_float_vector(values, "values")
        if np.any(np.isnan(observations)):
            raise ValueError("observations must be numbers, not NaN")
        good = operator.good_mask(observations, threshold).astype(np.float64)
        return cls(times, good, np.ones_like(observations))

    @classmethod
    def empty(cls) -> EventSeries:
        """A series without events: every window sums to (0, 0)."""
        nothing = np.empty(0, dtype=np.float64)
        return cls(nothing, nothing, nothing)

    def __len__(self) -> int:
        return int(self._times.size)

    @property
    def times(self) -> FloatArray:
        """The event times, sorted (read-only)."""
        return self._times

    def sums(self, starts: FloatArray, ends: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Summed (good, total) over each ``[starts[i], ends[i])``; empty or reversed windows: 0."""
        first = np.searchsorted(self._times, np.asarray(starts, dtype=np.float64), side="left")
        past = np.searchsorted(self._times, np.asarray(ends, dtype=np.float64), side="left")
        past = np.maximum(first, past)
        good = self._cumulative_good[past] - self._cumulative_good[first]
        total = self._cumulative_total[past] - self._cumulative_total[first]
        return good, total


def _cumulative(counts: FloatArray) -> FloatArray:
    cumulative = np.zeros(counts.size + 1, dtype=np.float64)
    np.cumsum(counts, out=cumulative[1:])
    return cumulative


def merge_intervals(starts: ArrayLike, ends: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Sorted, disjoint half-open intervals covering the same instants; empty ones are dropped."""
    interval_starts = _as_float_vector(starts, "starts")
    interval_ends = _as_float_vector(ends, "ends")
    if interval_starts.shape != interval_ends.shape:
        raise ValueError("starts and ends must have the same length")
    keep = interval_ends > interval_starts
    interval_starts, interval_ends = interval_starts[keep], interval_ends[keep]
    if interval_starts.size == 0:
        return interval_starts, interval_ends
    order = np.argsort(interval_starts, kind="stable")
    interval_starts, interval_ends = interval_starts[order], interval_ends[order]
    reach = np.maximum.accumulate(interval_ends)
    # A new merged interval begins where a start lies beyond everything seen so far; touching
    # intervals ([a, b) and [b, c)) merge, which changes nothing for a half-open union.
    begins = np.concatenate(([True], interval_starts[1:] > reach[:-1]))
    group_first = np.flatnonzero(begins)
    group_last = np.concatenate((group_first[1:] - 1, [interval_starts.size - 1]))
    return interval_starts[group_first], reach[group_last]


def maintenance_intervals(windows: Iterable[MaintenanceWindow]) -> tuple[FloatArray, FloatArray]:
    """Merged ``[start, end)`` Unix-second intervals of maintenance windows."""
    bounds = [(to_unix_seconds(w.start), to_unix_seconds(w.end)) for w in windows]
    starts = np.array([start for start, _ in bounds], dtype=np.float64)
    ends = np.array([end for _, end in bounds], dtype=np.float64)
    return merge_intervals(starts, ends)


def sums_excluding(
    source: CountSource,
    starts: ArrayLike,
    ends: ArrayLike,
    excluded_starts: ArrayLike = (),
    excluded_ends: ArrayLike = (),
) -> tuple[FloatArray, FloatArray]:
    """Summed (good, total) over each ``[start, end)``, leaving out events in excluded intervals.

    Excluded intervals (maintenance windows) are merged first so no event is subtracted
    twice; then each window's sum loses the sums over its intersections with them. All
    windows and all intersections go to the source in a single ``sums`` call.
    """
    window_starts = _as_float_vector(starts, "starts")
    window_ends = _as_float_vector(ends, "ends")
    if window_starts.shape != window_ends.shape:
        raise ValueError("starts and ends must have the same length")
    gap_starts, gap_ends = merge_intervals(excluded_starts, excluded_ends)
    if gap_starts.size == 0:
        return source.sums(window_starts, window_ends)
    # Merged gaps are sorted and disjoint, so their ends are sorted too: the gaps meeting
    # window i are the contiguous run [first[i], past[i]).
    first = np.searchsorted(gap_ends, window_starts, side="right")
    past = np.searchsorted(gap_starts, window_ends, side="left")
    per_window = np.maximum(past - first, 0)
    window_of_pair = np.repeat(np.arange(window_starts.size), per_window)
    run_offsets = np.arange(window_of_pair.size) - np.repeat(
        np.cumsum(per_window) - per_window, per_window
    )
    gap_of_pair = first[window_of_pair] + run_offsets
    cut_starts = np.maximum(window_starts[window_of_pair], gap_starts[gap_of_pair])
    cut_ends = np.minimum(window_ends[window_of_pair], gap_ends[gap_of_pair])
    good, total = source.sums(
        np.concatenate((window_starts, cut_starts)), np.concatenate((window_ends, cut_ends))
    )
    count = window_starts.size
    cut_good = np.bincount(window_of_pair, weights=good[count:], minlength=count)
    cut_total = np.bincount(window_of_pair, weights=total[count:], minlength=count)
    return good[:count] - cut_good, total[:count] - cut_total
