"""Dense per-SLI counts for evaluating many SLOs at once.

A ``CountGrid`` keeps, for every SLI row, a ring of 1-minute buckets covering the longest alert
window and a ring of 1-hour buckets covering the longest SLO window. Every minute bucket is
also counted in its hour, so a window is summed from whole hours before the *minute horizon*
(the first hour boundary inside the minute ring) and from minutes after it. A bucket counts in
a window ``[start, end)`` when the bucket's start lies in it, exactly as an event at the
bucket's start time would (see core/series.py), so per-SLO evaluation over the same buckets
gives identical numbers.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

# Bucket resolutions of the event store, in seconds (the one definition).
MINUTE = 60
HOUR = 3600

Int64Array = NDArray[np.int64]
Float64Array = NDArray[np.float64]


def minute_index(seconds: float) -> int:
    """Index of the minute bucket containing ``seconds`` (Unix time)."""
    return math.floor(seconds / MINUTE)


def minute_horizon(current_minute: int, minute_slots: int) -> int:
    """First hour boundary (as a minute index) inside a ring whose newest minute is current."""
    oldest = current_minute - minute_slots + 1
    return -(-oldest // 60) * 60


class CountGrid:
    """Ring buffers of good/total counts per SLI row at minute and hour resolution."""

    def __init__(self, rows: int, *, minute_slots: int, hour_slots: int, current_minute: int):
        if minute_slots < 120 or hour_slots < 2:
            raise ValueError("the grid needs at least 120 minute slots and 2 hour slots")
        self.rows = rows
        self.minute_slots = minute_slots
        self.hour_slots = hour_slots
        self.current_minute = current_minute
        # int32 per minute bucket (up to 2^31 events per SLI per minute) keeps 10,000 SLIs
        # over 3 days near 350 MB; hours and all sums use int64.
        self.minute_good = np.zeros((rows, minute_slots), dtype=np.int32)
        self.minute_total = np.zeros((rows, minute_slots), dtype=np.int32)
        self.hour_good = np.zeros((rows, hour_slots), dtype=np.int64)
        self.hour_total = np.zeros((rows, hour_slots), dtype=np.int64)

    @property
    def horizon_minute(self) -> int:
        """Minute index where minute resolution starts; older data is read by the hour."""
        return minute_horizon(self.current_minute, self.minute_slots)

    def holds_minute(self, minute: int) -> bool:
        """Whether the minute ring still holds ``minute``."""
        return self.current_minute - self.minute_slots < minute <= self.current_minute

    def holds_hour(self, hour: int) -> bool:
        """Whether the hour ring still holds ``hour``."""
        current_hour = self.current_minute // 60
        return current_hour - self.hour_slots < hour <= current_hour

    def advance(self, current_minute: int) -> None:
        """Move the newest minute forward, clearing the slots that wrap around."""
        if current_minute <= self.current_minute:
            return
        old_minute, self.current_minute = self.current_minute, current_minute
        self._clear(self.minute_good, self.minute_total, old_minute, current_minute)
        self._clear(self.hour_good, self.hour_total, old_minute // 60, current_minute // 60)

    @staticmethod
    def _clear(good: NDArray[np.generic], total: NDArray[np.generic], old: int, new: int) -> None:
        slots = good.shape[1]
        if new - old >= slots:
            good[:] = 0
            total[:] = 0
            return
        for index in range(old + 1, new + 1):
            good[:, index % slots] = 0
            total[:, index % slots] = 0

    def set_minutes(
        self, rows: Int64Array, minutes: Int64Array, good: Int64Array, total: Int64Array
    ) -> None:
        """Overwrite minute buckets (absolute values) and adjust their hours by the change.

        Buckets outside the ring are ignored; the caller re-reads their hours instead.
        """
        keep = (minutes > self.current_minute - self.minute_slots) & (
            minutes <= self.current_minute
        )
        rows, minutes, good, total = rows[keep], minutes[keep], good[keep], total[keep]
        slots = minutes % self.minute_slots
        delta_good = good - self.minute_good[rows, slots]
        delta_total = total - self.minute_total[rows, slots]
        self.minute_good[rows, slots] = good
        self.minute_total[rows, slots] = total
        hour_slots = (minutes // 60) % self.hour_slots
        np.add.at(self.hour_good, (rows, hour_slots), delta_good)
        np.add.at(self.hour_total, (rows, hour_slots), delta_total)

    def set_hours(
        self, rows: Int64Array, hours: Int64Array, good: Int64Array, total: Int64Array
    ) -> None:
        """Overwrite whole hours (the sum of every bucket in them, at any resolution)."""
        current_hour = self.current_minute // 60
        keep = (hours > current_hour - self.hour_slots) & (hours <= current_hour)
        slots = hours[keep] % self.hour_slots
        self.hour_good[rows[keep], slots] = good[keep]
        self.hour_total[rows[keep], slots] = total[keep]

    def _minute_range(self, first: int, end: int) -> tuple[Int64Array, Int64Array]:
        """Sum minutes ``[first, end)`` (minute indices inside the ring) for every row."""
        return _ring_sum(self.minute_good, self.minute_total, first, end)

    def _hour_range(self, first: int, end: int) -> tuple[Int64Array, Int64Array]:
        return _ring_sum(self.hour_good, self.hour_total, first, end)

    def window_sums(self, starts: Sequence[float], end: float) -> tuple[Int64Array, Int64Array]:
        """Good and total of every row over ``[start, end)`` for each start: shape (rows, len)."""
        end_minute = min(math.ceil(end / MINUTE), self.current_minute + 1)
        horizon = self.horizon_minute
        oldest_hour = self.current_minute // 60 - self.hour_slots + 1
        good = np.zeros((self.rows, len(starts)), dtype=np.int64)
        total = np.zeros((self.rows, len(starts)), dtype=np.int64)
        # Windows share their end, so sums nest: walk starts from the latest to the earliest
        # and add only the slice each one adds to the previous.
        order = sorted(range(len(starts)), key=lambda i: -starts[i])
        run_good = np.zeros(self.rows, dtype=np.int64)
        run_total = np.zeros(self.rows, dtype=np.int64)
        minute_cursor, hour_cursor = end_minute, horizon // 60
        for column in order:
            first_minute = max(math.ceil(starts[column] / MINUTE), horizon)
            if first_minute < minute_cursor:
                part_good, part_total = self._minute_range(first_minute, minute_cursor)
                run_good += part_good
                run_total += part_total
                minute_cursor = first_minute
            if starts[column] < horizon * MINUTE:
                first_hour = max(math.ceil(starts[column] / HOUR), oldest_hour)
                if first_hour < hour_cursor:
                    part_good, part_total = self._hour_range(first_hour, hour_cursor)
                    run_good += part_good
                    run_total += part_total
                    hour_cursor = first_hour
            good[:, column] = run_good
            total[:, column] = run_total
        return good, total

    def buckets_of(self, row: int) -> tuple[Float64Array, Int64Array, Int64Array]:
        """The non-empty buckets of one row as (start seconds, good, total), oldest first.

        Hours before the minute horizon, minutes after it: the same buckets window_sums reads.
        """
        horizon_hour = self.horizon_minute // 60
        current_hour = self.current_minute // 60
        hours = np.arange(current_hour - self.hour_slots + 1, horizon_hour, dtype=np.int64)
        minutes = np.arange(self.horizon_minute, self.current_minute + 1, dtype=np.int64)
        hour_slots = hours % self.hour_slots
        minute_slots = minutes % self.minute_slots
        times = np.concatenate([hours * HOUR, minutes * MINUTE]).astype(np.float64)
        good = np.concatenate(
            [self.hour_good[row, hour_slots], self.minute_good[row, minute_slots].astype(np.int64)]
        )
        total = np.concatenate(
            [
                self.hour_total[row, hour_slots],
                self.minute_total[row, minute_slots].astype(np.int64),
            ]
        )
        present = total > 0
        return times[present], good[present], total[present]


def _ring_sum(
    good: NDArray[np.integer], total: NDArray[np.integer], first: int, end: int
) -> tuple[Int64Array, Int64Array]:
    # Callers pass ranges shorter than the ring (minutes after the horizon, hours before it).
    slots = good.shape[1]
    start_slot, end_slot = first % slots, end % slots
    if start_slot < end_slot or end_slot == 0:
        stop = end_slot or slots
        return (
            good[:, start_slot:stop].sum(axis=1, dtype=np.int64),
            total[:, start_slot:stop].sum(axis=1, dtype=np.int64),
        )
    return (
        good[:, start_slot:].sum(axis=1, dtype=np.int64)
        + good[:, :end_slot].sum(axis=1, dtype=np.int64),
        total[:, start_slot:].sum(axis=1, dtype=np.int64)
        + total[:, :end_slot].sum(axis=1, dtype=np.int64),
    )
