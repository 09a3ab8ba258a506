"""SQL of incidents, severities, roles, timeline entries and links."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import case, delete, false, func, select, update
from sqlalchemy.orm import Session

from watchkeeper.alerting.models import AlertGroup
from watchkeeper.incident.models import (
    AlertGroupLink,
    IncidentRecord,
    RoleRecord,
    SeverityRecord,
    SLOLink,
    TimelineRecord,
)


def severities(session: Session) -> list[SeverityRecord]:
    """Every configured severity, worst first."""
    return list(session.scalars(select(SeverityRecord).order_by(SeverityRecord.rank)))


def replace_severities(session: Session, records: Sequence[SeverityRecord]) -> None:
    """Delete every severity and insert ``records``."""
    session.execute(delete(SeverityRecord))
    session.add_all(records)
    session.flush()


def severities_in_use(session: Session) -> set[str]:
    """Severity names some incident carries."""
    return set(session.scalars(select(IncidentRecord.severity).distinct()))


def add(session: Session, record: IncidentRecord) -> IncidentRecord:
    """Insert an incident row."""
    session.add(record)
    session.flush()
    return record


def get(session: Session, incident_id: int) -> IncidentRecord | None:
    """The incident with this id."""
    return session.get(IncidentRecord, incident_id)


def list_incidents(
    session: Session,
    *,
    statuses: Sequence[str] | None = None,
    service: str | None = None,
    severities: Sequence[str] | None = None,
    limit: int | None = None,
) -> list[IncidentRecord]:
    """Incidents, newest declared first, filtered by status, service and severity."""
    query = select(IncidentRecord)
    if statuses is not None:
        query = query.where(IncidentRecord.status.in_(statuses))
    if service is not None:
        query = query.where(IncidentRecord.service == service)
    if severities is not None:
        query = query.where(IncidentRecord.severity.in_(severities))
    query = query.order_by(IncidentRecord.declared_at.desc(), IncidentRecord.id.desc())
    if limit is not None:
        query = query.limit(limit)
    return list(session.scalars(query))


def incidents_page(
    session: Session,
    *,
    statuses: Sequence[str] | None,
    severities: Sequence[str] | None,
    offset: int,
    limit: int,
) -> tuple[list[IncidentRecord], int]:
    """One page of incidents, newest declared first, filtered by status and severity, and
    how many match in all."""
    query = select(IncidentRecord)
    counted = select(func.count()).select_from(IncidentRecord)
    if statuses is not None:
        query = query.where(IncidentRecord.status.in_(statuses))
        counted = counted.where(IncidentRecord.status.in_(statuses))
    if severities is not None:
        query = query.where(IncidentRecord.severity.in_(severities))
        counted = counted.where(IncidentRecord.severity.in_(severities))
    query = query.order_by(IncidentRecord.declared_at.desc(), IncidentRecord.id.desc())
    rows = list(session.scalars(query.offset(offset).limit(limit)))
    return rows, int(session.scalar(counted) or 0)


def for_metrics(
    session: Session, *, started_before: datetime, open_or_started_since: datetime
) -> list[IncidentRecord]:
    """Incidents started before ``started_before`` that are open or started since the other."""
    query = select(IncidentRecord).where(
        IncidentRecord.started_at < started_before,
        (IncidentRecord.started_at >= open_or_started_since) | IncidentRecord.resolved_at.is_(None),
    )
    return list(session.scalars(query.order_by(IncidentRecord.started_at)))


def roles(session: Session, incident_id: int) -> list[RoleRecord]:
    """Roles of an incident, in assignment order."""
    query = select(RoleRecord).where(RoleRecord.incident_id == incident_id)
    return list(session.scalars(query.order_by(RoleRecord.assigned_at, RoleRecord.id)))


def add_role(session: Session, record: RoleRecord) -> None:
    """Insert a role row."""
    session.add(record)
    session.flush()


def remove_roles(session: Session, records: Iterable[RoleRecord]) -> None:
    """Delete role rows."""
    for record in records:
        session.delete(record)
    session.flush()


def timeline(session: Session, incident_id: int) -> list[TimelineRecord]:
    """Timeline of an incident, oldest first."""
    query = select(TimelineRecord).where(TimelineRecord.incident_id == incident_id)
    return list(session.scalars(query.order_by(TimelineRecord.at, TimelineRecord.id)))


def add_timeline(session: Session, record: TimelineRecord) -> TimelineRecord:
    """Insert a timeline entry."""
    session.add(record)
    session.flush()
    return record


def alert_groups(session: Session, incident_id: int) -> list[AlertGroupLink]:
    """Alert groups linked to an incident."""
    query = select(AlertGroupLink).where(AlertGroupLink.incident_id == incident_id)
    return list(session.scalars(query.order_by(AlertGroupLink.alert_group_id)))


def slos(session: Session, incident_id: int) -> list[SLOLink]:
    """SLOs linked to an incident."""
    query = select(SLOLink).where(SLOLink.incident_id == incident_id)
    return list(session.scalars(query.order_by(SLOLink.slo_key)))


def add_link(session: Session, record: AlertGroupLink | SLOLink) -> None:
    """Insert a link row."""
    session.add(record)
    session.flush()


def incidents_linked_to_group(
    session: Session, alert_group_id: int, statuses: Sequence[str]
) -> list[IncidentRecord]:
    """Incidents of these statuses an alert group is linked to, oldest first."""
    query = (
        select(IncidentRecord)
        .join(AlertGroupLink, AlertGroupLink.incident_id == IncidentRecord.id)
        .where(
            AlertGroupLink.alert_group_id == alert_group_id,
            IncidentRecord.status.in_(list(statuses)),
        )
        .order_by(IncidentRecord.id)
    )
    return list(session.scalars(query))


def linked_to_slo(session: Session, slo_key: str, limit: int) -> list[IncidentRecord]:
    """Incidents an SLO is linked to, newest declared first."""
    query = (
        select(IncidentRecord)
        .join(SLOLink, SLOLink.incident_id == IncidentRecord.id)
        .where(SLOLink.slo_key == slo_key)
        .order_by(IncidentRecord.declared_at.desc(), IncidentRecord.id.desc())
        .limit(limit)
    )
    return list(session.scalars(query))


def all_groups_resolved_unnoted(
    session: Session, statuses: Sequence[str]
) -> list[tuple[int, datetime]]:
    """(incident id, last group resolve) of the incidents of these statuses whose linked
    groups have all resolved and that have a link not noted yet, by id: one query."""
    unnoted = func.sum(case((AlertGroupLink.resolved_noted == false(), 1), else_=0))
    query = (
        select(AlertGroupLink.incident_id, func.max(AlertGroup.resolved_at))
        .join(IncidentRecord, IncidentRecord.id == AlertGroupLink.incident_id)
        .join(AlertGroup, AlertGroup.id == AlertGroupLink.alert_group_id)
        .where(IncidentRecord.status.in_(list(statuses)))
        .group_by(AlertGroupLink.incident_id)
        .having(func.count(AlertGroup.resolved_at) == func.count(), unnoted > 0)
        .order_by(AlertGroupLink.incident_id)
    )
    # HAVING counts every group resolved, so ``last`` is never None here.
    return [(incident_id, last) for incident_id, last in session.execute(query) if last]


def mark_resolved_noted(session: Session, incident_id: int) -> int:
    """Set ``resolved_noted`` on the incident's unnoted links; how many it set.

    A concurrent worker's same UPDATE waits for these row locks, then matches nothing."""
    result = session.execute(
        update(AlertGroupLink)
        .where(
            AlertGroupLink.incident_id == incident_id,
            AlertGroupLink.resolved_noted == false(),
        )
        .values(resolved_noted=True)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def incidents_linked_to_slo(
    session: Session, *, slo_key: str, since: datetime, until: datetime, limit: int
) -> list[tuple[int, str, str, datetime, datetime | None]]:
    """(id, title, severity, declared_at, resolved_at) of the incidents linked to an SLO,
    declared or resolved in ``[since, until)``, oldest first (columns only: chart markers)."""
    query = (
        select(
            IncidentRecord.id,
            IncidentRecord.title,
            IncidentRecord.severity,
            IncidentRecord.declared_at,
            IncidentRecord.resolved_at,
        )
        .join(SLOLink, SLOLink.incident_id == IncidentRecord.id)
        .where(
            SLOLink.slo_key == slo_key,
            ((IncidentRecord.declared_at >= since) & (IncidentRecord.declared_at < until))
            | ((IncidentRecord.resolved_at >= since) & (IncidentRecord.resolved_at < until)),
        )
        .order_by(IncidentRecord.declared_at, IncidentRecord.id)
        .limit(limit)
    )
    return [(row[0], row[1], row[2], row[3], row[4]) for row in session.execute(query)]


def declared_between(session: Session, *, since: datetime, until: datetime) -> list[IncidentRecord]:
    """Incidents declared in ``[since, until)``, oldest first."""
    query = select(IncidentRecord).where(
        IncidentRecord.declared_at >= since, IncidentRecord.declared_at < until
    )
    return list(session.scalars(query.order_by(IncidentRecord.declared_at, IncidentRecord.id)))
