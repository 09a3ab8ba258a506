"""The deploy gate use case: evaluate a service's SLOs now and apply its error-budget policies."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from watchkeeper.core.gate import GateDecision, SLOFacts, decide, facts_for, rule_windows
from watchkeeper.core.slo import SourceKind
from watchkeeper.policy import service as policy_service
from watchkeeper.slo import service as slo_service
from watchkeeper.slo.schemas import SLOStatusRead, status_read


@dataclass(frozen=True)
class GateResult:
    """The gate's decision with the figures of every SLO it looked at."""

    service: str
    change_type: str | None
    at: datetime
    decision: GateDecision
    slos: list[SLOStatusRead]
    skipped: list[str]  # SLOs the gate could not evaluate (e.g. Prometheus sources)


def check(session: Session, *, service: str, change_type: str | None, now: datetime) -> GateResult:
    """Decide whether ``service`` may deploy now (a ``change_type`` may be exempt by a rule)."""
    records = slo_service.for_service(session, service=service)
    policies = policy_service.list_policies(session)
    windows = rule_windows(policies)
    facts: list[SLOFacts] = []
    statuses: list[SLOStatusRead] = []
    skipped: list[str] = []
    for record in records:
        if slo_service.to_core(record).sli.source is not SourceKind.WATCHKEEPER:
            skipped.append(record.key)
            continue
        evaluation = slo_service.evaluate_now(session, key=record.key, at=now)
        statuses.append(status_read(evaluation.slo, evaluation.status))
        facts.append(facts_for(evaluation.slo, evaluation.series, evaluation.status, windows))
    decision = decide(facts, policies, change_type=change_type)
    return GateResult(service, change_type, now, decision, statuses, skipped)
