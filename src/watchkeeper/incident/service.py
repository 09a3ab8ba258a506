"""Incident use cases: look up, move through statuses, roles, notes and timeline entries.

Every change of state, severity or role writes a timeline entry in the same transaction.
Lifecycle rules live in :mod:`watchkeeper.core.incident`; the severities are configurable
(:mod:`watchkeeper.incident.severities`). Declaring an incident is in
:mod:`watchkeeper.incident.declaration`, linking alert groups and SLOs in
:mod:`watchkeeper.incident.links`, and the detail view in :mod:`watchkeeper.incident.detail`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from watchkeeper.core.incident import (
    OPEN_STATUSES,
    SINGLE_HOLDER_ROLES,
    IncidentRole,
    IncidentStatus,
    TimelineKind,
    transition_problem,
)
from watchkeeper.errors import InvalidInput
from watchkeeper.incident import figures, repository
from watchkeeper.incident.exceptions import (
    IncidentNotFound,
    InvalidTransition,
    UnknownSeverity,
)
from watchkeeper.incident.figures import MetricsReport
from watchkeeper.incident.models import IncidentRecord, RoleRecord, TimelineRecord
from watchkeeper.messages import did_you_mean

Incident = IncidentRecord

DEFAULT_LIMIT = 100
NAME_LIMIT = 200


def clean_text(value: str, field: str, limit: int) -> str:
    """``value`` stripped, or InvalidInput naming ``field`` when empty or over ``limit``."""
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


def log_change(
    session: Session,
    incident: IncidentRecord,
    kind: TimelineKind,
    text: str,
    *,
    at: datetime,
    actor: str | None,
    details: dict[str, Any] | None = None,
) -> None:
    """Write a change of ``incident`` to its timeline and mark the incident updated."""
    incident.updated_at = at
    _append(session, incident.id, kind, text, at=at, actor=actor, details=details)


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


def incident_page(
    session: Session,
    *,
    status: str | None,
    severity: str | None,
    page: int,
    per_page: int,
) -> tuple[list[Incident], int]:
    """Page ``page`` (from 1) of incidents newest first, of a status (or ``open``) and a
    severity, and how many match in all."""
    statuses: list[str] | None = None
    if status is not None:
        if status.lower() == "open":
            statuses = [s.value for s in OPEN_STATUSES]
        else:
            statuses = [_status(status).value]
    severities = [check_severity(session, severity)] if severity is not None else None
    if page < 1 or per_page < 1:
        raise InvalidInput("page: must be at least 1")
    return repository.incidents_page(
        session,
        statuses=statuses,
        severities=severities,
        offset=(page - 1) * per_page,
        limit=per_page,
    )


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
    log_change(
        session,
        incident,
        TimelineKind.ACKNOWLEDGED,
        f"acknowledged by {actor}",
        at=now,
        actor=actor,
    )
    return incident


def _check_transition(
    session: Session, incident_id: int, target: IncidentStatus
) -> tuple[Incident, IncidentStatus]:
    """The incident and its current status, or InvalidTransition when the lifecycle rules
    do not let it move to ``target``."""
    incident = get(session, incident_id)
    current = IncidentStatus(incident.status)
    problem = transition_problem(current, target)
    if problem is not None:
        raise InvalidTransition(f"incident #{incident_id}: {problem}")
    return incident, current


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
    incident, current = _check_transition(session, incident_id, target)
    incident.status = target.value
    if target is IncidentStatus.IDENTIFIED and incident.identified_at is None:
        incident.identified_at = now
    if target is IncidentStatus.MONITORING and incident.monitoring_at is None:
        incident.monitoring_at = now
    text = f"status {current.value} → {target.value}" + (f": {note}" if note else "")
    log_change(
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
    incident, current = _check_transition(session, incident_id, IncidentStatus.RESOLVED)
    incident.status = IncidentStatus.RESOLVED.value
    incident.resolved_at = now
    incident.resolved_by = actor
    text = f"resolved by {actor}" + (f": {note}" if note else "")
    log_change(
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
    log_change(
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
    log_change(
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
    user = clean_text(user, "user", NAME_LIMIT)
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
    log_change(
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
    note = clean_text(text, "text", 10_000)
    incident.updated_at = now
    return add_timeline_entry(
        session,
        incident_id=incident_id,
        kind=TimelineKind.NOTE.value,
        text=note,
        at=now,
        actor=actor,
    )


def roles(session: Session, incident_id: int) -> list[RoleRecord]:
    """Who holds which role in an incident."""
    return repository.roles(session, get(session, incident_id).id)


def timeline(session: Session, incident_id: int) -> list[TimelineRecord]:
    """An incident's timeline, oldest first."""
    return repository.timeline(session, get(session, incident_id).id)


def metrics(session: Session, *, since: datetime, until: datetime, now: datetime) -> MetricsReport:
    """MTTA, MTTR, MTBF and target breaches per service and severity over ``[since, until)``."""
    return figures.metrics(session, since=since, until=until, now=now)
