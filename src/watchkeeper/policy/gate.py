"""The deploy gate use case: evaluate a service's SLOs now and apply its error-budget policies."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from watchkeeper.core.gate import (
    GateDecision,
    OpenIncident,
    SLOFacts,
    blocking_severities,
    decide,
    facts_for,
    incident_rules,
    rule_windows,
    unevaluated_facts,
)
from watchkeeper.core.slo import SLO, SourceKind
from watchkeeper.incident import service as incident_service
from watchkeeper.policy import service as policy_service
from watchkeeper.slo import service as slo_service
from watchkeeper.slo.exceptions import NotEvaluable
from watchkeeper.slo.schemas import SLOStatusRead, status_read
from watchkeeper.sources.exceptions import SourceError, SourceUnreachable


# How the gate names the systems an SLO may read instead of the built-in event store.
def _source_name(slo: SLO) -> str:
    """The system an SLO's SLI reads, as people call it."""
    external = slo.sli.external
    if slo.sli.source is SourceKind.EXTERNAL and external is not None:
        return f"{external.source_type} (catalogued)"
    return {SourceKind.PROMETHEUS: "Prometheus"}.get(slo.sli.source, slo.sli.source.value)


@dataclass(frozen=True)
class NotEvaluated:
    """An SLO the gate could not evaluate, and why; it counts as having no data."""

    slo: str
    reason: str


@dataclass(frozen=True)
class GateResult:
    """The gate's decision with the figures of every SLO it looked at."""

    service: str
    change_type: str | None
    at: datetime
    decision: GateDecision
    slos: list[SLOStatusRead]
    not_evaluated: list[NotEvaluated]
    incidents: list[OpenIncident] = field(default_factory=list)


def check(session: Session, *, service: str, change_type: str | None, now: datetime) -> GateResult:
    """Decide whether ``service`` may deploy now (a ``change_type`` may be exempt by a rule).

    An SLO Watchkeeper cannot evaluate (another source, or an evaluation that fails) is not
    skipped: it counts as having no data, so ``no_data`` rules hold for it. Open incidents on
    the service at a blocking severity hold the deploy as the covering policies say.
    """
    records = slo_service.for_service(session, service=service)
    policies = policy_service.list_policies(session)
    windows = rule_windows(policies)
    facts: list[SLOFacts] = []
    statuses: list[SLOStatusRead] = []
    not_evaluated: list[NotEvaluated] = []
    for record in records:
        reason: str | None = None
        try:
            slo = slo_service.to_core(record)
        except NotEvaluable as exc:  # a stored spec that no longer parses
            reason = exc.detail
            policy = record.spec.get("policy") if isinstance(record.spec, dict) else None
            not_evaluated.append(NotEvaluated(record.key, reason))
            facts.append(
                unevaluated_facts(
                    key=record.key,
                    service=record.service,
                    policy=policy if isinstance(policy, str) else None,
                    reason=reason,
                )
            )
            continue
        if slo.sli.source not in (SourceKind.WATCHKEEPER, SourceKind.PROMETHEUS):
            reason = f"reads {_source_name(slo)}"
        else:
            try:
                evaluation = slo_service.evaluate_now(session, key=record.key, at=now)
                slo_facts = facts_for(evaluation.slo, evaluation.series, evaluation.status, windows)
            except (NotEvaluable, SourceError, SourceUnreachable) as exc:
                # "source unreachable: ..." for a Prometheus that is down: no data to the
                # policies (their no_data rule decides), never a silent allow.
                reason = exc.detail
            else:
                statuses.append(status_read(evaluation.slo, evaluation.status))
                facts.append(slo_facts)
        if reason is not None:
            not_evaluated.append(NotEvaluated(record.key, reason))
            facts.append(
                unevaluated_facts(
                    key=slo.key, service=slo.service, policy=slo.policy, reason=reason
                )
            )
    configured = incident_service.severity_names(session)
    blocking = blocking_severities(incident_rules(facts, policies), configured=configured)
    incidents = [
        OpenIncident(i.id, i.title, i.severity, i.status)
        for i in incident_service.open_blocking(session, service=service, severities=blocking)
    ]
    decision = decide(
        facts,
        policies,
        change_type=change_type,
        incidents=incidents,
        service=service,
        severities=configured,
    )
    return GateResult(service, change_type, now, decision, statuses, not_evaluated, incidents)
