"""Timeslice SLIs: epoch-aligned slices, whole slices only, empty slices skipped."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from watchkeeper.core.batch import needs_single_evaluation
from watchkeeper.core.evaluation import WindowCounts, budget_consumed_per_day, evaluate
from watchkeeper.core.series import CountSource, EventSeries, FloatArray
from watchkeeper.core.slo import SLI, SLO, RollingWindow, SLIKind
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


# Generated cases for the slice-count properties: events (second, a, b: good and total are
# the smaller and larger), windows [start, end) in seconds, maintenance (start, length).
EVENTS = st.lists(st.tuples(st.integers(0, 200), st.integers(0, 3), st.integers(0, 3)), max_size=40)
WINDOWS = st.lists(st.tuples(st.integers(-20, 220), st.integers(-20, 220)), min_size=1, max_size=5)
MAINTENANCE = st.lists(st.tuples(st.integers(0, 200), st.integers(0, 40)), max_size=3)


def _computed_and_naive(
    events: list[tuple[int, int, int]],
    windows: list[tuple[int, int]],
    far_window: bool,
    slice_seconds: int,
    target: float | None,
    maintenance: list[tuple[int, int]],
) -> tuple[np.ndarray, np.ndarray, list[list[tuple[int, int]]]]:
    """slice_counts for the generated case, and per window the (good, total) of every slice
    with data, counted by a plain loop over the events outside maintenance."""
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
    score, data = slice_counts(
        series,
        [s for s, _ in windows],
        [e for _, e in windows],
        timedelta(seconds=slice_seconds),
        target,
        [s for s, _ in gaps],
        [e for _, e in gaps],
    )
    assert score.dtype == data.dtype == np.float64
    naive: list[list[tuple[int, int]]] = []
    for start, end in windows:
        slices = []
        k = -(-start // slice_seconds)
        while (k + 1) * slice_seconds <= end:
            lo, hi = k * slice_seconds, (k + 1) * slice_seconds
            slice_good = sum(g for t, g, _ in kept if lo <= t < hi)
            slice_total = sum(n for t, _, n in kept if lo <= t < hi)
            if slice_total > 0:
                slices.append((slice_good, slice_total))
            k += 1
        naive.append(slices)
    return score, data, naive


@FAST
@given(
    events=EVENTS,
    windows=WINDOWS,
    far_window=st.booleans(),
    slice_seconds=st.integers(1, 30),
    target=st.sampled_from([0.0, 0.5, 0.75, 0.9, 1.0]),
    maintenance=MAINTENANCE,
)
def test_slice_counts_equal_a_naive_loop(
    events: list[tuple[int, int, int]],
    windows: list[tuple[int, int]],
    far_window: bool,
    slice_seconds: int,
    target: float,
    maintenance: list[tuple[int, int]],
) -> None:
    good, data, naive = _computed_and_naive(
        events, windows, far_window, slice_seconds, target, maintenance
    )
    for i, slices in enumerate(naive):
        naive_good = sum(slice_good / total >= target for slice_good, total in slices)
        assert (good[i], data[i]) == (naive_good, len(slices))
    assert good.dtype == data.dtype == np.float64


# -- RatioTimeslices: the average of the slices' own ratios -----------------------------------


def test_ratio_slices_average_the_ratios_and_skip_empty_slices() -> None:
    # FIVE_SLICES' ratios: 1.0, 0.9, 0.8, (no data), 0.0. The empty slice counts neither as
    # 0 nor as 1: four slices with data, score 1 + 0.9 + 0.8 + 0 = 2.7, SLI 2.7 / 4 = 0.675.
    score, data = slice_counts(FIVE_SLICES, [T], [T + 300], MINUTE, None)
    assert data[0] == 4
    assert score[0] == 10 / 10 + 9 / 10 + 8 / 10 + 0 / 1
    # The same slices under Timeslices (target 0.9) count 2 good of 4; as occurrences the
    # window holds 27 good events of 31.
    assert slice_counts(FIVE_SLICES, [T], [T + 300], MINUTE, 0.9)[0][0] == 2


def test_ratio_slice_outcomes_carry_each_ratio() -> None:
    outcomes = slice_outcomes(FIVE_SLICES, T, T + 300, MINUTE, None)
    assert outcomes.score.tolist() == [1.0, 0.9, 0.8, 0.0, 0.0]
    assert outcomes.has_data.tolist() == [True, True, True, False, True]
    timeslices = slice_outcomes(FIVE_SLICES, T, T + 300, MINUTE, 0.9)
    assert timeslices.score.tolist() == [1.0, 1.0, 0.0, 0.0, 0.0]


def test_ratio_slice_parameters_have_no_target() -> None:
    sli = SLI("req", SLIKind.RATIO_TIMESLICES, slice_duration=MINUTE)
    assert sli.is_sliced
    assert slice_parameters(sli) == (MINUTE, None)
    with pytest.raises(ValueError, match="slice_duration"):
        slice_parameters(SLI("req", SLIKind.RATIO_TIMESLICES))


@settings(max_examples=80, deadline=None)
@given(
    events=EVENTS,
    windows=WINDOWS,
    far_window=st.booleans(),
    slice_seconds=st.integers(1, 30),
    maintenance=MAINTENANCE,
)
def test_ratio_slice_counts_equal_a_naive_average(
    events: list[tuple[int, int, int]],
    windows: list[tuple[int, int]],
    far_window: bool,
    slice_seconds: int,
    maintenance: list[tuple[int, int]],
) -> None:
    score, data, naive = _computed_and_naive(
        events, windows, far_window, slice_seconds, None, maintenance
    )
    for i, slices in enumerate(naive):
        ratios = [slice_good / total for slice_good, total in slices]
        assert data[i] == len(ratios)
        # Sums of the same ratios in another order may differ in the last bits only.
        assert score[i] == pytest.approx(math.fsum(ratios), abs=1e-9)
        if ratios:
            average = score[i] / data[i]
            assert average == pytest.approx(sum(ratios) / len(ratios), abs=1e-9)
            assert 0.0 <= average <= 1.0


# The hour before AT as 60 one-minute slices: 0-44 serve 10 of 10 good (ratio 1); 45-59
# serve 1 of 2 good (ratio 0.5). Occurrences: 465 / 480 = 0.96875. Timeslices (0.9): 45 / 60
# = 0.75. RatioTimeslices: (45 * 1 + 15 * 0.5) / 60 = 52.5 / 60 = 0.875.
AT = datetime(2024, 3, 1, tzinfo=UTC)
HOUR_OF_SLICES = EventSeries.from_counts(
    [(AT - timedelta(hours=1) + i * MINUTE).timestamp() for i in range(60)],
    [10 if i < 45 else 1 for i in range(60)],
    [10 if i < 45 else 2 for i in range(60)],
)


def _slo(kind: SLIKind, **changes: object) -> SLO:
    sli = SLI(
        "requests",
        kind,
        slice_duration=MINUTE if kind is not SLIKind.RATIO else None,
        slice_target=0.9 if kind is SLIKind.TIMESLICES else None,
    )
    return replace(SLO("web", "requests", sli, 0.5, RollingWindow(timedelta(days=7))), **changes)


def test_ratio_timeslices_slo_hand_worked() -> None:
    status = evaluate(_slo(SLIKind.RATIO_TIMESLICES), HOUR_OF_SLICES, AT)
    assert (status.good, status.total) == (52.5, 60)
    assert status.sli == 0.875
    # Budget 1 - 0.5: the mean error 0.125 spends a quarter of it.
    assert status.error_budget_remaining == 0.75
    # 5 m: slices 55-59, mean error 0.5 -> burn 1. 30 m: slices 30-59, 15 at error 0 and 15
    # at 0.5 -> mean 0.25 -> burn 0.5. The hour and longer: 0.125 / 0.5 = 0.25.
    assert status.burn_rates[5 * MINUTE] == 1.0
    assert status.burn_rates[30 * MINUTE] == 0.5
    assert status.burn_rates[timedelta(hours=1)] == 0.25
    assert status.window_counts[5 * MINUTE] == WindowCounts(2.5, 5)
    per_day = budget_consumed_per_day(_slo(SLIKind.RATIO_TIMESLICES), HOUR_OF_SLICES, AT)
    assert math.fsum(share for _, share in per_day if share is not None) == 0.25
    assert needs_single_evaluation(_slo(SLIKind.RATIO_TIMESLICES))


def test_the_three_budgeting_methods_differ_on_the_same_events() -> None:
    occurrences = evaluate(_slo(SLIKind.RATIO), HOUR_OF_SLICES, AT)
    timeslices = evaluate(_slo(SLIKind.TIMESLICES), HOUR_OF_SLICES, AT)
    ratio_slices = evaluate(_slo(SLIKind.RATIO_TIMESLICES), HOUR_OF_SLICES, AT)
    assert (occurrences.sli, timeslices.sli, ratio_slices.sli) == (465 / 480, 0.75, 0.875)


def test_ratio_timeslices_without_data_have_no_figures() -> None:
    status = evaluate(_slo(SLIKind.RATIO_TIMESLICES), EventSeries.empty(), AT)
    assert (status.good, status.total, status.sli) == (0, 0, None)
    assert status.error_budget_remaining is None
    assert all(rate is None for rate in status.burn_rates.values())
    per_day = budget_consumed_per_day(_slo(SLIKind.RATIO_TIMESLICES), EventSeries.empty(), AT)
    assert per_day and all(share is None for _, share in per_day)
