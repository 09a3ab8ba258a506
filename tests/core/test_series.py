"""EventSeries window sums, maintenance exclusion and time conversion."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from watchkeeper.core.series import (
    CountSource,
    EventSeries,
    FloatArray,
    from_unix_seconds,
    maintenance_intervals,
    merge_intervals,
    sums_excluding,
    to_unix_seconds,
)
from watchkeeper.core.slo import MaintenanceWindow, Operator

FAST = settings(max_examples=60, deadline=None)


class CountingSource:
    """Wraps a source and counts ``sums`` calls (to check the single vectorised call)."""

    def __init__(self, inner: CountSource) -> None:
        self.inner = inner
        self.calls = 0

    def sums(self, starts: FloatArray, ends: FloatArray) -> tuple[FloatArray, FloatArray]:
        self.calls += 1
        return self.inner.sums(starts, ends)


def _arrays(*values: float) -> FloatArray:
    return np.array(values, dtype=np.float64)


# Four events: t=10 good, t=20 bad, t=20 good, t=30 good (one event each).
SMALL = EventSeries.from_counts([10, 20, 20, 30], [1, 0, 1, 1], [1, 1, 1, 1])


@pytest.mark.parametrize(
    ("name", "start", "end", "good", "total"),
    [
        # [10, 30) holds t=10, 20, 20; the event at the end (30) belongs to the next window.
        ("end is exclusive", 10, 30, 2, 3),
        # [20, 31) holds t=20, 20, 30: the start is inclusive.
        ("start is inclusive", 20, 31, 2, 3),
        ("empty window", 20, 20, 0, 0),
        ("reversed window", 30, 10, 0, 0),
        ("before every event", 0, 10, 0, 0),
        ("after every event", 30.5, 100, 0, 0),
        ("everything", -np.inf, np.inf, 3, 4),
    ],
)
def test_sums_half_open_windows(
    name: str, start: float, end: float, good: float, total: float
) -> None:
    got_good, got_total = SMALL.sums(_arrays(start), _arrays(end))
    assert (got_good[0], got_total[0]) == (good, total), name


def test_sums_vectorised_over_many_windows() -> None:
    good, total = SMALL.sums(_arrays(10, 20, 0), _arrays(30, 31, 100))
    assert good.tolist() == [2, 2, 3]
    assert total.tolist() == [3, 3, 4]


def test_unsorted_input_is_sorted() -> None:
    shuffled = EventSeries.from_counts([30, 20, 10, 20], [1, 1, 1, 0], [1, 1, 1, 1])
    assert shuffled.times.tolist() == [10, 20, 20, 30]
    assert not shuffled.times.flags.writeable
    good, total = shuffled.sums(_arrays(0, 15), _arrays(100, 25))
    assert good.tolist() == [3, 1]
    assert total.tolist() == [4, 2]


def test_buckets_count_at_their_start_time() -> None:
    # A 1-minute bucket starting at t=60 with 7 of 9 good counts wholly in [60, 120).
    buckets = EventSeries.from_counts([0, 60], [5, 7], [5, 9])
    good, total = buckets.sums(_arrays(60, 0), _arrays(120, 60))
    assert good.tolist() == [7, 5]
    assert total.tolist() == [9, 5]
    assert len(buckets) == 2


@pytest.mark.parametrize(
    ("operator", "expected_good"),
    [
        # Observations 100, 200, 300 against threshold 200: the boundary value 200 is good
        # only for the inclusive operators.
        (Operator.LT, [1, 0, 0]),
        (Operator.LTE, [1, 1, 0]),
        (Operator.GT, [0, 0, 1]),
        (Operator.GTE, [0, 1, 1]),
    ],
)
def test_from_observations(operator: Operator, expected_good: list[int]) -> None:
    series = EventSeries.from_observations([0, 1, 2], [100, 200, 300], operator, 200.0)
    per_event = [series.sums(_arrays(t), _arrays(t + 1))[0][0] for t in (0, 1, 2)]
    assert per_event == expected_good
    assert per_event == [float(operator.is_good(v, 200.0)) for v in (100, 200, 300)]
    assert series.sums(_arrays(0), _arrays(3))[1][0] == 3


def test_infinite_observation_is_a_bad_latency() -> None:
    series = EventSeries.from_observations([0], [np.inf], Operator.LTE, 0.5)
    assert series.sums(_arrays(0), _arrays(1)) == (_arrays(0), _arrays(1))


def test_empty_series() -> None:
    series = EventSeries.empty()
    good, total = series.sums(_arrays(-1e12, 0), _arrays(1e12, 1))
    assert len(series) == 0
    assert good.tolist() == [0, 0]
    assert total.tolist() == [0, 0]


@pytest.mark.parametrize(
    ("name", "times", "good", "total"),
    [
        ("lengths differ", [1, 2], [1], [1, 1]),
        ("two-dimensional", [[1, 2]], [[1, 1]], [[1, 1]]),
        ("NaN time", [np.nan], [1], [1]),
        ("infinite time", [np.inf], [1], [1]),
        ("negative good", [1], [-1], [1]),
        ("good above total", [1], [2], [1]),
        ("NaN count", [1], [np.nan], [1]),
        ("infinite total", [1], [1], [np.inf]),
    ],
)
def test_invalid_counts_are_refused(
    name: str, times: list[float], good: list[float], total: list[float]
) -> None:
    with pytest.raises(ValueError):
        EventSeries.from_counts(times, good, total)


def test_nan_observation_is_refused() -> None:
    with pytest.raises(ValueError, match="NaN"):
        EventSeries.from_observations([1], [np.nan], Operator.LT, 1.0)


@pytest.mark.parametrize(
    ("name", "moment", "seconds"),
    [
        ("epoch", datetime(1970, 1, 1, tzinfo=UTC), 0.0),
        ("one second", datetime(1970, 1, 1, 0, 0, 1, tzinfo=UTC), 1.0),
        ("microseconds", datetime(1970, 1, 1, 0, 0, 0, 250_000, tzinfo=UTC), 0.25),
        # 2024-01-01T01:00+01:00 is 2024-01-01T00:00Z = 1,704,067,200 s (19,723 days).
        ("other zone", datetime(2024, 1, 1, 1, tzinfo=timezone(timedelta(hours=1))), 1704067200),
    ],
)
def test_to_unix_seconds(name: str, moment: datetime, seconds: float) -> None:
    assert to_unix_seconds(moment) == seconds, name
    assert from_unix_seconds(seconds) == moment
    assert from_unix_seconds(seconds).tzinfo is UTC


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="no time zone"):
        to_unix_seconds(datetime(2024, 1, 1))


@pytest.mark.parametrize(
    ("name", "intervals", "merged"),
    [
        ("nothing", [], []),
        ("overlapping", [(0, 10), (5, 15)], [(0, 15)]),
        ("touching", [(20, 30), (30, 40)], [(20, 40)]),
        ("nested", [(0, 100), (10, 20)], [(0, 100)]),
        ("disjoint, unsorted", [(50, 60), (0, 10)], [(0, 10), (50, 60)]),
        ("empty ones dropped", [(5, 5), (8, 3)], []),
        (
            "mixed",
            [(20, 30), (0, 10), (5, 15), (30, 40), (50, 50), (45, 46)],
            [(0, 15), (20, 40), (45, 46)],
        ),
    ],
)
def test_merge_intervals(
    name: str, intervals: list[tuple[float, float]], merged: list[tuple[float, float]]
) -> None:
    starts, ends = merge_intervals([s for s, _ in intervals], [e for _, e in intervals])
    assert list(zip(starts.tolist(), ends.tolist(), strict=True)) == merged, name


def test_merge_intervals_needs_matching_lengths() -> None:
    with pytest.raises(ValueError, match="same length"):
        merge_intervals([1, 2], [3])


def test_maintenance_intervals_from_windows() -> None:
    base = datetime(2024, 1, 1, tzinfo=UTC)
    windows = [
        MaintenanceWindow(base + timedelta(hours=1), base + timedelta(hours=2), "db upgrade"),
        MaintenanceWindow(base, base + timedelta(hours=1, minutes=30)),
    ]
    starts, ends = maintenance_intervals(windows)
    # The two overlap: one interval from base to base + 2 h (7,200 s).
    assert starts.tolist() == [to_unix_seconds(base)]
    assert ends.tolist() == [to_unix_seconds(base) + 7200]
    assert maintenance_intervals([])[0].size == 0


# One event per second at t = 0..99; the ten at t = 10..19 are bad.
SECONDS = EventSeries.from_counts(
    np.arange(100), np.where((np.arange(100) >= 10) & (np.arange(100) < 20), 0, 1), np.ones(100)
)


@pytest.mark.parametrize(
    ("name", "start", "end", "good", "total"),
    [
        # Maintenance [10, 20) and [15, 25) merge into [10, 25): 15 events excluded, among
        # them all 10 bad ones. [0, 50) keeps 50 - 15 = 35 events, all good.
        ("window spans the maintenance", 0, 50, 35, 35),
        # [20, 30) loses t = 20..24: 5 good events left.
        ("window starts inside it", 20, 30, 5, 5),
        # [5, 12) loses t = 10, 11 (both bad): t = 5..9 remain.
        ("window ends inside it", 5, 12, 5, 5),
        ("window inside it", 12, 13, 0, 0),
        ("no overlap", 30, 40, 10, 10),
        ("window ends where it starts", 0, 10, 10, 10),
        ("empty window in it", 12, 12, 0, 0),
        ("reversed window", 40, 0, 0, 0),
    ],
)
def test_sums_excluding_maintenance(
    name: str, start: float, end: float, good: float, total: float
) -> None:
    source = CountingSource(SECONDS)
    got_good, got_total = sums_excluding(source, [start], [end], [10, 15], [20, 25])
    assert (got_good[0], got_total[0]) == (good, total), name
    assert source.calls == 1


def test_sums_excluding_without_maintenance_is_a_plain_sum() -> None:
    source = CountingSource(SECONDS)
    good, total = sums_excluding(source, [0, 10], [100, 20])
    assert good.tolist() == [90, 0]
    assert total.tolist() == [100, 10]
    assert source.calls == 1


def test_sums_excluding_needs_matching_lengths() -> None:
    with pytest.raises(ValueError, match="same length"):
        sums_excluding(SECONDS, [1, 2], [3])


events_strategy = st.lists(
    st.tuples(
        st.integers(-50, 50).map(float),
        st.integers(0, 5),
        st.integers(0, 5),
    ),
    max_size=40,
)
windows_strategy = st.lists(
    st.tuples(st.integers(-60, 60).map(float), st.integers(-60, 60).map(float)),
    min_size=1,
    max_size=8,
)


def _series(events: list[tuple[float, int, int]]) -> EventSeries:
    # Each drawn (time, a, b) becomes good = min(a, b), total = max(a, b).
    return EventSeries.from_counts(
        [t for t, _, _ in events],
        [min(a, b) for _, a, b in events],
        [max(a, b) for _, a, b in events],
    )


@FAST
@given(events=events_strategy, windows=windows_strategy)
def test_sums_equal_a_naive_loop(
    events: list[tuple[float, int, int]], windows: list[tuple[float, float]]
) -> None:
    good, total = _series(events).sums(
        _arrays(*(s for s, _ in windows)), _arrays(*(e for _, e in windows))
    )
    for i, (start, end) in enumerate(windows):
        inside = [(a, b) for t, a, b in events if start <= t < end]
        assert good[i] == sum(min(a, b) for a, b in inside)
        assert total[i] == sum(max(a, b) for a, b in inside)


@FAST
@given(
    events=events_strategy,
    windows=windows_strategy,
    maintenance=st.lists(
        st.tuples(st.integers(-60, 60).map(float), st.integers(0, 30).map(float)), max_size=5
    ),
)
def test_maintenance_exclusion_equals_filtering_events_first(
    events: list[tuple[float, int, int]],
    windows: list[tuple[float, float]],
    maintenance: list[tuple[float, float]],
) -> None:
    gaps = [(start, start + length) for start, length in maintenance]
    kept = [e for e in events if not any(s <= e[0] < end for s, end in gaps)]
    starts = [s for s, _ in windows]
    ends = [e for _, e in windows]
    source = CountingSource(_series(events))
    good, total = sums_excluding(source, starts, ends, [s for s, _ in gaps], [e for _, e in gaps])
    expected_good, expected_total = _series(kept).sums(_arrays(*starts), _arrays(*ends))
    assert good.tolist() == expected_good.tolist()
    assert total.tolist() == expected_total.tolist()
    assert source.calls == 1
