"""Alert groups and SLOs linked to an incident: linking them, and reading the links back.

Each new link writes a timeline entry; linking twice changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from watchkeeper.alerting import service as alerting_service
from watchkeeper.core.incident import OPEN_STATUSES, TimelineKind
from watchkeeper.errors import InvalidInput
from watchkeeper.incident import repository
from watchkeeper.incident.models import AlertGroupLink, SLOLink
from watchkeeper.incident.service import Incident, get, log_change
from watchkeeper.messages import did_you_mean
from watchkeeper.slo import service as slo_service
from watchkeeper.slo.exceptions import SLONotFound


def check_slo_key(session: Session, key: str) -> str:
    """``key`` when an SLO of that key (``service/name``) has been applied, else InvalidInput."""
    try:
        slo_service.get(session, key=key)
    except SLONotFound:
        # Every SLO is read only to suggest a near key: with 1,000 SLOs, reading them all on
        # each declaration cost more than the rest of declaring an incident.
        known = [record.key for record in slo_service.list_slos(session)]
        raise InvalidInput(
            f"slo: no SLO {key!r} has been applied{did_you_mean(key, known)}"
        ) from None
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
    log_change(
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
    key = check_slo_key(session, slo_key)
    if any(link.slo_key == key for link in repository.slos(session, incident_id)):
        return incident
    repository.add_link(session, SLOLink(incident_id=incident_id, slo_key=key, linked_at=now))
    log_change(
        session,
        incident,
        TimelineKind.SLO,
        f"SLO {key} linked",
        at=now,
        actor=actor,
        details={"slo": key},
    )
    return incident


def open_incidents_of_group(session: Session, *, alert_group_id: int) -> list[Incident]:
    """Open incidents an alert group is linked to."""
    return repository.incidents_linked_to_group(
        session, alert_group_id, [s.value for s in OPEN_STATUSES]
    )


def linked_to_slo(session: Session, *, slo_key: str, limit: int = 20) -> list[Incident]:
    """The latest incidents an SLO (``service/name``) is linked to, newest first."""
    return repository.linked_to_slo(session, slo_key, limit)


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


@dataclass(frozen=True)
class IncidentMarker:
    """An incident as a chart marks it: when it was declared and resolved."""

    id: int
    title: str
    severity: str
    declared_at: datetime
    resolved_at: datetime | None


def incidents_of_slo(
    session: Session, *, slo_key: str, since: datetime, until: datetime, limit: int = 500
) -> list[IncidentMarker]:
    """Incidents linked to an SLO that were declared or resolved in ``[since, until)``."""
    return [
        IncidentMarker(*row)
        for row in repository.incidents_linked_to_slo(
            session, slo_key=slo_key, since=since, until=until, limit=limit
        )
    ]
