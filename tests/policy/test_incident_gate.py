"""Open incidents hold deploys: the gate names them, as each covering policy says."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from tests.policy import traffic
from tests.slo.scenario import AT
from watchkeeper.events import service as events_service
from watchkeeper.flows import specs as spec_flows
from watchkeeper.incident import declaration, severities
from watchkeeper.incident import service as incident_service
from watchkeeper.policy import gate
from watchkeeper.policy.schemas import gate_read
from watchkeeper.specs import SpecError, load_text

EARLIER = AT - timedelta(hours=1)


def setup(session: Session, *, policy: str | None = traffic.POLICY, shape: str = "healthy") -> None:
    text = traffic.SPEC + ("---\n" + policy if policy else "")
    spec_flows.apply(session, spec_set=load_text(text), now=AT)
    events_service.ingest(session, traffic.rows(shape, AT), now=AT)


def declare(session: Session, severity: str, service: str = "api") -> int:
    incident = declaration.declare(
        session, title="API 500s", severity=severity, actor="alice", now=EARLIER, service=service
    )
    return incident.id


@pytest.mark.parametrize(
    ("severity", "decision"),
    [("SEV1", "require_approval"), ("SEV2", "require_approval"), ("SEV3", "allow")],
)
def test_default_rule_holds_sev1_and_sev2(session: Session, severity: str, decision: str) -> None:
    setup(session)
    incident_id = declare(session, severity)
    document = gate_read(gate.check(session, service="api", change_type=None, now=AT))
    assert document.decision == decision
    if decision == "allow":
        assert document.incidents == []
        return
    decided = document.decided_by
    assert decided is not None and decided.incident is not None
    assert (decided.policy, decided.rule, decided.slo) == ("api-policy", "open-incident", "api")
    assert decided.incident.id == incident_id
    assert (
        decided.reason
        == f"{severity} incident #{incident_id} is open on api (investigating): API 500s"
    )
    assert [i.id for i in document.incidents] == [incident_id]


RENAMED = """\
apiVersion: watchkeeper/v1
kind: IncidentSeverities
severities:
  - {name: P1}
  - {name: P2}
  - {name: P3}
"""


@pytest.mark.parametrize(
    ("severity", "decision"),
    [("P1", "require_approval"), ("P2", "require_approval"), ("P3", "allow")],
)
@pytest.mark.parametrize("policy", [traffic.POLICY, None], ids=["policy", "built-in"])
def test_default_rule_holds_the_two_worst_configured_severities(
    session: Session, severity: str, decision: str, policy: str | None
) -> None:
    setup(session, policy=policy)
    severities.replace(session, severities=severities.parse_severities(RENAMED, "sev.yaml"))
    incident_id = declare(session, severity)
    document = gate_read(gate.check(session, service="api", change_type=None, now=AT))
    assert document.decision == decision
    assert [i.id for i in document.incidents] == ([] if decision == "allow" else [incident_id])


def test_resolved_and_other_service_incidents_do_not_hold(session: Session) -> None:
    setup(session)
    resolved = declare(session, "SEV1")
    incident_service.resolve(session, incident_id=resolved, actor="alice", now=EARLIER)
    declare(session, "SEV1", service="web")
    assert gate.check(session, service="api", change_type=None, now=AT).decision.allowed


def test_a_budget_deny_still_outranks_an_incident(session: Session) -> None:
    setup(session, shape="exhausted")
    declare(session, "SEV1")
    decision = gate.check(session, service="api", change_type=None, now=AT).decision
    assert decision.action.value == "deny"
    assert decision.decided_by is not None and decision.decided_by.rule == "budget-exhausted"
    assert "open-incident" in [m.rule for m in decision.matches]


@pytest.mark.parametrize(
    ("block", "change_type", "decision"),
    [
        ("incidents: {severities: [sev1, SEV3], decision: deny}\n", None, "deny"),
        ("incidents: {decision: ignore}\n", None, "allow"),
        ("incidents: {severities: [SEV2]}\n", None, "allow"),  # the incident is SEV1
        ("incidents: {exempt: [rollback]}\n", "rollback", "allow"),
        ("incidents: {exempt: [rollback]}\n", "feature", "require_approval"),
    ],
)
def test_policy_configures_the_incident_rule(
    session: Session, block: str, change_type: str | None, decision: str
) -> None:
    setup(session, policy=traffic.POLICY + block)
    declare(session, "SEV1")
    result = gate.check(session, service="api", change_type=change_type, now=AT)
    assert result.decision.action.value == decision
    if change_type == "rollback":
        assert result.decision.decided_by is not None
        assert result.decision.decided_by.exempt
        assert result.decision.decided_by.rule == "open-incident"


def test_a_service_without_a_policy_gets_the_built_in_rule(session: Session) -> None:
    setup(session, policy=None)
    assert gate.check(session, service="api", change_type=None, now=AT).decision.allowed
    declare(session, "SEV2")
    decision = gate.check(session, service="api", change_type=None, now=AT).decision
    assert decision.action.value == "require_approval"
    assert decision.decided_by is not None and decision.decided_by.policy == "(built-in)"
    assert decision.policies == ()


def test_a_policy_naming_an_unknown_severity_is_refused_with_file_and_line(
    session: Session,
) -> None:
    policy = traffic.POLICY + "incidents: {severities: [SEV-1]}\n"
    text = traffic.SPEC + "---\n" + policy
    with pytest.raises(SpecError) as caught:
        spec_flows.apply(session, spec_set=load_text(text, filename="specs.yaml"), now=AT)
    (problem,) = caught.value.problems
    assert problem.file == "specs.yaml" and problem.field == "incidents.severities"
    assert problem.line == text.count("\n")  # the last line holds the block
    assert "'SEV-1' is not a configured severity" in problem.message
    assert "did you mean 'SEV1'" in problem.message
