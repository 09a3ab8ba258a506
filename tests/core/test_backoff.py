"""Exponential backoff with full jitter: ceilings worked out by hand, draws bounded."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from watchkeeper.core.backoff import backoff_ceiling, full_jitter

S = timedelta(seconds=1)


@pytest.mark.parametrize(
    ("name", "attempt", "base", "cap", "expected"),
    [
        ("first retry waits up to base", 1, 5 * S, 900 * S, 5 * S),
        ("second doubles", 2, 5 * S, 900 * S, 10 * S),
        ("fifth is base * 16", 5, 5 * S, 900 * S, 80 * S),
        ("capped", 9, 5 * S, 900 * S, 900 * S),
        ("huge attempt stays capped", 10_000, 5 * S, 900 * S, 900 * S),
        ("zero base never waits", 3, 0 * S, 900 * S, 0 * S),
    ],
)
def test_ceiling(
    name: str, attempt: int, base: timedelta, cap: timedelta, expected: timedelta
) -> None:
    assert backoff_ceiling(attempt, base=base, cap=cap) == expected, name


def test_jitter_scales_the_ceiling() -> None:
    assert full_jitter(3, base=5 * S, cap=900 * S, draw=0.5) == 10 * S
    assert full_jitter(3, base=5 * S, cap=900 * S, draw=0.0) == timedelta(0)


@pytest.mark.parametrize("draw", [-0.1, 1.0])
def test_draw_outside_unit_interval_is_refused(draw: float) -> None:
    with pytest.raises(ValueError, match="draw"):
        full_jitter(1, base=S, cap=S, draw=draw)


def test_attempt_counts_from_one() -> None:
    with pytest.raises(ValueError, match="attempt"):
        backoff_ceiling(0, base=S, cap=S)


@given(
    attempt=st.integers(min_value=1, max_value=200),
    base=st.integers(min_value=1, max_value=10_000),
    cap=st.integers(min_value=1, max_value=100_000),
    draw=st.floats(min_value=0.0, max_value=1.0, exclude_max=True),
)
def test_delay_is_within_zero_and_the_naive_ceiling(
    attempt: int, base: int, cap: int, draw: float
) -> None:
    delay = full_jitter(attempt, base=base * S, cap=cap * S, draw=draw)
    naive = min(cap, base * 2 ** (attempt - 1))
    assert timedelta(0) <= delay <= naive * S
    assert backoff_ceiling(attempt, base=base * S, cap=cap * S) == naive * S
