"""Compat mode beyond Sloth's examples: other periods, specs Sloth does not read, edge cases."""

from __future__ import annotations

import pytest

from tests.rules.specs import NATIVE_SPEC, SLOTH_SPEC, slo, spec_set
from watchkeeper.rules import Mode, generate
from watchkeeper.rules.sloth_compat import SlothInfo, sloth_rules

INFO = SlothInfo(version="watchkeeper-test", mode="cli-gen-prom", spec="prometheus/v1")


def _by_name(rules: list[dict[str, object]]) -> dict[str, dict[str, object]]:
    return {str(rule.get("record") or rule.get("alert")): rule for rule in rules}


def test_a_28_day_period_uses_sloths_4w_record_and_scaled_factors() -> None:
    generated = sloth_rules(slo(NATIVE_SPEC, "availability"), info=INFO, extra_labels={})
    sli, meta, alerts = (group.to_dict() for group in generated.groups)
    records = [rule["record"] for rule in sli["rules"]]
    assert records[-1] == "slo:sli_error:ratio_rate4w"  # Prometheus prints 28d as 4w
    assert records[:7] == [
        f"slo:sli_error:ratio_rate{w}" for w in ("5m", "30m", "1h", "2h", "6h", "1d", "3d")
    ]
    assert _by_name(meta["rules"])["slo:time_period:days"]["expr"] == "vector(28)"
    page, ticket = alerts["rules"]
    assert "(13.44 * 0.005)" in page["expr"] and "(5.6 * 0.005)" in page["expr"]
    assert "(2.8 * 0.005)" in ticket["expr"] and "(0.9333333333333333 * 0.005)" in ticket["expr"]
    # a good query is turned into Sloth's error query: total minus good
    assert sli["rules"][0]["expr"].startswith("((sum(increase(http_requests_total{")
    assert ") - (sum(increase(" in sli["rules"][0]["expr"]
    # the spec's runbook travels as an annotation; the alert gets a derived name
    assert page["alert"] == "CheckoutAvailabilityErrorBudgetBurn"
    assert page["annotations"]["runbook_url"] == "https://runbooks.example.com/checkout"


def test_disabled_alerts_are_left_out_and_both_disabled_leave_no_alert_group() -> None:
    generated = sloth_rules(slo(SLOTH_SPEC, "requests-availability"), info=INFO, extra_labels={})
    alerts = generated.groups[-1].to_dict()
    assert [rule["labels"]["sloth_severity"] for rule in alerts["rules"]] == ["page"]
    quiet = SLOTH_SPEC.replace(
        "page_alert: {labels: {severity: pageteam}}", "page_alert: {disable: true}"
    )
    generated = sloth_rules(slo(quiet, "requests-availability"), info=INFO, extra_labels={})
    assert [group.name for group in generated.groups] == [
        "sloth-slo-sli-recordings-myservice-requests-availability",
        "sloth-slo-meta-recordings-myservice-requests-availability",
    ]


def test_the_info_metric_names_the_spec_and_the_output() -> None:
    generated = sloth_rules(slo(SLOTH_SPEC, "requests-availability"), info=INFO, extra_labels={})
    info = _by_name(generated.groups[1].to_dict()["rules"])["sloth_slo_info"]["labels"]
    assert info["sloth_spec"] == "prometheus/v1"
    assert info["sloth_mode"] == "cli-gen-prom"
    assert info["sloth_objective"] == "99.9"


@pytest.mark.parametrize(
    ("text", "spec"), [(SLOTH_SPEC, "prometheus/v1"), (NATIVE_SPEC, "watchkeeper/v1")]
)
def test_generate_passes_the_spec_version(text: str, spec: str) -> None:
    generation = generate(spec_set(text), mode=Mode.SLOTH, skip_unsupported=True)
    assert f"sloth_spec: {spec}" in generation.files[0].text
