"""Declaring an incident: by hand, with its commander and links, or from an alert group.

An alert group belongs to one open incident at a time; declaring from it claims the group's
row first, as the worker's auto-declare does (:mod:`watchkeeper.flows.incidents`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from watchkeeper.alerting import incident_feed
from watchkeeper.alerting import service as alerting_service
from watchkeeper.core.incident import IncidentRole, IncidentStatus, TimelineKind
from watchkeeper.errors import Conflict, InvalidInput
from watchkeeper.incident import repository
from watchkeeper.incident.exceptions import GroupAlreadyInIncident
from watchkeeper.incident.links import (
    check_slo_key,
    link_alert_group,
    link_slo,
    open_incidents_of_group,
)
from watchkeeper.incident.models import IncidentRecord
from watchkeeper.incident.service import (
    NAME_LIMIT,
    Incident,
    assign_role,
    check_severity,
    clean_text,
    log_change,
)
from watchkeeper.slo import service as slo_service

TITLE_LIMIT = 300


def declare(
    session: Session,
    *,
    title: str,
    severity: str,
    actor: str,
    now: datetime,
    service: str | None = None,
    summary: str | None = None,
    commander: str | None = None,
    alert_group_ids: Sequence[int] = (),
    slo_keys: Sequence[str] = (),
    started_at: datetime | None = None,
) -> Incident:
    """Open an incident (status investigating), with its first timeline entry and links.

    ``started_at`` is when the impact began (e.g. the first linked alert's start); it
    defaults to ``now`` and may not lie in the future.
    """
    title = clean_text(title, "title", TITLE_LIMIT)
    actor = clean_text(actor, "actor", NAME_LIMIT)
    severity = check_severity(session, severity)
    if service is not None:
        service = clean_text(service, "service", NAME_LIMIT)
    start = started_at or now
    if start > now:
        raise InvalidInput("started_at: the impact cannot start in the future")
    keys = [check_slo_key(session, key) for key in slo_keys]
    for group_id in alert_group_ids:
        alerting_service.get_group(session, group_id=group_id)
        _refuse_group_in_open_incident(session, group_id)
    incident = repository.add(
        session,
        IncidentRecord(
            title=title,
            service=service,
            severity=severity,
            status=IncidentStatus.INVESTIGATING.value,
            summary=summary,
            declared_at=now,
            declared_by=actor,
            started_at=start,
            updated_at=now,
        ),
    )
    where = f" on {service}" if service else ""
    log_change(
        session,
        incident,
        TimelineKind.DECLARED,
        f"{severity} incident declared{where}: {title}",
        at=now,
        actor=actor,
        details={"severity": severity, "service": service, "started_at": start.isoformat()},
    )
    if commander is not None:
        assign_role(
            session,
            incident_id=incident.id,
            role=IncidentRole.COMMANDER.value,
            user=commander,
            actor=actor,
            now=now,
        )
    for group_id in alert_group_ids:
        link_alert_group(
            session, incident_id=incident.id, alert_group_id=group_id, actor=actor, now=now
        )
    for key in keys:
        link_slo(session, incident_id=incident.id, slo_key=key, actor=actor, now=now)
    return incident


def declare_from_alert_group(
    session: Session,
    *,
    alert_group_id: int,
    severity: str,
    actor: str,
    now: datetime,
    title: str | None = None,
    commander: str | None = None,
    summary: str | None = None,
) -> Incident:
    """Declare an incident for an alert group: title, service, start (its first alert's) and
    SLO come from the group; Conflict if it is linked to an open incident already."""
    group = alerting_service.get_group(session, group_id=alert_group_id)
    # Claim the group's row as the worker's auto-declare does, so the two never both declare.
    if incident_feed.lock_for_incident(session, group_id=alert_group_id) is None:
        raise Conflict(f"alert group {alert_group_id} is being declared by the worker; try again")
    _refuse_group_in_open_incident(session, alert_group_id)
    known_slos = {record.key for record in slo_service.list_slos(session)}
    started = incident_feed.group_started_at(session, group_id=alert_group_id)
    return declare(
        session,
        title=title if title is not None else group.title[:TITLE_LIMIT],
        severity=severity,
        actor=actor,
        now=now,
        service=group.service,
        summary=summary,
        commander=commander,
        alert_group_ids=(alert_group_id,),
        slo_keys=[group.slo_key] if group.slo_key in known_slos else [],
        started_at=min(started, now),
    )


def _refuse_group_in_open_incident(session: Session, alert_group_id: int) -> None:
    already = open_incidents_of_group(session, alert_group_id=alert_group_id)
    if already:
        raise GroupAlreadyInIncident(
            f"alert group {alert_group_id} is linked to open incident #{already[0].id}",
            extra={"incident_id": already[0].id},
        )
