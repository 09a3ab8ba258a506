"""Text forms of numbers and durations as Go and Prometheus print them."""

from __future__ import annotations

from datetime import timedelta

import pytest

from watchkeeper.rules.promtext import (
    exact_float,
    go_float,
    label_filter,
    percent_of,
    plain_number,
    prometheus_duration,
)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (timedelta(minutes=5), "5m"),
        (timedelta(hours=1, minutes=30), "1h30m"),
        (timedelta(days=30), "30d"),
        (timedelta(days=28), "4w"),  # Prometheus writes whole weeks as weeks
        (timedelta(days=7), "1w"),
        (timedelta(days=90), "90d"),
        (timedelta(days=365), "1y"),
        (timedelta(0), "0s"),
    ],
)
def test_durations_read_as_prometheus_prints_them(value: timedelta, text: str) -> None:
    assert prometheus_duration(value) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (14.4, "14.4"),
        (6.0, "6"),
        (30.0, "30"),
        (0.9333333333333333, "0.9333333333333333"),
        (99.9 / 100, "0.9990000000000001"),
        ((100 - 99.9) / 100, "0.0009999999999999432"),  # exponent -4: still positional
        ((100 - 99.999) / 100, "1.0000000000047748e-05"),
        (1e-05, "1e-05"),
        (100000.0, "100000"),
        (1234567.0, "1.234567e+06"),
        (-2.5, "-2.5"),
        (0.0, "0"),
    ],
)
def test_floats_read_as_go_prints_them(value: float, text: str) -> None:
    assert go_float(value) == text


def test_exact_floats_round_trip() -> None:
    budget = 1 - 0.999
    assert float(exact_float(budget)) == budget
    assert exact_float(budget) == "0.0010000000000000009"


def test_percents_are_recovered_from_ratios() -> None:
    assert percent_of(0.999) == 99.9
    assert plain_number(percent_of(0.95)) == "95"
    assert plain_number(percent_of(0.9999)) == "99.99"


def test_label_filters_are_sorted_and_escaped() -> None:
    assert label_filter({"b": "2", "a": 'x"y'}) == '{a="x\\"y", b="2"}'
