"""API shapes of policies and gate decisions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from watchkeeper.core.gate import OpenIncident, RuleMatch
from watchkeeper.policy.gate import GateResult
from watchkeeper.slo.schemas import SLOStatusRead


class OpenIncidentRead(BaseModel):
    """An open incident on the service that the gate took into account."""

    id: int
    title: str
    severity: str
    status: str


class RuleMatchRead(BaseModel):
    """A policy rule that held for an SLO (``exempt``: it held, but let this change through).

    Rule ``open-incident`` held for an open incident: ``incident`` names it and ``slo`` holds
    the service.
    """

    policy: str
    rule: str
    slo: str
    action: str
    reason: str
    exempt: bool = False
    incident: OpenIncidentRead | None = None


class NotEvaluatedRead(BaseModel):
    """An SLO the gate could not evaluate; it counts as having no data."""

    slo: str
    reason: str = Field(examples=["reads Prometheus"])


class GateRead(BaseModel):
    """The gate's answer: allow, deny or require_approval, why, and every SLO's figures."""

    service: str
    change_type: str | None
    at: datetime
    allowed: bool
    decision: str
    decided_by: RuleMatchRead | None
    matches: list[RuleMatchRead]
    exemptions: list[RuleMatchRead]
    policies: list[str]
    slos: list[SLOStatusRead]
    not_evaluated: list[NotEvaluatedRead]
    incidents: list[OpenIncidentRead] = Field(
        default_factory=list,
        description="Open incidents on the service at a severity some covering policy blocks.",
    )


class PolicyRead(BaseModel):
    """An applied policy in its native form."""

    name: str
    spec: dict[str, Any]


def _incident(incident: OpenIncident) -> OpenIncidentRead:
    return OpenIncidentRead(
        id=incident.id, title=incident.title, severity=incident.severity, status=incident.status
    )


def _match(match: RuleMatch) -> RuleMatchRead:
    return RuleMatchRead(
        policy=match.policy,
        rule=match.rule,
        slo=match.slo,
        action=match.action.value,
        reason=match.reason,
        exempt=match.exempt,
        incident=_incident(match.incident) if match.incident is not None else None,
    )


def gate_read(result: GateResult) -> GateRead:
    """The JSON document of a gate decision."""
    decision = result.decision
    return GateRead(
        service=result.service,
        change_type=result.change_type,
        at=result.at,
        allowed=decision.allowed,
        decision=decision.action.value,
        decided_by=_match(decision.decided_by) if decision.decided_by else None,
        matches=[_match(m) for m in decision.matches],
        exemptions=[_match(m) for m in decision.exemptions],
        policies=list(decision.policies),
        slos=result.slos,
        not_evaluated=[NotEvaluatedRead(slo=n.slo, reason=n.reason) for n in result.not_evaluated],
        incidents=[_incident(i) for i in result.incidents],
    )
