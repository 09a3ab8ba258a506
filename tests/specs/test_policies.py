"""Error-budget policy documents."""

from __future__ import annotations

import textwrap
from datetime import timedelta
from pathlib import Path

import pytest

from watchkeeper.core.policy import ConditionKind, GateAction, PolicyCondition
from watchkeeper.core.slo import Severity
from watchkeeper.specs import SpecError, load_paths, load_text, policy_from_dict, policy_to_dict

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_example_policy_rules() -> None:
    (policy,) = load_paths([EXAMPLES / "checkout-policy.yaml"]).policies
    assert policy.name == "checkout-policy"
    assert policy.services == ("checkout",)
    assert policy.slos == ("checkout/latency",)
    assert [(rule.name, rule.condition, rule.action) for rule in policy.rules] == [
        (
            "budget-exhausted",
            PolicyCondition(ConditionKind.BUDGET_REMAINING_BELOW, value=0),
            GateAction.DENY,
        ),
        (
            "fast-spend",
            PolicyCondition(
                ConditionKind.BUDGET_CONSUMED_OVER, value=0.5, within=timedelta(days=10)
            ),
            GateAction.REQUIRE_APPROVAL,
        ),
        (
            "paging",
            PolicyCondition(ConditionKind.ALERT_FIRING, severity=Severity.PAGE),
            GateAction.DENY,
        ),
        (
            "hot",
            PolicyCondition(ConditionKind.BURN_RATE_ABOVE, value=2, within=timedelta(hours=1)),
            GateAction.REQUIRE_APPROVAL,
        ),
        ("blind", PolicyCondition(ConditionKind.NO_DATA), GateAction.REQUIRE_APPROVAL),
    ]
    assert policy.rules[0].exempt_change_types == ("fix", "rollback")
    assert policy_from_dict(policy_to_dict(policy)) == policy


def test_policy_mistakes() -> None:
    with pytest.raises(SpecError) as caught:
        load_text(
            textwrap.dedent(
                """\
                apiVersion: watchkeeper/v1
                kind: ErrorBudgetPolicy
                name: p
                slos: [checkout, checkout/latency]
                rules:
                  - name: a
                    when: {budget_remaining_below: 25}
                    action: deny
                  - name: a
                    when: {budget_consumed_over: 50, within: 10d}
                    action: allow
                  - name: c
                    when: {alert_firing: critical}
                    action: deny
                  - name: d
                    when: {no_data: false, within: 1h}
                    action: deny
                  - name: e
                    when: {}
                    action: deny
                  - name: f
                    when: {burn_rate_above: 0}
                    action: require-approval
                ---
                apiVersion: watchkeeper/v1
                kind: ErrorBudgetPolicy
                name: p
                rules: []
                """
            ),
            filename="policy.yaml",
        )
    found = [(p.line, p.field, p.message) for p in caught.value.problems]
    expected = [
        (4, "slos[0]", "not an SLO key"),
        (7, "rules[0].when.budget_remaining_below", "did you mean 0.25?"),
        (9, "rules[1].name", "rule 'a' is given twice (first on line 6)"),
        (10, "rules[1].when.budget_consumed_over", "did you mean 0.5?"),
        (13, "rules[2].when.alert_firing", "page, ticket"),
        (16, "rules[3].when.no_data", "must be true"),
        (16, "rules[3].when.within", "does not apply to no_data"),
        (19, "rules[4].when", "exactly one condition"),
        (22, "rules[5].when.burn_rate_above", "must be above 0"),
        (22, "rules[5].when.within", "is required"),
        (23, "rules[5].action", "did you mean 'require_approval'?"),
        (28, "rules", "at least one rule"),
    ]
    assert len(found) == len(expected), found
    for (line, field, message), (want_line, want_field, want_message) in zip(
        found, expected, strict=True
    ):
        assert (line, field) == (want_line, want_field), message
        assert want_message in message


def test_duplicate_policy_names_across_documents() -> None:
    text = "apiVersion: watchkeeper/v1\nkind: ErrorBudgetPolicy\nname: p\nrules:\n"
    text += "  - {name: r, when: {no_data: true}, action: deny}\n"
    with pytest.raises(SpecError, match="policy 'p' is defined twice"):
        load_text(text + "---\n" + text)


def test_policy_from_dict_rejects_invalid_data() -> None:
    with pytest.raises(SpecError, match="rules: is required"):
        policy_from_dict({"name": "p"})
