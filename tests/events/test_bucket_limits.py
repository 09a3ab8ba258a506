"""Bucket sums past the exact count limit are found exactly, whatever int64 sums would do."""

from __future__ import annotations

from collections import defaultdict

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from watchkeeper.events.bucket_limits import keys_in, keys_past_limit
from watchkeeper.events.rows import MAX_COUNT

# Totals near the limit (where float rounding could hide a pass) and small ones.
TOTALS = st.one_of(
    st.integers(0, 10),
    st.integers(MAX_COUNT - 10, MAX_COUNT),
    st.integers(0, MAX_COUNT),
)


@given(st.lists(st.tuples(st.integers(0, 4), TOTALS), max_size=60))
def test_keys_past_limit_match_exact_sums(rows: list[tuple[int, int]]) -> None:
    exact: dict[int, int] = defaultdict(int)
    for key, total in rows:
        exact[key] += total
    keys = np.array([key for key, _ in rows], dtype=np.int64)
    totals = np.array([total for _, total in rows], dtype=np.int64)
    assert sorted(keys_past_limit(keys, totals)) == sorted(
        key for key, total in exact.items() if total > MAX_COUNT
    )


def test_a_sum_of_exactly_the_limit_passes_and_one_more_does_not() -> None:
    keys = np.array([1, 1, 2, 2], dtype=np.int64)
    totals = np.array([MAX_COUNT - 1, 1, MAX_COUNT, 1], dtype=np.int64)
    assert keys_past_limit(keys, totals) == [2]


def test_a_sum_that_wraps_int64_is_still_found() -> None:
    keys = np.zeros(1025, dtype=np.int64)
    totals = np.full(1025, MAX_COUNT, dtype=np.int64)
    assert int(totals.sum()) < 0  # what a plain int64 sum gives
    assert keys_past_limit(keys, totals) == [0]


def test_keys_in() -> None:
    keys = np.array([3, 5, 7], dtype=np.int64)
    assert keys_in(keys, {5, 9}).tolist() == [False, True, False]
    assert keys_in(keys, set()).tolist() == [False, False, False]
