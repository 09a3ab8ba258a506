"""The deploy gate use case: evaluate a service's SLOs now and apply its error-budget policies."""

from __future__ import annotations

from collections.abc import Mapping
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
from watchkeeper.errors import WatchkeeperError
from watchkeeper.incident import service as incident_service
from watchkeeper.policy import service as policy_service
from watchkeeper.slo import service as slo_service
from watchkeeper.slo.exceptions import NotEvaluable
from watchkeeper.slo.schemas import SLOStatusRead, status_read
from watchkeeper.slo.service import Evaluation
from watchkeeper.sources.exceptions import SourceError, SourceUnreachable


# How the gate names the systems an SLO may read instead of the built-in event store.
def _source_name(slo: SLO) -> str:
    """The system an SLO's SLI reads, as people call it."""
    external = slo.sli.external
    if slo.sli.source is SourceKind.EXTERNAL and external is not None:
        return f"{external.source_type} (catalogued)"
    return {SourceKind.PROMETHEUS: "Prometheus"}.get(slo.sli.source, slo.sli.source.value)


# The sources the gate evaluates; an SLO reading any other counts as having no data.
_EVALUATED = (SourceKind.WATCHKEEPER, SourceKind.PROMETHEUS)


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
    return check_with_evaluations(session, service=service, change_type=change_type, now=now).result


@dataclass(frozen=True)
class GateCheck:
    """The gate's decision, and the evaluations it was made from (by SLO key: the SLOs the
    gate evaluated, each an Evaluation or the error ``slo_service.evaluate_now`` raises)."""

    result: GateResult
    evaluations: Mapping[str, Evaluation | WatchkeeperError]


def check_with_evaluations(
    session: Session, *, service: str, change_type: str | None, now: datetime
) -> GateCheck:
    """:func:`check`, keeping its evaluations for callers that show them (the detail page).

    The service's event-store SLOs are evaluated together (``slo_service.evaluate_many``):
    a constant number of queries however many SLOs the service has.
    """
    records = slo_service.for_service(session, service=service)
    policies = policy_service.list_policies(session)
    windows = rule_windows(policies)
    parsed: list[SLO | NotEvaluable] = []
    for record in records:
        try:
            parsed.append(slo_service.to_core(record))
        except NotEvaluable as exc:  # a stored spec that no longer parses
            parsed.append(exc)
    evaluations = slo_service.evaluate_many(
        session,
        records=[
            record
            for record, slo in zip(records, parsed, strict=True)
            if isinstance(slo, SLO) and slo.sli.source in _EVALUATED
        ],
        at=now,
    )
    facts: list[SLOFacts] = []
    statuses: list[SLOStatusRead] = []
    not_evaluated: list[NotEvaluated] = []
    for record, slo in zip(records, parsed, strict=True):
        reason: str | None = None
        if isinstance(slo, NotEvaluable):
            reason = slo.detail
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
        if slo.sli.source not in _EVALUATED:
            reason = f"reads {_source_name(slo)}"
        else:
            try:
                evaluation = evaluations[record.key]
                if isinstance(evaluation, WatchkeeperError):
                    raise evaluation
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
    return GateCheck(
        GateResult(service, change_type, now, decision, statuses, not_evaluated, incidents),
        evaluations,
    )
