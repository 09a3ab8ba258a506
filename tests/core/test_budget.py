"""SLI ratios and error budgets: hand-worked scenarios, no-data handling, vectorisation."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from watchkeeper.core.budget import (
    budget_consumed,
    budget_remaining,
    budget_remaining_value,
    error_budget,
    error_ratio,
    optional_float,
    sli_ratio,
    sli_value,
)

FAST = settings(max_examples=60, deadline=None)


@pytest.mark.parametrize(
    ("name", "objective", "bad", "total", "remaining"),
    [
        # 500 bad of 1,000,000 = 0.0005; the 99.9 % budget is 0.001; 0.0005 / 0.001 = 0.5
        # consumed, so 0.5 remains.
        ("99.9 %, 500 bad of 1,000,000", 0.999, 500, 1_000_000, 0.5),
        # 1,000 bad of 1,000,000 = 0.001: exactly the budget, nothing left.
        ("99.9 %, exactly on budget", 0.999, 1_000, 1_000_000, 0.0),
        # 2,000 bad = twice the budget: remaining 1 - 2 = -1, shown unclamped.
        ("99.9 %, overspent twice", 0.999, 2_000, 1_000_000, -1.0),
        ("no bad events", 0.999, 0, 1_000_000, 1.0),
        # 99 %, 1 bad of 1,000: 0.001 / 0.01 = 0.1 consumed.
        ("99 %, one bad in a thousand", 0.99, 1, 1_000, 0.9),
    ],
)
def test_budget_remaining_scenarios(
    name: str, objective: float, bad: float, total: float, remaining: float
) -> None:
    value = budget_remaining_value(bad, total, objective)
    assert value == pytest.approx(remaining, rel=1e-12, abs=1e-12), name


@pytest.mark.parametrize(
    ("name", "objective", "bad", "total", "remaining"),
    [
        # Objectives whose budget is a power of two make every step exact in binary:
        # 75 %: budget 0.25; 1 bad of 4 = 0.25 -> consumed 1, remaining exactly 0.
        ("75 %, one bad in four", 0.75, 1, 4, 0.0),
        # 93.75 %: budget 1/16; all 10 bad -> consumed 16, remaining exactly -15.
        ("93.75 %, all bad", 0.9375, 10, 10, -15.0),
        # 50 %: budget 0.5; 1 bad of 8 = 0.125 -> consumed 0.25, remaining 0.75.
        ("50 %, one bad in eight", 0.5, 1, 8, 0.75),
    ],
)
def test_budget_remaining_exact(
    name: str, objective: float, bad: float, total: float, remaining: float
) -> None:
    assert budget_remaining_value(bad, total, objective) == remaining, name


def test_traffic_weighted_not_an_average_of_ratios() -> None:
    # Two buckets at 99 %: 1 bad of 10 and 0 bad of 990. Summed: 1 bad of 1,000 = 0.001,
    # consumed 0.1, remaining 0.9. Averaging the bucket ratios ((0.1 + 0) / 2 = 0.05) would
    # give 1 - 5 = -4: that is the mistake the formula must not make.
    bad = np.array([1.0, 0.0])
    total = np.array([10.0, 990.0])
    remaining = budget_remaining(bad.sum(), total.sum(), 0.99)
    assert float(remaining) == pytest.approx(0.9, rel=1e-12)


def test_no_data_is_nan_in_arrays_and_none_in_scalars() -> None:
    bad = np.array([0.0, 1.0, 0.0])
    total = np.array([0.0, 10.0, 5.0])
    remaining = budget_remaining(bad, total, 0.75)
    # 1 bad of 10 at 75 %: 0.1 / 0.25 = 0.4 consumed, 0.6 left; 0 bad of 5: 1.0 left.
    assert math.isnan(remaining[0])
    assert remaining[1] == pytest.approx(0.6, rel=1e-12)
    assert remaining[2] == 1.0
    assert np.isnan(sli_ratio(0.0, 0.0))
    assert np.isnan(error_ratio(0.0, 0.0))
    assert np.isnan(budget_consumed(0.0, 0.0, 0.9))
    assert budget_remaining_value(0, 0, 0.999) is None
    assert sli_value(0, 0) is None


def test_zero_good_is_an_sli_of_zero_not_no_data() -> None:
    assert sli_value(0, 10) == 0.0
    assert sli_value(999_500, 1_000_000) == 0.9995
    assert sli_ratio(np.array([3.0, 0.0]), np.array([4.0, 0.0]))[0] == 0.75


def test_vectorised_with_broadcasting() -> None:
    # Three SLOs (rows) x two windows (columns), objectives per SLO.
    bad = np.array([[0.0, 1.0], [2.0, 0.0], [0.0, 0.0]])
    total = np.array([[10.0, 4.0], [8.0, 0.0], [1.0, 2.0]])
    objectives = np.array([0.5, 0.75, 0.9375])[:, None]
    consumed = budget_consumed(bad, total, objectives)
    # Row 0: 0/10 -> 0; 1/4 / 0.5 = 0.5. Row 1: 2/8 / 0.25 = 1; no data. Row 2: zeros.
    expected = np.array([[0.0, 0.5], [1.0, np.nan], [0.0, 0.0]])
    np.testing.assert_array_equal(consumed, expected)
    assert consumed.shape == (3, 2)


@pytest.mark.parametrize("objective", [0.0, 1.0, -0.5, 1.5, math.nan])
def test_objective_must_lie_strictly_between_0_and_1(objective: float) -> None:
    with pytest.raises(ValueError, match="between 0 and 1"):
        error_budget(objective)
    with pytest.raises(ValueError, match="between 0 and 1"):
        budget_remaining(np.array([1.0, 1.0]), np.array([2.0, 2.0]), np.array([0.9, objective]))


def test_error_budget() -> None:
    assert float(error_budget(0.75)) == 0.25
    np.testing.assert_array_equal(error_budget(np.array([0.5, 0.9375])), [0.5, 0.0625])


def test_optional_float() -> None:
    assert optional_float(np.float64(np.nan)) is None
    assert optional_float(np.array(2.5)) == 2.5
    assert optional_float(0.0) == 0.0


@FAST
@given(
    buckets=st.lists(
        st.tuples(st.integers(0, 1_000), st.integers(0, 1_000)), min_size=1, max_size=30
    ),
    objective=st.floats(0.5, 0.9999),
)
def test_remaining_from_summed_counts_equals_naive_recomputation(
    buckets: list[tuple[int, int]], objective: float
) -> None:
    bad = np.array([min(a, b) for a, b in buckets], dtype=np.float64)
    total = np.array([max(a, b) for a, b in buckets], dtype=np.float64)
    naive_bad = sum(min(a, b) for a, b in buckets)
    naive_total = sum(max(a, b) for a, b in buckets)
    value = budget_remaining_value(float(bad.sum()), float(total.sum()), objective)
    if naive_total == 0:
        assert value is None
    else:
        assert value == 1 - (naive_bad / naive_total) / (1 - objective)
