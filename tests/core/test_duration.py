"""Prometheus-style durations: the accepted grammar, rejected forms, formatting."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from watchkeeper.core.duration import format_duration, parse_duration


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("5m", timedelta(minutes=5)),
        ("1h30m", timedelta(hours=1, minutes=30)),
        ("30d", timedelta(days=30)),
        ("2w", timedelta(weeks=2)),
        ("1y", timedelta(days=365)),
        ("100ms", timedelta(milliseconds=100)),
        ("90s", timedelta(seconds=90)),
        ("1d2h3m4s5ms", timedelta(days=1, hours=2, minutes=3, seconds=4, milliseconds=5)),
        ("0s5ms", timedelta(milliseconds=5)),
        (" 5m ", timedelta(minutes=5)),
    ],
)
def test_valid_durations(text: str, value: timedelta) -> None:
    assert parse_duration(text) == value


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "5",  # no unit
        "1.5h",  # integers only
        "5M",  # units are lower case
        "1m1h",  # largest unit first
        "-5m",
        "5 m",
        "h",
        "1x",
        "5 minutes",
        "1:30",
    ],
)
def test_invalid_durations(text: str) -> None:
    with pytest.raises(ValueError, match="is not a duration"):
        parse_duration(text)


@pytest.mark.parametrize("text", ["0s", "0m0s", "0d"])
def test_zero_durations_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="positive"):
        parse_duration(text)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (timedelta(minutes=90), "1h30m"),
        (timedelta(days=14), "14d"),  # weeks are not used: SLO windows read as days
        (timedelta(days=365), "365d"),
        (timedelta(minutes=5), "5m"),
        (timedelta(seconds=1.5), "1s500ms"),
        (timedelta(days=1, seconds=1), "1d1s"),
    ],
)
def test_format_duration(value: timedelta, text: str) -> None:
    assert format_duration(value) == text


@pytest.mark.parametrize(
    "value", [timedelta(0), timedelta(seconds=-5), timedelta(microseconds=400)]
)
def test_format_refuses_non_positive_durations(value: timedelta) -> None:
    with pytest.raises(ValueError, match="positive"):
        format_duration(value)


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 10**12))
def test_format_then_parse_round_trips(milliseconds: int) -> None:
    value = timedelta(milliseconds=milliseconds)
    assert parse_duration(format_duration(value)) == value


@pytest.mark.parametrize(
    "text",
    ["9999999999999d", "2739727y", "1000000000d", "1" + "0" * 5000 + "d", "999999999d24h"],
)
def test_durations_a_timedelta_cannot_hold_are_refused(text: str) -> None:
    with pytest.raises(
        ValueError, match=r"is too long to be a duration \(the longest is 999999999d\)"
    ):
        parse_duration(text)


def test_the_longest_duration_parses() -> None:
    assert parse_duration("999999999d") == timedelta(days=999_999_999)
    assert parse_duration("2739726y") == timedelta(days=2_739_726 * 365)


def test_only_ascii_digits_are_durations() -> None:
    with pytest.raises(ValueError, match="is not a duration"):
        parse_duration("\u0663\u0660d")  # Arabic-Indic 30, which int() would accept


def test_format_duration_keeps_milliseconds_of_long_durations() -> None:
    # Past 2**53 ms (285 years) a float of the total loses single milliseconds.
    value = timedelta(days=999_999_998, milliseconds=1)
    assert format_duration(value) == "999999998d1ms"
    assert parse_duration(format_duration(value)) == value
