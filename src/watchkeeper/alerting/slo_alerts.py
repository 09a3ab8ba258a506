"""Watchkeeper's own SLO burn-rate alerts as intake: the SLO engine's alert transitions fold
into alert groups on an internal integration, one group per SLO and severity (page alerts
page, ticket alerts notify), one alert per window pair."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from watchkeeper.alerting import grouping, repository
from watchkeeper.alerting.grouping import AlertFacts
from watchkeeper.alerting.models import Integration
from watchkeeper.errors import WatchkeeperError
from watchkeeper.slo import service as slo_service

SLO_INTEGRATION = "watchkeeper-slo"


def slo_integration(session: Session, *, now: datetime) -> Integration:
    """The internal integration of Watchkeeper's own SLO alerts, created on first use."""
    found = repository.integration_by_name(session, SLO_INTEGRATION)
    if found is not None:
        return found
    integration = Integration(
        name=SLO_INTEGRATION,
        type="slo",
        key=secrets.token_hex(16),
        escalation_policy=None,
        default_urgency="high",
        created_at=now,
    )
    repository.add(session, integration)
    return integration


@dataclass(frozen=True)
class _SLOContext:
    service: str
    runbook_url: str | None
    labels: dict[str, str]


def _slo_context(session: Session, slo_key: str, severity: str) -> _SLOContext:
    service_name = slo_key.split("/", 1)[0]
    try:
        record = slo_service.get(session, key=slo_key)
        service_name = record.service
        slo = slo_service.to_core(record)
    except WatchkeeperError:  # a deleted or unparsable SLO still gets its alert, with less context
        return _SLOContext(service_name, None, {})
    target = slo.alerting.page if severity == "page" else slo.alerting.ticket
    return _SLOContext(service_name, target.runbook_url, dict(target.labels))


def ingest_slo_transitions(session: Session, transitions: Sequence[Any], *, now: datetime) -> int:
    """Turn burn-rate alert transitions (slo.alert_states.Transition) into intake on the
    internal ``slo`` integration: one group per SLO and severity, one alert per window pair.
    Returns how many transitions were applied."""
    if not transitions:
        return 0
    integration = slo_integration(session, now=now)
    for transition in transitions:
        severity: str = transition.severity
        dedup_key = f"{transition.slo_key}:{severity}"
        context = _slo_context(session, transition.slo_key, severity)
        window = f"{transition.long_seconds}s/{transition.short_seconds}s"
        labels = {
            **context.labels,
            "service": context.service,
            "slo": transition.slo_key,
            "severity": severity,
        }
        annotations: dict[str, Any] = {
            "summary": f"{transition.slo_key} is burning its error budget ({severity})",
            "long_burn_rate": transition.long_burn_rate,
            "short_burn_rate": transition.short_burn_rate,
            "factor": transition.factor,
            "long_window_seconds": transition.long_seconds,
            "short_window_seconds": transition.short_seconds,
        }
        if context.runbook_url:
            annotations["runbook_url"] = context.runbook_url
        group = repository.open_group(session, integration.id, dedup_key)
        if group is None:
            if not transition.firing:
                continue  # a window that stops firing in a group resolved already
            group = grouping.open_group(
                session,
                integration,
                grouping.GroupFacts(
                    dedup_key=dedup_key,
                    title=annotations["summary"],
                    source="slo",
                    service=context.service,
                    severity=severity,
                    labels=labels,
                    annotations=annotations,
                    slo_key=transition.slo_key,
                    urgency="high" if severity == "page" else "low",
                ),
                now=now,
            )
        alerts = {a.fingerprint: a for a in repository.alerts_of(session, group.id)}
        existing = alerts.get(window)
        grouping.apply_alert(
            session,
            group,
            alerts,
            AlertFacts(
                fingerprint=window,
                firing=transition.firing,
                labels={**labels, "window": window},
                annotations=annotations,
                starts_at=transition.at
                if transition.firing or existing is None
                else existing.starts_at,
                ends_at=None if transition.firing else transition.at,
            ),
            now=now,
            actor="slo",
        )
        if transition.firing:
            group.annotations = annotations
        group.last_event_at = now
        session.flush()
        grouping.settle(session, group, alerts, now=now, actor="slo")
    session.flush()
    return len(transitions)
