"""Round trips: the stored dict form, and conversion between formats, lose nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.specs.strategies import policies, slos
from watchkeeper.core.policy import ErrorBudgetPolicy
from watchkeeper.core.slo import SLO
from watchkeeper.specs import (
    SpecSet,
    convert,
    load_paths,
    load_text,
    policy_from_dict,
    policy_to_dict,
    slo_from_dict,
    slo_to_dict,
)

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
EXAMPLE_FILES = (
    "checkout.yaml",
    "checkout-policy.yaml",
    "openslo/search-inline.yaml",
    "openslo/catalog-referenced.yaml",
    "openslo/billing-calendar.yaml",
    "openslo/web-timeslices.yaml",
    "openslo/search-datadog.yaml",
    "openslo/api-ratio-timeslices.yaml",
    "sloth/k8s-apiserver-events.yaml",
    "sloth/payments-raw.yaml",
    "sloth/ingress-crd.yaml",
)
ROUND_TRIP = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@ROUND_TRIP
@given(slos())
def test_slo_dict_round_trip(slo: SLO) -> None:
    stored = json.loads(json.dumps(slo_to_dict(slo)))  # the database keeps it as JSON
    assert slo_from_dict(stored) == slo


@ROUND_TRIP
@given(policies)
def test_policy_dict_round_trip(policy: ErrorBudgetPolicy) -> None:
    stored = json.loads(json.dumps(policy_to_dict(policy)))
    assert policy_from_dict(stored) == policy


@st.composite
def spec_sets(draw: st.DrawFn) -> SpecSet:
    services = draw(
        st.lists(st.sampled_from(["checkout", "search", "billing"]), min_size=1, max_size=3)
    )
    drawn = [
        draw(slos(service=service)) for service in services for _ in range(draw(st.integers(1, 3)))
    ]
    unique = list({slo.key: slo for slo in drawn}.values())
    return SpecSet(
        slos=tuple(unique),
        policies=tuple(draw(st.lists(policies, max_size=2, unique_by=lambda p: p.name))),
    )


@ROUND_TRIP
@given(spec_sets(), st.sampled_from(["native", "openslo"]))
def test_convert_round_trip(spec_set: SpecSet, to: str) -> None:
    back = load_text(convert(spec_set, to))  # type: ignore[arg-type]
    # Native output groups SLOs by service, so compare by key (order within a service holds).
    assert {slo.key: slo for slo in back.slos} == {slo.key: slo for slo in spec_set.slos}
    assert len(back.slos) == len(spec_set.slos)
    assert back.policies == spec_set.policies


@pytest.mark.parametrize("source", EXAMPLE_FILES)
@pytest.mark.parametrize("to", ["native", "openslo"])
def test_examples_convert_and_load_back_equal(source: str, to: str) -> None:
    loaded = load_paths([EXAMPLES / source])
    converted = load_text(convert(loaded, to))  # type: ignore[arg-type]
    assert converted.slos == loaded.slos
    assert converted.policies == loaded.policies
    assert set(converted.formats.values()) <= {to, "native"}
    # Converting the converted output again is stable text.
    assert convert(converted, to) == convert(loaded, to)  # type: ignore[arg-type]


def test_every_example_file_loads_and_all_load_together() -> None:
    for name in EXAMPLE_FILES:
        assert load_paths([EXAMPLES / name]).files[0].formats
    together = load_paths([EXAMPLES / name for name in EXAMPLE_FILES])
    assert len(together.slos) == 14
    assert [p.name for p in together.policies] == ["checkout-policy"]
    assert set(together.formats.values()) == {"native", "openslo", "sloth"}
    checkout = {slo.name: slo for slo in together.slos if slo.service == "checkout"}
    assert checkout["availability"].objective == 0.999
    assert checkout["latency"].sli.name == "checkout-latency"
    assert checkout["latency"].sli.threshold == 0.3
    assert checkout["good-minutes"].sli.kind.value == "timeslices"
    assert {slo.policy for slo in checkout.values()} == {"checkout-policy"}


def test_convert_rejects_an_unknown_target() -> None:
    with pytest.raises(ValueError, match="unknown target format"):
        convert(SpecSet(), "sloth")  # type: ignore[arg-type]
