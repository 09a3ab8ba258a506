"""Timeslice SLIs: epoch-aligned slices, whole slices only, empty slices skipped."""

from __future__ import annotations

import math
from datetime import timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from watchkeeper.core.series import CountSource, EventSeries, FloatArray
from watchkeeper.core.slo import SLI, SLIKind
from watchkeeper.core.timeslices import slice_counts, slice_outcomes, slice_parameters

FAST = settings(max_examples=60, deadline=None)
MINUTE = timedelta(minutes=1)
T = 60 * 28_333_334  # 2023-11-14T22:14:00Z, a whole minute since the epoch


class RecordingSource:
    """Records how many intervals each ``sums`` call asked for."""

    def __init__(self, inner: CountSource) -> None:
        self.inner = inner
        self.calls: list[int] = []

    def sums(self, starts: FloatArray, ends: FloatArray) -> tuple[FloatArray, FloatArray]:
        self.calls.append(len(starts))
        return self.inner.sums(starts, ends)


def _events(rows: list[tuple[float, bool]]) -> EventSeries:
    return EventSeries.from_counts(
        [t for t, _ in rows], [1.0 if ok else 0.0 for _, ok in rows], [1.0] * len(rows)
    )


# Five one-minute slices from T (target 0.9):
#   slice 0 [T, T+60):      10 of 10 good  -> ratio 1.0  good
#   slice 1 [T+60, T+120):   9 of 10 good  -> ratio 0.9  good (>= is inclusive)
#   slice 2 [T+120, T+180):  8 of 10 good  -> ratio 0.8  bad (its 2 bad events come first)
#   slice 3 [T+180, T+240):  no events     -> no data, skipped
#   slice 4 [T+240, T+300):  0 of 1 good   -> ratio 0.0  bad
FIVE_SLICES = _events(
    [(T + i, True) for i in range(10)]
    + [(T + 60, False)]
    + [(T + 61 + i, True) for i in range(9)]
    + [(T + 120, False), (T + 121, False)]
    + [(T + 130 + i, True) for i in range(8)]
    + [(T + 240, False)]
)


@pytest.mark.parametrize(
    ("name", "start", "end", "good_slices", "data_slices"),
    [
        ("all five slices", T, T + 300, 2, 4),
        # Starts mid-slice: slice 0 is not wholly inside, slices 1-4 remain.
        ("starts mid-slice", T + 30, T + 300, 1, 3),
        # Ends one second early: slice 4 would end at T+300 > T+299, so only slices 0-3.
        ("ends mid-slice", T, T + 299, 2, 3),
        ("shorter than a slice", T + 10, T + 50, 0, 0),
        ("empty window", T + 60, T + 60, 0, 0),
        ("reversed window", T + 300, T, 0, 0),
        ("only the empty slice", T + 180, T + 240, 0, 0),
    ],
)
def test_slice_counts_table(
    name: str, start: float, end: float, good_slices: float, data_slices: float
) -> None:
    good, data = slice_counts(FIVE_SLICES, [start], [end], MINUTE, 0.9)
    assert (good[0], data[0]) == (good_slices, data_slices), name


@pytest.mark.parametrize(
    ("name", "maintenance", "good_slices", "data_slices"),
    [
        # [T+120, T+125) removes slice 2's two bad events: 8 of 8 good -> good slice.
        ("maintenance removes the bad events", (T + 120, T + 125), 3, 4),
        # [T+240, T+300) empties slice 4: it has no data any more.
        ("maintenance empties a slice", (T + 240, T + 300), 2, 3),
        # Removing slice 1's bad event makes it 9 of 9; nothing else changes.
        ("maintenance over one bad event", (T + 60, T + 61), 2, 4),
    ],
)
def test_maintenance_applies_to_the_events(
    name: str, maintenance: tuple[float, float], good_slices: float, data_slices: float
) -> None:
    good, data = slice_counts(
        FIVE_SLICES, [T], [T + 300], MINUTE, 0.9, [maintenance[0]], [maintenance[1]]
    )
    assert (good[0], data[0]) == (good_slices, data_slices), name


def test_target_is_compared_unrounded() -> None:
    # At target 1.0 only slice 0 (10 of 10) is good; at 0.9000000000000001 slice 1 fails.
    assert slice_counts(FIVE_SLICES, [T], [T + 300], MINUTE, 1.0)[0][0] == 1
    nudged = math.nextafter(0.9, 1.0)
    assert slice_counts(FIVE_SLICES, [T], [T + 300], MINUTE, nudged)[0][0] == 1


def test_overlapping_windows_share_one_run_of_slices() -> None:
    source = RecordingSource(FIVE_SLICES)
    good, data = slice_counts(source, [T, T + 60, T + 240], [T + 300] * 3, MINUTE, 0.9)
    assert good.tolist() == [2, 1, 0]
    assert data.tolist() == [4, 3, 1]
    # One call over the 5 slices of the widest window (not 5 + 4 + 1 = 10).
    assert source.calls == [5]


def test_distant_windows_only_evaluate_their_own_slices() -> None:
    source = RecordingSource(FIVE_SLICES)
    ten_days = 10 * 86_400
    good, data = slice_counts(source, [T, T + ten_days], [T + 300, T + ten_days + 120], MINUTE, 0.9)
    assert good.tolist() == [2, 0]
    assert data.tolist() == [4, 0]
    # 5 + 2 slices in one call, rather than the 14,402 minutes between them.
    assert source.calls == [7]


def test_no_slices_means_no_source_call() -> None:
    source = RecordingSource(FIVE_SLICES)
    good, data = slice_counts(source, [T + 1, T + 2], [T + 59, T + 3], MINUTE, 0.9)
    assert good.tolist() == data.tolist() == [0, 0]
    assert source.calls == []


def test_slice_outcomes() -> None:
    outcomes = slice_outcomes(FIVE_SLICES, T - 1, T + 300, MINUTE, 0.9)
    assert (outcomes.starts - T).tolist() == [0, 60, 120, 180, 240]
    assert outcomes.has_data.tolist() == [True, True, True, False, True]
    assert outcomes.good.tolist() == [True, True, False, False, False]
    assert slice_outcomes(FIVE_SLICES, T + 300, T, MINUTE, 0.9).starts.size == 0


def test_slices_are_aligned_to_the_epoch() -> None:
    # 7-minute slices (420 s). T = 1,700,000,040 = 420 * 4,047,619 + 60, so the first slice
    # boundary after T is T + 360, the next T + 780. In [T, T + 1,200) two whole slices fit;
    # in [T, T + 1,000) the second would end at T + 1,200 and is left out.
    seven = timedelta(minutes=7)
    assert (slice_outcomes(FIVE_SLICES, T, T + 1_200, seven, 0.5).starts - T).tolist() == [
        360,
        780,
    ]
    assert (slice_outcomes(FIVE_SLICES, T, T + 1_000, seven, 0.5).starts - T).tolist() == [360]


def test_slice_parameters() -> None:
    sli = SLI("req", SLIKind.TIMESLICES, slice_duration=MINUTE, slice_target=0.95)
    assert slice_parameters(sli) == (MINUTE, 0.95)
    with pytest.raises(ValueError, match="slice_duration and slice_target"):
        slice_parameters(SLI("req", SLIKind.TIMESLICES, slice_duration=MINUTE))
    with pytest.raises(ValueError, match="slice_duration and slice_target"):
        slice_parameters(SLI("req", SLIKind.TIMESLICES, slice_target=0.9))


@pytest.mark.parametrize("duration", [timedelta(0), timedelta(seconds=-60)])
def test_slice_duration_must_be_positive(duration: timedelta) -> None:
    with pytest.raises(ValueError, match="positive"):
        slice_counts(FIVE_SLICES, [T], [T + 300], duration, 0.9)
    with pytest.raises(ValueError, match="positive"):
        slice_outcomes(FIVE_SLICES, T, T + 300, duration, 0.9)


@FAST
@given(
    events=st.lists(
        st.tuples(st.integers(0, 200), st.integers(0, 3), st.integers(0, 3)), max_size=40
    ),
    windows=st.lists(
        st.tuples(st.integers(-20, 220), st.integers(-20, 220)), min_size=1, max_size=5
    ),
    far_window=st.booleans(),
    slice_seconds=st.integers(1, 30),
    target=st.sampled_from([0.0, 0.5, 0.75, 0.9, 1.0]),
    maintenance=st.lists(st.tuples(st.integers(0, 200), st.integers(0, 40)), max_size=3),
)
def test_slice_counts_equal_a_naive_loop(
    events: list[tuple[int, int, int]],
    windows: list[tuple[int, int]],
    far_window: bool,
    slice_seconds: int,
    target: float,
    maintenance: list[tuple[int, int]],
) -> None:
    if far_window:  # forces the path that evaluates distant windows separately
        windows = [*windows, (100_000, 100_000 + 2 * slice_seconds)]
    gaps = [(start, start + length) for start, length in maintenance]
    kept = [
        (t, min(a, b), max(a, b))
        for t, a, b in events
        if not any(start <= t < end for start, end in gaps)
    ]
    series = EventSeries.from_counts(
        [t for t, _, _ in events],
        [min(a, b) for _, a, b in events],
        [max(a, b) for _, a, b in events],
    )
    good, data = slice_counts(
        series,
        [s for s, _ in windows],
        [e for _, e in windows],
        timedelta(seconds=slice_seconds),
        target,
        [s for s, _ in gaps],
        [e for _, e in gaps],
    )
    for i, (start, end) in enumerate(windows):
        naive_good = naive_data = 0
        k = -(-start // slice_seconds)
        while (k + 1) * slice_seconds <= end:
            lo, hi = k * slice_seconds, (k + 1) * slice_seconds
            slice_good = sum(g for t, g, _ in kept if lo <= t < hi)
            slice_total = sum(n for t, _, n in kept if lo <= t < hi)
            if slice_total > 0:
                naive_data += 1
                naive_good += slice_good / slice_total >= target
            k += 1
        assert (good[i], data[i]) == (naive_good, naive_data)
    assert good.dtype == data.dtype == np.float64
