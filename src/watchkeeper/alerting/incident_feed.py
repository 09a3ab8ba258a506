"""What alerting offers the incident domain and the incident flows: groups waiting for an
incident, their claim and link, their logs and the change timeline (alerting never imports
the incident domain)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from watchkeeper.alerting import feed_repository, grouping, repository
from watchkeeper.alerting.grouping import FIRING
from watchkeeper.alerting.models import (
    AlertGroup,
)
from watchkeeper.alerting.service import get_group

INTEGRATION_TYPES = ("alertmanager", "pagerduty", "webhook")
URGENCIES = ("high", "low")
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@:-]{0,199}")
KEY_PATTERN = re.compile(r"[0-9a-f]{32}")
_PATHS = {
    "alertmanager": "/api/v1/integrations/{key}/alertmanager",
    "pagerduty": "/v2/enqueue",
    "webhook": "/api/v1/integrations/{key}/webhook",
    "slo": "",
}


@dataclass(frozen=True)
class LogEntry:
    """One entry of an alert group's log, as other domains read it."""

    group_id: int
    at: datetime
    kind: str
    message: str
    actor: str | None
    details: dict[str, Any] | None


@dataclass(frozen=True)
class ChangeEntry:
    """One change event (deploy, config push) of a service."""

    id: int
    at: datetime
    summary: str
    source: str | None
    service: str | None


def groups_pending_incident(session: Session, *, limit: int = 100) -> list[AlertGroup]:
    """Firing groups routed with ``incident: SEVERITY`` that have no incident yet."""
    return repository.groups_pending_incident(session, limit)


def claim_for_incident(session: Session, *, group_id: int) -> AlertGroup | None:
    """Lock a pending group's row for declaring its incident; None if another worker has it
    or it no longer needs one (declared, resolved, acknowledged)."""
    group = repository.lock_group(session, group_id)
    if group is None or group.incident_id is not None or group.incident_severity is None:
        return None
    if group.status != FIRING:
        return None
    return group


def lock_for_incident(session: Session, *, group_id: int) -> AlertGroup | None:
    """Lock a group's row for declaring an incident by hand; None while a worker holds it."""
    return repository.lock_group(session, group_id)


def mark_incident(session: Session, *, group_id: int, incident_id: int) -> AlertGroup:
    """Record the incident declared for a group (auto-declare then skips it)."""
    group = get_group(session, group_id=group_id)
    group.incident_id = incident_id
    session.flush()
    return group


def group_started_at(session: Session, *, group_id: int) -> datetime:
    """When a group's trouble began: its first alert's start, else when the group opened."""
    group = get_group(session, group_id=group_id)
    first = feed_repository.first_alert_starts(session, group_id)
    return min(first, group.created_at) if first is not None else group.created_at


def group_logs(session: Session, *, group_ids: Sequence[int]) -> list[LogEntry]:
    """The logs of several groups merged, oldest first."""
    return [
        LogEntry(
            group_id=row.group_id,
            at=row.at,
            kind=row.kind,
            message=row.message,
            actor=row.actor,
            details=row.details,
        )
        for row in feed_repository.logs_of(session, list(group_ids))
    ]


def changes_between(
    session: Session, *, service: str, since: datetime, until: datetime
) -> list[ChangeEntry]:
    """Change events of a service between two times, oldest first."""
    return [
        ChangeEntry(id=c.id, at=c.at, summary=c.summary, source=c.source, service=c.service)
        for c in feed_repository.changes_between(session, service=service, since=since, until=until)
    ]


def groups_created_between(
    session: Session, *, since: datetime, until: datetime
) -> list[AlertGroup]:
    """Groups opened in ``[since, until)`` (alert-noise metrics read them)."""
    return feed_repository.groups_created_between(session, since, until)


def drop_incident_request(session: Session, *, group_id: int, reason: str, now: datetime) -> None:
    """Give up auto-declaring for a group (its severity is gone): logged, not retried."""
    group = get_group(session, group_id=group_id)
    severity, group.incident_severity = group.incident_severity, None
    grouping.log(
        session,
        group,
        kind="incident_failed",
        message=f"incident ({severity}) not declared: {reason}",
        at=now,
    )
    session.flush()


@dataclass(frozen=True)
class GroupMarker:
    """An alert group as a chart marks it: when it opened and resolved."""

    id: int
    title: str
    created_at: datetime
    resolved_at: datetime | None


def groups_of_slo(
    session: Session,
    *,
    slo_key: str,
    service: str,
    since: datetime,
    until: datetime,
    limit: int = 500,
) -> list[GroupMarker]:
    """Groups raised for an SLO or its service that opened or resolved in ``[since, until)``
    (the SLO chart's markers), oldest first."""
    return [
        GroupMarker(*row)
        for row in feed_repository.groups_opened_or_resolved(
            session, slo_key=slo_key, service=service, since=since, until=until, limit=limit
        )
    ]
