"""The "did you mean" suggestion shared by spec, event and CLI messages."""

from __future__ import annotations

from watchkeeper.messages import closest, did_you_mean


def test_the_closest_name_is_offered_ignoring_case() -> None:
    names = ["checkout-requests", "checkout-latency", "search-requests"]
    assert closest("chekout-requests", names) == "checkout-requests"
    assert closest("CHECKOUT-LATENCY", names) == "checkout-latency"
    assert did_you_mean("serch-requests", names) == "; did you mean 'search-requests'?"


def test_nothing_is_offered_when_no_name_is_close() -> None:
    assert closest("payments", ["checkout-requests", "search-requests"]) is None
    assert did_you_mean("payments", []) == ""
