"""The SLO model's small behaviours: operators, observation SLIs, keys, budgets."""

from __future__ import annotations

from datetime import timedelta

import pytest

from watchkeeper.core.slo import SLI, SLO, Operator, RollingWindow, SLIKind


@pytest.mark.parametrize(
    ("operator", "below", "equal", "above"),
    [
        # Against threshold 1.0: observations 0.5, 1.0, 2.0.
        (Operator.LT, True, False, False),
        (Operator.LTE, True, True, False),
        (Operator.GT, False, False, True),
        (Operator.GTE, False, True, True),
    ],
)
def test_operator_is_good(operator: Operator, below: bool, equal: bool, above: bool) -> None:
    assert [operator.is_good(v, 1.0) for v in (0.5, 1.0, 2.0)] == [below, equal, above]


@pytest.mark.parametrize(
    ("sli", "uses_observations"),
    [
        (SLI("r"), False),
        (SLI("latency", SLIKind.THRESHOLD, threshold=0.3), True),
        (SLI("slices", SLIKind.TIMESLICES), False),
        (SLI("slices", SLIKind.TIMESLICES, slice_kind=SLIKind.THRESHOLD), True),
        (SLI("raw", SLIKind.RAW), False),
    ],
)
def test_uses_observations(sli: SLI, uses_observations: bool) -> None:
    assert sli.uses_observations is uses_observations


def test_slo_key_and_error_budget() -> None:
    slo = SLO("checkout", "availability", SLI("r"), 0.75, RollingWindow(timedelta(days=30)))
    assert slo.key == "checkout/availability"
    assert slo.error_budget == 0.25


def test_event_meaning_says_how_the_store_reads_rows() -> None:
    from watchkeeper.core.slo import SLI, Operator, PromQueries, SLIKind, SourceKind

    assert SLI(name="r").event_meaning == ("counts", None, None)
    threshold = SLI(name="t", kind=SLIKind.THRESHOLD, threshold=0.3, operator=Operator.LT)
    assert threshold.event_meaning == ("observations", 0.3, "lt")
    prometheus = SLI(name="p", source=SourceKind.PROMETHEUS, queries=PromQueries(total="x"))
    assert prometheus.event_meaning is None
    assert SLI(name="raw", kind=SLIKind.RAW).event_meaning is None


def test_store_key_separates_thresholds_of_one_stream() -> None:
    from watchkeeper.core.slo import SLI, Operator, PromQueries, SLIKind, SourceKind

    assert SLI(name="requests").store_key == "requests"
    fast = SLI(name="latency", kind=SLIKind.THRESHOLD, threshold=0.25)
    slow = SLI(name="latency", kind=SLIKind.THRESHOLD, threshold=1.0, operator=Operator.LT)
    assert (fast.store_key, slow.store_key) == ("latency[lte 0.25]", "latency[lt 1.0]")
    prometheus = SLI(name="p", source=SourceKind.PROMETHEUS, queries=PromQueries(total="x"))
    assert prometheus.store_key == "p"
