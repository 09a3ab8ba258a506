"""What an incident shows: its detail, with a timeline merged from what it stores and what
its alert groups logged and its service changed meanwhile."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from watchkeeper.alerting import incident_feed
from watchkeeper.core.incident import TimelineKind
from watchkeeper.incident import repository
from watchkeeper.incident.figures import incident_budgets
from watchkeeper.incident.links import alert_group_ids, slo_keys
from watchkeeper.incident.schemas import IncidentDetail, TimelineRead, incident_detail
from watchkeeper.incident.service import Incident, get

# Alert-group log kinds shown as notifications on an incident's timeline (the rest: alert).
_NOTIFICATION_LOG_KINDS = ("notif", "page", "escalat", "deliver")
# How far before an incident's start its service's changes are shown.
CHANGE_LOOKBACK = timedelta(hours=1)


def _log_kind(kind: str) -> str:
    lowered = kind.lower()
    if any(lowered.startswith(prefix) for prefix in _NOTIFICATION_LOG_KINDS):
        return TimelineKind.NOTIFICATION.value
    return TimelineKind.ALERT.value


def merged_timeline(
    session: Session, *, incident: Incident, group_ids: Sequence[int], now: datetime
) -> list[TimelineRead]:
    """Entries an incident shows but does not store: its linked alert groups' logs and the
    changes of its service from an hour before it started until it resolved (or now)."""
    entries = [
        TimelineRead(
            at=entry.at,
            kind=_log_kind(entry.kind),
            text=f"alert group #{entry.group_id}: {entry.message}",
            actor=entry.actor,
            details={"alert_group_id": entry.group_id, "log_kind": entry.kind},
            source="alert_group",
        )
        for entry in incident_feed.group_logs(session, group_ids=group_ids)
    ]
    if incident.service is not None:
        until = incident.resolved_at or now
        for change in incident_feed.changes_between(
            session,
            service=incident.service,
            since=incident.started_at - CHANGE_LOOKBACK,
            until=until,
        ):
            entries.append(
                TimelineRead(
                    at=change.at,
                    kind=TimelineKind.CHANGE.value,
                    text=change.summary,
                    actor=change.source,
                    details={"change_id": change.id, "service": change.service},
                    source="change",
                )
            )
    return entries


def show(session: Session, *, incident_id: int, now: datetime) -> IncidentDetail:
    """An incident with its roles, links, the budget its SLOs burned and its timeline (its
    own entries merged with its alert groups' logs and its service's changes)."""
    incident = get(session, incident_id)
    keys = slo_keys(session, incident_id)
    group_ids = alert_group_ids(session, incident_id)
    return incident_detail(
        incident,
        roles=repository.roles(session, incident_id),
        timeline=repository.timeline(session, incident_id),
        alert_group_ids=group_ids,
        slo_keys=keys,
        budgets=incident_budgets(session, incident=incident, slo_keys=keys, now=now),
        merged=merged_timeline(session, incident=incident, group_ids=group_ids, now=now),
    )
