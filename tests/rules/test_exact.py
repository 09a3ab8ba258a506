"""The default (exact) rules: recorded counts per window, NaN-safe ratios, strict alerts."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests.rules.specs import NATIVE_SPEC, SLOTH_SPEC, slo
from watchkeeper.core.windows import factor_for
from watchkeeper.rules.exact import exact_rules
from watchkeeper.rules.model import SLORules


def _rules(generated: SLORules) -> dict[str, dict[str, Any]]:
    found = {}
    for group in generated.groups:
        for rule in group.rules:
            found[rule.record or f"alert:{rule.alert}:{rule.labels['watchkeeper_severity']}"] = (
                rule.to_dict()
            )
    return found


def test_each_window_records_the_queries_filled_with_that_window() -> None:
    rules = _rules(exact_rules(slo(SLOTH_SPEC, "requests-availability"), extra_labels={}))
    for window in ("5m", "30m", "1h", "2h", "6h", "1d", "3d", "30d"):
        bad = rules[f"watchkeeper_slo:bad_events:increase{window}"]
        total = rules[f"watchkeeper_slo:total_events:increase{window}"]
        assert f"[{window}]" in bad["expr"] and "{{" not in bad["expr"]
        assert f"[{window}]" in total["expr"]
        assert bad["labels"]["watchkeeper_window"] == window
        assert bad["labels"]["owner"] == "myteam"
    # never an average of shorter ratios: the period reads its own 30d counts
    period = rules["watchkeeper_slo:error_ratio:ratio30d"]["expr"]
    assert "increase30d" in period and "sum_over_time" not in period


def test_ratios_are_nan_safe_and_missing_counts_are_zero() -> None:
    rules = _rules(exact_rules(slo(SLOTH_SPEC, "requests-availability"), extra_labels={}))
    burn = rules["watchkeeper_slo:burn_rate:ratio1h"]["expr"]
    own = '{watchkeeper_service="myservice", watchkeeper_slo="requests-availability"}'
    # 0 / 0 has no sample at all (a filter, not a division by zero) ...
    assert f"(watchkeeper_slo:total_events:increase1h{own} > 0)" in burn
    # ... and a window without any bad series counts zero bad events, not no data
    assert f"watchkeeper_slo:bad_events:increase1h{own} or 0 * " in burn
    assert burn.rstrip().endswith("/ 0.0010000000000000009")


def test_good_queries_count_bad_as_total_minus_good() -> None:
    rules = _rules(exact_rules(slo(NATIVE_SPEC, "availability"), extra_labels={}))
    assert "watchkeeper_slo:bad_events:increase1h" not in rules
    burn = rules["watchkeeper_slo:burn_rate:ratio28d"]["expr"]
    assert "watchkeeper_slo:total_events:increase28d" in burn
    assert "- (watchkeeper_slo:good_events:increase28d" in burn


def test_alerts_compare_unrounded_factors_strictly_with_both_windows() -> None:
    rules = _rules(exact_rules(slo(NATIVE_SPEC, "availability"), extra_labels={}))
    page = rules["alert:CheckoutAvailabilityErrorBudgetBurn:page"]
    factor = factor_for(2.0, timedelta(days=28), timedelta(hours=1))
    assert "watchkeeper_slo:burn_rate:ratio1h" in page["expr"]
    assert f"> {factor!r}\n" in page["expr"]
    assert ">=" not in page["expr"].replace(">= 100", "")
    assert "and ignoring (watchkeeper_window)" in page["expr"]
    # min_events: at least 100 events in the long window
    assert "watchkeeper_slo:total_events:increase1h" in page["expr"] and ">= 100" in page["expr"]
    assert page["labels"] == {
        "severity": "page",
        "team": "payments",
        "watchkeeper_severity": "page",
    }
    assert page["annotations"]["runbook_url"] == "https://runbooks.example.com/checkout"
    ticket = rules["alert:CheckoutAvailabilityErrorBudgetBurn:ticket"]
    assert ticket["labels"]["severity"] == "ticket"
    assert "runbook_url" not in ticket["annotations"]


def test_raw_slis_record_the_ratio_and_disabled_alerts_are_left_out() -> None:
    generated = exact_rules(slo(NATIVE_SPEC, "latency"), extra_labels={"env": "prod"})
    rules = _rules(generated)
    assert (
        "1 - avg_over_time(checkout_fast_ratio[7d])"
        in rules["watchkeeper_slo:error_ratio:ratio7d"]["expr"]
    )
    assert rules["watchkeeper_slo:objective:ratio"]["labels"]["env"] == "prod"
    assert not any(key.endswith(":ticket") for key in rules)
    assert any(key.endswith(":page") for key in rules)
    assert [g.name for g in generated.groups] == [
        "watchkeeper-slo-checkout-latency-sli",
        "watchkeeper-slo-checkout-latency-sli-long",
        "watchkeeper-slo-checkout-latency-sli-period",
        "watchkeeper-slo-checkout-latency-meta",
        "watchkeeper-slo-checkout-latency-alerts",
    ]


def test_day_long_windows_every_two_minutes_the_period_and_constants_every_four() -> None:
    generated = exact_rules(slo(SLOTH_SPEC, "requests-availability"), extra_labels={})
    fast, slow, period = (group.to_dict() for group in generated.groups[:3])
    assert "interval" not in fast
    assert slow["interval"] == "2m"
    assert period["interval"] == "4m"
    assert {rule["labels"].get("watchkeeper_window") for rule in period["rules"]} == {"30d", None}
    # The budget left follows the period's burn rate in its group; the constants every 4m.
    assert period["rules"][-1]["record"] == "watchkeeper_slo:error_budget_remaining:ratio"
    assert generated.groups[3].to_dict()["interval"] == "4m"
    assert {rule["labels"]["watchkeeper_window"] for rule in fast["rules"]} == {
        "5m",
        "30m",
        "1h",
        "2h",
        "6h",
    }
    assert {rule["labels"]["watchkeeper_window"] for rule in slow["rules"]} == {"1d", "3d"}


def test_metadata_rules() -> None:
    rules = _rules(exact_rules(slo(NATIVE_SPEC, "availability"), extra_labels={}))
    assert rules["watchkeeper_slo:objective:ratio"]["expr"] == "vector(0.995)"
    assert rules["watchkeeper_slo:error_budget:ratio"]["expr"] == f"vector({1 - 0.995!r})"
    assert rules["watchkeeper_slo:period:days"]["expr"] == "vector(28.0)"
    assert rules["watchkeeper_slo:error_budget_remaining:ratio"]["expr"].startswith(
        "1 - watchkeeper_slo:burn_rate:ratio28d{"
    )
