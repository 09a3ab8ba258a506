"""Burn rates and multiwindow alert firing: strict comparison, no data, minimum events."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from watchkeeper.core.burn_rate import alert_firing, burn_rate, burn_rate_value, is_firing

FAST = settings(max_examples=60, deadline=None)


@pytest.mark.parametrize(
    ("name", "bad", "total", "objective", "rate"),
    [
        # 9 bad of 10 = 0.9 at 93.75 % (budget 1/16): 0.9 * 16 = 14.4. Dividing by a power
        # of two is exact, so the result is the double nearest 14.4, i.e. the literal 14.4.
        ("exactly 14.4", 9, 10, 0.9375, 14.4),
        # 1 bad of 8 at 50 %: 0.125 / 0.5 = 0.25.
        ("a quarter of the sustainable rate", 1, 8, 0.5, 0.25),
        # All bad at 75 %: 1 / 0.25 = 4.
        ("everything failing", 4, 4, 0.75, 4.0),
        ("nothing failing", 0, 100, 0.999, 0.0),
    ],
)
def test_burn_rate_exact(
    name: str, bad: float, total: float, objective: float, rate: float
) -> None:
    assert burn_rate_value(bad, total, objective) == rate, name


def test_burn_rate_thirty_days_page_threshold() -> None:
    # 99.9 %: 1.44 % of requests failing in the hour burns 0.0144 / 0.001 = 14.4.
    assert burn_rate_value(144, 10_000, 0.999) == pytest.approx(14.4, rel=1e-12)


def test_no_data_has_no_burn_rate() -> None:
    assert burn_rate_value(0, 0, 0.999) is None
    rates = burn_rate(np.array([0.0, 1.0]), np.array([0.0, 2.0]), 0.5)
    assert math.isnan(rates[0])
    assert rates[1] == 1.0


@pytest.mark.parametrize(
    ("name", "long", "short", "factor", "long_total", "min_events", "fires"),
    [
        ("both windows above", 20.0, 15.0, 14.4, 100, 0, True),
        # Strict comparison: a burn of exactly the factor does not fire.
        ("long exactly at factor", 14.4, 20.0, 14.4, 100, 0, False),
        ("short exactly at factor", 20.0, 14.4, 14.4, 100, 0, False),
        ("both exactly at factor", 14.4, 14.4, 14.4, 100, 0, False),
        # The next double above 14.4 is already above it: nothing is rounded.
        ("one ulp above", math.nextafter(14.4, math.inf), 15.0, 14.4, 100, 0, True),
        ("short window recovered", 20.0, 2.0, 14.4, 100, 0, False),
        ("only the short window burns", 2.0, 20.0, 14.4, 100, 0, False),
        ("no data in the long window", math.nan, 20.0, 14.4, 0, 0, False),
        ("no data in the short window", 20.0, math.nan, 14.4, 100, 0, False),
        # min_events: the long window needs at least that many events (>=).
        ("below the event minimum", 20.0, 20.0, 14.4, 99, 100, False),
        ("at the event minimum", 20.0, 20.0, 14.4, 100, 100, True),
        ("minimum switched off", 20.0, 20.0, 14.4, 1, 0, True),
        ("negative minimum is off", 20.0, 20.0, 14.4, 1, -5, True),
    ],
)
def test_alert_firing_table(
    name: str,
    long: float,
    short: float,
    factor: float,
    long_total: float,
    min_events: int,
    fires: bool,
) -> None:
    assert bool(alert_firing(long, short, factor, long_total, min_events)) is fires, name
    long_value = None if math.isnan(long) else long
    short_value = None if math.isnan(short) else short
    assert is_firing(long_value, short_value, factor, long_total, min_events) is fires, name


def test_is_firing_without_a_burn_rate() -> None:
    assert is_firing(None, 20.0, 1.0, 100) is False
    assert is_firing(20.0, None, 1.0, 100) is False


def test_alert_firing_vectorised_over_ten_thousand_slos() -> None:
    rng = np.random.default_rng(7)
    long = rng.uniform(0, 30, 10_000)
    short = rng.uniform(0, 30, 10_000)
    long[::97] = np.nan
    factor = np.where(np.arange(10_000) % 2 == 0, 14.4, 6.0)
    totals = rng.integers(0, 200, 10_000).astype(np.float64)
    minimums = np.where(np.arange(10_000) % 3 == 0, 100.0, 0.0)
    result = alert_firing(long, short, factor, totals, minimums)
    assert result.shape == (10_000,)
    assert result.dtype == np.bool_
    expected = [
        is_firing(
            None if math.isnan(long[i]) else float(long[i]),
            float(short[i]),
            float(factor[i]),
            float(totals[i]),
            int(minimums[i]),
        )
        for i in range(10_000)
    ]
    assert result.tolist() == expected
    assert 0 < int(result.sum()) < 10_000


@FAST
@given(
    buckets=st.lists(st.tuples(st.integers(0, 500), st.integers(0, 500)), min_size=1, max_size=30),
    objective=st.floats(0.5, 0.9999),
)
def test_burn_rate_of_summed_counts_equals_naive_recomputation(
    buckets: list[tuple[int, int]], objective: float
) -> None:
    bad = np.array([min(a, b) for a, b in buckets], dtype=np.float64)
    total = np.array([max(a, b) for a, b in buckets], dtype=np.float64)
    rate = burn_rate_value(float(bad.sum()), float(total.sum()), objective)
    naive_bad = sum(min(a, b) for a, b in buckets)
    naive_total = sum(max(a, b) for a, b in buckets)
    if naive_total == 0:
        assert rate is None
    else:
        assert rate == (naive_bad / naive_total) / (1 - objective)
