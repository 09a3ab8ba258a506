"""CountGrid: ring buffers of minute and hour buckets, checked against naive sums."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from watchkeeper.core.grid import HOUR, MINUTE, CountGrid, minute_horizon, minute_index

NOW_MINUTE = 29_000_040  # 2025-02-19 06:00 UTC: an hour boundary, to reason in whole hours


def _naive(times: np.ndarray, good: np.ndarray, total: np.ndarray, start: float, end: float):
    inside = [(g, t) for s, g, t in zip(times, good, total, strict=True) if start <= s < end]
    return sum(g for g, _ in inside), sum(t for _, t in inside)


def test_minute_index_and_horizon() -> None:
    assert minute_index(119.9) == 1
    assert minute_index(-0.5) == -1
    # A ring of 120 minutes ending at minute 179 starts at minute 60: the horizon is minute 60.
    assert minute_horizon(179, 120) == 60
    # Ending at minute 180 it starts at 61, so minute resolution starts at the next hour, 120.
    assert minute_horizon(180, 120) == 120


def test_rejects_tiny_grids() -> None:
    with pytest.raises(ValueError, match="at least"):
        CountGrid(1, minute_slots=10, hour_slots=5, current_minute=0)


def test_window_sums_split_between_hours_and_minutes() -> None:
    grid = CountGrid(2, minute_slots=180, hour_slots=48, current_minute=NOW_MINUTE)
    # Row 0: 10 good of 10 in each of the last 120 minutes; one bad of 100 an hour, 20 h back.
    minutes = np.arange(NOW_MINUTE - 119, NOW_MINUTE + 1, dtype=np.int64)
    grid.set_minutes(np.zeros(120, dtype=np.int64), minutes, np.full(120, 10), np.full(120, 10))
    old_hours = np.arange(NOW_MINUTE // 60 - 20, NOW_MINUTE // 60 - 2, dtype=np.int64)
    grid.set_hours(
        np.zeros(len(old_hours), dtype=np.int64), old_hours, np.full(18, 99), np.full(18, 100)
    )
    end = (NOW_MINUTE + 1) * MINUTE  # just after the newest minute
    good, total = grid.window_sums([end - 300, end - 3600, end - 86400], end)
    assert total[0].tolist() == [50, 600, 1200 + 1800]
    assert good[0].tolist() == [50, 600, 1200 + 18 * 99]
    assert total[1].tolist() == [0, 0, 0]  # the other row saw nothing


def test_advance_clears_wrapped_slots_but_keeps_hours() -> None:
    grid = CountGrid(1, minute_slots=120, hour_slots=4, current_minute=NOW_MINUTE)
    grid.set_minutes(np.array([0]), np.array([NOW_MINUTE]), np.array([3]), np.array([4]))
    grid.advance(NOW_MINUTE + 119)  # the minute is still in the ring
    assert grid.holds_minute(NOW_MINUTE)
    grid.advance(NOW_MINUTE + 120)  # now its slot is reused
    assert not grid.holds_minute(NOW_MINUTE)
    assert int(grid.minute_total.sum()) == 0
    assert int(grid.hour_total.sum()) == 4  # the hour still counts it
    assert grid.holds_hour(NOW_MINUTE // 60)
    grid.advance(NOW_MINUTE + 120)  # not forward: nothing changes
    grid.advance(NOW_MINUTE + 10_000)  # far ahead: everything wraps
    assert int(grid.hour_total.sum()) == 0
    assert not grid.holds_hour(NOW_MINUTE // 60)


def test_overwriting_a_minute_adjusts_its_hour_by_the_change() -> None:
    grid = CountGrid(1, minute_slots=120, hour_slots=4, current_minute=NOW_MINUTE)
    row, minute = np.array([0]), np.array([NOW_MINUTE - 1])
    grid.set_minutes(row, minute, np.array([5]), np.array([10]))
    grid.set_minutes(row, minute, np.array([7]), np.array([12]))  # a re-read with new counts
    assert int(grid.hour_total.sum()) == 12
    assert int(grid.hour_good.sum()) == 7
    # Minutes outside the ring and hours outside the hour ring are ignored.
    grid.set_minutes(row, np.array([NOW_MINUTE + 5]), np.array([1]), np.array([1]))
    grid.set_hours(row, np.array([NOW_MINUTE // 60 + 3]), np.array([1]), np.array([1]))
    assert int(grid.hour_total.sum()) == 12


@settings(max_examples=60, deadline=None)
@given(
    data=st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=40 * 60 - 1),  # minutes back from now
            st.integers(min_value=0, max_value=50),
            st.integers(min_value=0, max_value=50),
        ),
        max_size=60,
    ),
    window_minutes=st.lists(st.integers(min_value=1, max_value=48 * 60), min_size=1, max_size=6),
    offset_seconds=st.integers(min_value=0, max_value=59),
)
def test_window_sums_equal_naive_sums_over_the_same_buckets(
    data: list[tuple[int, int, int]], window_minutes: list[int], offset_seconds: int
) -> None:
    grid = CountGrid(1, minute_slots=300, hour_slots=60, current_minute=NOW_MINUTE)
    merged: dict[int, tuple[int, int]] = {}
    for back, bad, good in data:
        merged[NOW_MINUTE - back] = (good, good + bad)
    for minute, (good, total) in merged.items():
        if grid.holds_minute(minute):
            grid.set_minutes(np.array([0]), np.array([minute]), np.array([good]), np.array([total]))
    # Older minutes arrive as whole hours, as compacted data does.
    hours: dict[int, list[int]] = {}
    for minute, (good, total) in merged.items():
        if not grid.holds_minute(minute):
            pair = hours.setdefault(minute // 60, [0, 0])
            pair[0] += good
            pair[1] += total
    for hour, (good, total) in hours.items():
        ring_minutes = [merged[m] for m in merged if m // 60 == hour and grid.holds_minute(m)]
        good += sum(g for g, _ in ring_minutes)
        total += sum(t for _, t in ring_minutes)
        grid.set_hours(np.array([0]), np.array([hour]), np.array([good]), np.array([total]))
    end = NOW_MINUTE * MINUTE + offset_seconds
    starts = [end - m * 60.0 for m in window_minutes]
    good, total = grid.window_sums(starts, end)
    times, bucket_good, bucket_total = grid.buckets_of(0)
    for column, start in enumerate(starts):
        assert (good[0, column], total[0, column]) == _naive(
            times, bucket_good, bucket_total, start, end
        )


def test_buckets_of_lists_hours_before_the_horizon_then_minutes() -> None:
    grid = CountGrid(1, minute_slots=120, hour_slots=5, current_minute=NOW_MINUTE + 30)
    grid.set_hours(np.array([0]), np.array([NOW_MINUTE // 60 - 2]), np.array([1]), np.array([2]))
    grid.set_minutes(np.array([0]), np.array([NOW_MINUTE + 10]), np.array([3]), np.array([3]))
    times, good, total = grid.buckets_of(0)
    assert times.tolist() == [(NOW_MINUTE // 60 - 2) * HOUR, (NOW_MINUTE + 10) * MINUTE]
    assert good.tolist() == [1, 3]
    assert total.tolist() == [2, 3]
