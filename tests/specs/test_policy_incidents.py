"""The ``incidents`` block of error-budget policies."""

from __future__ import annotations

import pytest

from watchkeeper.core.policy import DEFAULT_INCIDENT_RULE, IncidentDecision, IncidentRule
from watchkeeper.specs import SpecError, load_text, policy_from_dict, policy_to_dict

BASE = """\
apiVersion: watchkeeper/v1
kind: ErrorBudgetPolicy
name: p
services: [api]
rules:
  - {name: blind, when: {no_data: true}, action: require_approval}
"""


def test_default_is_the_two_worst_requiring_approval_and_not_written_back() -> None:
    (policy,) = load_text(BASE).policies
    assert policy.incidents == DEFAULT_INCIDENT_RULE == IncidentRule(None)
    assert policy.incidents.blocking(("P1", "P2", "P3")) == ("P1", "P2")
    assert "incidents" not in policy_to_dict(policy)


def test_configured_rule_round_trips() -> None:
    text = BASE + "incidents: {severities: [SEV1], decision: deny, exempt: [rollback]}\n"
    (policy,) = load_text(text).policies
    assert policy.incidents == IncidentRule(("SEV1",), IncidentDecision.DENY, ("rollback",))
    assert policy_to_dict(policy)["incidents"] == {
        "severities": ["SEV1"],
        "decision": "deny",
        "exempt": ["rollback"],
    }
    assert policy_from_dict(policy_to_dict(policy)) == policy
    assert IncidentRule(decision=IncidentDecision.IGNORE).action is None


@pytest.mark.parametrize(
    ("block", "message"),
    [
        ("incidents: {decision: block}\n", "incidents.decision: must be one of"),
        ("incidents: {severities: []}\n", "incidents.severities: must list at least one"),
        ("incidents: {severity: [SEV1]}\n", "did you mean 'severities'"),
        ("incidents: [SEV1]\n", "incidents: must be a mapping"),
    ],
)
def test_mistakes_name_the_line_and_field(block: str, message: str) -> None:
    with pytest.raises(SpecError) as caught:
        load_text(BASE + block)
    assert message in str(caught.value)
    assert caught.value.problems[0].line == 7
