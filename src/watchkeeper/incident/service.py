"""Incident use cases: declare, acknowledge, move through statuses, roles, notes, links.

Every change of state, severity or role writes a timeline entry in the same transaction.
Lifecycle rules live in :mod:`watchkeeper.core.incident`; the severities are configurable
(:mod:`watchkeeper.incident.severities`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from watchkeeper.alerting import service as alerting_service
from watchkeeper.core.incident import (
    OPEN_STATUSES,
    SINGLE_HOLDER_ROLES,
    IncidentRole,
    IncidentStatus,
    TimelineKind,
    transition_problem,
)
from watchkeeper.errors import Conflict, InvalidInput
from watchkeeper.incident import figures, repository
from watchkeeper.incident.exceptions import (
    GroupAlreadyInIncident,
    IncidentNotFound,
    InvalidTransition,
    UnknownSeverity,
)
from watchkeeper.incident.figures import MetricsReport, incident_budgets
from watchkeeper.incident.models import (
    AlertGroupLink,
    IncidentRecord,
    RoleRecord,
    SLOLink,
    TimelineRecord,
)
from watchkeeper.incident.schemas import IncidentDetail, TimelineRead, incident_detail
from watchkeeper.messages import did_you_mean
from watchkeeper.slo import service as slo_service

Incident = IncidentRecord

DEFAULT_LIMIT = 100
TITLE_LIMIT = 300
NAME_LIMIT = 200


def _text(value: str, field: str, limit: int) -> str:
    cleaned = value.strip()
    if not cleaned:
        raise InvalidInput(f"{field}: must not be empty")
    if len(cleaned) > limit:
        raise InvalidInput(f"{field}: at most {limit} characters (got {len(cleaned)})")
    return cleaned


def severity_names(session: Session) -> list[str]:
    """Configured severity names, worst first."""
    return [record.name for record in repository.severities(session)]


def check_severity(session: Session, name: str) -> str:
    """``name`` when it is a configured severity (case-insensitive), else UnknownSeverity."""
    names = severity_names(session)
    by_lower = {known.lower(): known for known in names}
    if name.lower() in by_lower:
        return by_lower[name.lower()]
    raise UnknownSeverity(
        f"severity: {name!r} is not a configured severity ({', '.join(names)})"
        f"{did_you_mean(name, names)}"
    )


def _status(value: str) -> IncidentStatus:
    try:
        return IncidentStatus(value.lower())
    except ValueError:
        choices = [s.value for s in IncidentStatus]
        raise InvalidInput(
            f"status: {value!r} is not one of {', '.join(choices)}{did_you_mean(value, choices)}"
        ) from None


def _role(value: str) -> IncidentRole:
    try:
        return IncidentRole(value.lower())
    except ValueError:
        choices = [r.value for r in IncidentRole]
        raise InvalidInput(
            f"role: {value!r} is not one of {', '.join(choices)}{did_you_mean(value, choices)}"
        ) from None


def add_timeline_entry(
    session: Session,
    *,
    incident_id: int,
    kind: str,
    text: str,
    at: datetime,
    actor: str | None = None,
    details: dict[str, Any] | None = None,
) -> TimelineRecord:
    """Append an entry to an incident's timeline (other domains feed alerts, pages, changes)."""
    try:
        entry_kind = TimelineKind(kind)
    except ValueError:
        choices = [k.value for k in TimelineKind]
        raise InvalidInput(
            f"kind: {kind!r} is not a timeline kind{did_you_mean(kind, choices)}"
        ) from None
    get(session, incident_id)
    return _append(session, incident_id, entry_kind, text, at=at, actor=actor, details=details)


def _append(
    session: Session,
    incident_id: int,
    kind: TimelineKind,
    text: str,
    *,
    at: datetime,
    actor: str | None,
    details: dict[str, Any] | None,
) -> TimelineRecord:
    """Add one timeline entry."""
    return repository.add_timeline(
        session,
        TimelineRecord(
            incident_id=incident_id,
            at=at,
            kind=kind.value,
            text=text,
            actor=actor,
            details=details,
        ),
    )


def _log(
    session: Session,
    incident: IncidentRecord,
    kind: TimelineKind,
    text: str,
    *,
    at: datetime,
    actor: str | None,
    details: dict[str, Any] | None = None,
) -> None:
    incident.updated_at = at
    _append(session, incident.id, kind, text, at=at, actor=actor, details=details)


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
    title = _text(title, "title", TITLE_LIMIT)
    actor = _text(actor, "actor", NAME_LIMIT)
    severity = check_severity(session, severity)
    if service is not None:
        service = _text(service, "service", NAME_LIMIT)
    start = started_at or now
    if start > now:
        raise InvalidInput("started_at: the impact cannot start in the future")
    keys = [_slo_key(session, key) for key in slo_keys]
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
    _log(
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


def open_incidents_of_group(session: Session, *, alert_group_id: int) -> list[Incident]:
    """Open incidents an alert group is linked to."""
    return repository.incidents_linked_to_group(
        session, alert_group_id, [s.value for s in OPEN_STATUSES]
    )


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
    if alerting_service.lock_for_incident(session, group_id=alert_group_id) is None:
        raise Conflict(f"alert group {alert_group_id} is being declared by the worker; try again")
    _refuse_group_in_open_incident(session, alert_group_id)
    known_slos = {record.key for record in slo_service.list_slos(session)}
    started = alerting_service.group_started_at(session, group_id=alert_group_id)
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


def get(session: Session, incident_id: int) -> Incident:
    """The incident with this id, or IncidentNotFound."""
    incident = repository.get(session, incident_id)
    if incident is None:
        raise IncidentNotFound(f"no incident #{incident_id}")
    return incident


def list_incidents(
    session: Session,
    *,
    status: str | None = None,
    service: str | None = None,
    limit: int = DEFAULT_LIMIT,
) -> list[Incident]:
    """Incidents, newest first; ``status`` may also be ``open`` (any unresolved status)."""
    statuses: list[str] | None = None
    if status is not None:
        if status.lower() == "open":
            statuses = [s.value for s in OPEN_STATUSES]
        else:
            statuses = [_status(status).value]
    if limit <= 0:
        raise InvalidInput("limit: must be at least 1")
    return repository.list_incidents(session, statuses=statuses, service=service, limit=limit)


def open_blocking(session: Session, *, service: str, severities: Iterable[str]) -> list[Incident]:
    """Open incidents on ``service`` at any of ``severities`` (the deploy gate asks this)."""
    # Policies may write severity names in any case; incidents carry the configured spelling.
    configured = {name.lower(): name for name in severity_names(session)}
    wanted = sorted({configured.get(name.lower(), name) for name in severities})
    if not wanted:
        return []
    return repository.list_incidents(
        session,
        statuses=[s.value for s in OPEN_STATUSES],
        service=service,
        severities=wanted,
    )


def acknowledge(session: Session, *, incident_id: int, actor: str, now: datetime) -> Incident:
    """Record the first acknowledgement; acknowledging again changes nothing."""
    incident = get(session, incident_id)
    if incident.acknowledged_at is not None:
        return incident
    incident.acknowledged_at = now
    incident.acknowledged_by = actor
    _log(
        session,
        incident,
        TimelineKind.ACKNOWLEDGED,
        f"acknowledged by {actor}",
        at=now,
        actor=actor,
    )
    return incident


def set_status(
    session: Session,
    *,
    incident_id: int,
    status: str,
    actor: str,
    now: datetime,
    note: str | None = None,
) -> Incident:
    """Move an open incident to another status (``resolved`` resolves it)."""
    target = _status(status)
    if target is IncidentStatus.RESOLVED:
        return resolve(session, incident_id=incident_id, actor=actor, now=now, note=note)
    incident = get(session, incident_id)
    current = IncidentStatus(incident.status)
    problem = transition_problem(current, target)
    if problem is not None:
        raise InvalidTransition(f"incident #{incident_id}: {problem}")
    incident.status = target.value
    if target is IncidentStatus.IDENTIFIED and incident.identified_at is None:
        incident.identified_at = now
    if target is IncidentStatus.MONITORING and incident.monitoring_at is None:
        incident.monitoring_at = now
    text = f"status {current.value} → {target.value}" + (f": {note}" if note else "")
    _log(
        session,
        incident,
        TimelineKind.STATUS,
        text,
        at=now,
        actor=actor,
        details={"from": current.value, "to": target.value},
    )
    return incident


def resolve(
    session: Session, *, incident_id: int, actor: str, now: datetime, note: str | None = None
) -> Incident:
    """Resolve an open incident (an unacknowledged one stays unacknowledged, so MTTA counts
    real acknowledgements only)."""
    incident = get(session, incident_id)
    current = IncidentStatus(incident.status)
    problem = transition_problem(current, IncidentStatus.RESOLVED)
    if problem is not None:
        raise InvalidTransition(f"incident #{incident_id}: {problem}")
    incident.status = IncidentStatus.RESOLVED.value
    incident.resolved_at = now
    incident.resolved_by = actor
    text = f"resolved by {actor}" + (f": {note}" if note else "")
    _log(
        session,
        incident,
        TimelineKind.RESOLVED,
        text,
        at=now,
        actor=actor,
        details={"from": current.value},
    )
    return incident


def reopen(
    session: Session, *, incident_id: int, actor: str, now: datetime, note: str | None = None
) -> Incident:
    """Reopen a resolved incident (status investigating; its resolution is cleared)."""
    incident = get(session, incident_id)
    if incident.status != IncidentStatus.RESOLVED.value:
        raise InvalidTransition(
            f"incident #{incident_id}: only a resolved incident can be reopened"
        )
    previous = incident.resolved_at
    incident.status = IncidentStatus.INVESTIGATING.value
    incident.resolved_at = None
    incident.resolved_by = None
    text = f"reopened by {actor}" + (f": {note}" if note else "")
    _log(
        session,
        incident,
        TimelineKind.STATUS,
        text,
        at=now,
        actor=actor,
        details={
            "from": IncidentStatus.RESOLVED.value,
            "to": IncidentStatus.INVESTIGATING.value,
            "was_resolved_at": previous.isoformat() if previous else None,
        },
    )
    return incident


def set_severity(
    session: Session, *, incident_id: int, severity: str, actor: str, now: datetime
) -> Incident:
    """Change an incident's severity."""
    incident = get(session, incident_id)
    name = check_severity(session, severity)
    if name == incident.severity:
        return incident
    previous = incident.severity
    incident.severity = name
    _log(
        session,
        incident,
        TimelineKind.SEVERITY,
        f"severity {previous} → {name}",
        at=now,
        actor=actor,
        details={"from": previous, "to": name},
    )
    return incident


def assign_role(
    session: Session, *, incident_id: int, role: str, user: str, actor: str, now: datetime
) -> Incident:
    """Give ``user`` a role; commander, communications and scribe pass from their holder."""
    incident = get(session, incident_id)
    kind = _role(role)
    user = _text(user, "user", NAME_LIMIT)
    current = [r for r in repository.roles(session, incident_id) if r.role == kind.value]
    if any(r.user_name == user for r in current):
        return incident
    replaced = [r.user_name for r in current] if kind in SINGLE_HOLDER_ROLES else []
    if replaced:
        repository.remove_roles(session, current)
    repository.add_role(
        session,
        RoleRecord(incident_id=incident_id, role=kind.value, user_name=user, assigned_at=now),
    )
    text = f"{user} is {kind.value}" + (f" (was {', '.join(replaced)})" if replaced else "")
    _log(
        session,
        incident,
        TimelineKind.ROLE,
        text,
        at=now,
        actor=actor,
        details={"role": kind.value, "user": user, "replaced": replaced},
    )
    return incident


def add_note(
    session: Session, *, incident_id: int, text: str, actor: str, now: datetime
) -> TimelineRecord:
    """Add a manual note to the timeline."""
    incident = get(session, incident_id)
    note = _text(text, "text", 10_000)
    incident.updated_at = now
    return add_timeline_entry(
        session,
        incident_id=incident_id,
        kind=TimelineKind.NOTE.value,
        text=note,
        at=now,
        actor=actor,
    )


def _slo_key(session: Session, key: str) -> str:
    known = [record.key for record in slo_service.list_slos(session)]
    if key not in known:
        raise InvalidInput(f"slo: no SLO {key!r} has been applied{did_you_mean(key, known)}")
    return key


def link_alert_group(
    session: Session, *, incident_id: int, alert_group_id: int, actor: str, now: datetime
) -> Incident:
    """Link an alert group (by id) to the incident; linking twice changes nothing."""
    incident = get(session, incident_id)
    alerting_service.get_group(session, group_id=alert_group_id)
    if any(
        link.alert_group_id == alert_group_id
        for link in repository.alert_groups(session, incident_id)
    ):
        return incident
    repository.add_link(
        session,
        AlertGroupLink(incident_id=incident_id, alert_group_id=alert_group_id, linked_at=now),
    )
    _log(
        session,
        incident,
        TimelineKind.ALERT,
        f"alert group #{alert_group_id} linked",
        at=now,
        actor=actor,
        details={"alert_group_id": alert_group_id},
    )
    return incident


def link_slo(
    session: Session, *, incident_id: int, slo_key: str, actor: str, now: datetime
) -> Incident:
    """Link an applied SLO (``service/name``) to the incident; linking twice changes nothing."""
    incident = get(session, incident_id)
    key = _slo_key(session, slo_key)
    if any(link.slo_key == key for link in repository.slos(session, incident_id)):
        return incident
    repository.add_link(session, SLOLink(incident_id=incident_id, slo_key=key, linked_at=now))
    _log(
        session,
        incident,
        TimelineKind.SLO,
        f"SLO {key} linked",
        at=now,
        actor=actor,
        details={"slo": key},
    )
    return incident


def roles(session: Session, incident_id: int) -> list[RoleRecord]:
    """Who holds which role in an incident."""
    return repository.roles(session, get(session, incident_id).id)


def timeline(session: Session, incident_id: int) -> list[TimelineRecord]:
    """An incident's timeline, oldest first."""
    return repository.timeline(session, get(session, incident_id).id)


def alert_group_ids(session: Session, incident_id: int) -> list[int]:
    """Ids of the alert groups linked to an incident."""
    return [link.alert_group_id for link in repository.alert_groups(session, incident_id)]


def all_groups_resolved(session: Session) -> list[tuple[int, datetime]]:
    """(id, last group resolve) of each open incident whose linked alert groups have all
    resolved and that has not been noted so since its last link, by id."""
    return repository.all_groups_resolved_unnoted(session, [s.value for s in OPEN_STATUSES])


def claim_resolved_note(session: Session, *, incident_id: int) -> bool:
    """Mark the incident's links as noted resolved; False when another worker already did."""
    return repository.mark_resolved_noted(session, incident_id) > 0


def slo_keys(session: Session, incident_id: int) -> list[str]:
    """Keys of the SLOs linked to an incident."""
    return [link.slo_key for link in repository.slos(session, incident_id)]


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
        for entry in alerting_service.group_logs(session, group_ids=group_ids)
    ]
    if incident.service is not None:
        until = incident.resolved_at or now
        for change in alerting_service.changes_between(
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


def metrics(session: Session, *, since: datetime, until: datetime, now: datetime) -> MetricsReport:
    """MTTA, MTTR, MTBF and target breaches per service and severity over ``[since, until)``."""
    return figures.metrics(session, since=since, until=until, now=now)
