"""JSON API of incidents, their severities and metrics."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from watchkeeper.auth.models import APIToken
from watchkeeper.auth.roles import Permission
from watchkeeper.db import utcnow
from watchkeeper.dependencies import (
    ReadToken,
    RespondToken,
    RowId,
    SessionDep,
    json_body,
    json_body_openapi,
)
from watchkeeper.incident import declaration, detail, figures, links, service, severities
from watchkeeper.incident.schemas import (
    AlertGroupIncidentCreate,
    IncidentCreate,
    IncidentDetail,
    IncidentRead,
    LinkCreate,
    MetricsReportRead,
    NoteCreate,
    ResolveBody,
    RoleAssign,
    SeverityRead,
    SeverityUpdate,
    StatusUpdate,
    TimelineRead,
    incident_read,
    metrics_read,
    severity_read,
)

router = APIRouter(prefix="/api/v1", tags=["incidents"])

Create = Annotated[IncidentCreate, Depends(json_body(IncidentCreate, Permission.RESPOND))]
Status = Annotated[StatusUpdate, Depends(json_body(StatusUpdate, Permission.RESPOND))]
Resolve = Annotated[ResolveBody, Depends(json_body(ResolveBody, Permission.RESPOND))]
SeverityBody = Annotated[SeverityUpdate, Depends(json_body(SeverityUpdate, Permission.RESPOND))]
Role = Annotated[RoleAssign, Depends(json_body(RoleAssign, Permission.RESPOND))]
Note = Annotated[NoteCreate, Depends(json_body(NoteCreate, Permission.RESPOND))]
FromGroup = Annotated[
    AlertGroupIncidentCreate, Depends(json_body(AlertGroupIncidentCreate, Permission.RESPOND))
]
Links = Annotated[LinkCreate, Depends(json_body(LinkCreate, Permission.RESPOND))]


def _actor(token: APIToken) -> str:
    """Who acts through the API: the token, by name."""
    return f"token:{token.name}"


@router.get("/incidents", response_model=list[IncidentRead])
def list_incidents(
    session: SessionDep,
    _token: ReadToken,
    status: Annotated[str | None, Query(description="a status, or open")] = None,
    service_name: Annotated[str | None, Query(alias="service")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = service.DEFAULT_LIMIT,
) -> list[IncidentRead]:
    """Incidents, newest first."""
    records = service.list_incidents(session, status=status, service=service_name, limit=limit)
    return [incident_read(r) for r in records]


@router.post(
    "/incidents",
    status_code=201,
    response_model=IncidentDetail,
    openapi_extra=json_body_openapi(IncidentCreate),
)
def declare(body: Create, session: SessionDep, token: RespondToken) -> IncidentDetail:
    """Declare an incident."""
    now = utcnow()
    incident = declaration.declare(
        session,
        title=body.title,
        severity=body.severity,
        actor=_actor(token),
        now=now,
        service=body.service,
        summary=body.summary,
        commander=body.commander,
        alert_group_ids=body.alert_group_ids,
        slo_keys=body.slo_keys,
        started_at=body.started_at,
    )
    return detail.show(session, incident_id=incident.id, now=now)


@router.post(
    "/alert-groups/{group_id}/incident",
    status_code=201,
    response_model=IncidentDetail,
    openapi_extra=json_body_openapi(AlertGroupIncidentCreate),
    responses={409: {"description": "the group is linked to an open incident (incident_id)"}},
)
def declare_from_alert_group(
    group_id: RowId, body: FromGroup, session: SessionDep, token: RespondToken
) -> IncidentDetail:
    """Declare an incident from an alert group (title, service, start and SLO from it)."""
    now = utcnow()
    incident = declaration.declare_from_alert_group(
        session,
        alert_group_id=group_id,
        severity=body.severity,
        actor=_actor(token),
        now=now,
        title=body.title,
        commander=body.commander,
        summary=body.summary,
    )
    return detail.show(session, incident_id=incident.id, now=now)


@router.get("/incidents/severities", response_model=list[SeverityRead])
def list_severities(session: SessionDep, _token: ReadToken) -> list[SeverityRead]:
    """Configured severities, worst first, with their targets."""
    return [severity_read(s) for s in severities.list_severities(session)]


@router.get("/incidents/metrics", response_model=MetricsReportRead)
def incident_metrics(
    session: SessionDep,
    _token: ReadToken,
    since: Annotated[
        str | None,
        Query(description="RFC 3339, Unix seconds or a duration back from now (30d, the default)"),
    ] = None,
    until: Annotated[
        str | None, Query(description="RFC 3339, Unix seconds or a duration back; default now")
    ] = None,
) -> MetricsReportRead:
    """MTTA, MTTR, MTBF and target breaches of incidents that started in [since, until)."""
    now = utcnow()
    start, end = figures.period(since=since, until=until, now=now)
    return metrics_read(service.metrics(session, since=start, until=end, now=now))


@router.get("/incidents/{incident_id}", response_model=IncidentDetail)
def show(incident_id: RowId, session: SessionDep, _token: ReadToken) -> IncidentDetail:
    """An incident with roles, timeline, links and the error budget its SLOs burned."""
    return detail.show(session, incident_id=incident_id, now=utcnow())


@router.post("/incidents/{incident_id}/ack", response_model=IncidentRead)
def acknowledge(incident_id: RowId, session: SessionDep, token: RespondToken) -> IncidentRead:
    """Acknowledge an incident (again: no change)."""
    return incident_read(
        service.acknowledge(session, incident_id=incident_id, actor=_actor(token), now=utcnow())
    )


@router.post(
    "/incidents/{incident_id}/resolve",
    response_model=IncidentRead,
    openapi_extra=json_body_openapi(ResolveBody),
)
def resolve(
    incident_id: RowId, body: Resolve, session: SessionDep, token: RespondToken
) -> IncidentRead:
    """Resolve an open incident."""
    incident = service.resolve(
        session, incident_id=incident_id, actor=_actor(token), now=utcnow(), note=body.note
    )
    return incident_read(incident)


@router.post(
    "/incidents/{incident_id}/reopen",
    response_model=IncidentRead,
    openapi_extra=json_body_openapi(ResolveBody),
)
def reopen(
    incident_id: RowId, body: Resolve, session: SessionDep, token: RespondToken
) -> IncidentRead:
    """Reopen a resolved incident."""
    incident = service.reopen(
        session, incident_id=incident_id, actor=_actor(token), now=utcnow(), note=body.note
    )
    return incident_read(incident)


@router.post(
    "/incidents/{incident_id}/status",
    response_model=IncidentRead,
    openapi_extra=json_body_openapi(StatusUpdate),
)
def set_status(
    incident_id: RowId, body: Status, session: SessionDep, token: RespondToken
) -> IncidentRead:
    """Move an incident to investigating, identified, monitoring or resolved."""
    incident = service.set_status(
        session,
        incident_id=incident_id,
        status=body.status,
        actor=_actor(token),
        now=utcnow(),
        note=body.note,
    )
    return incident_read(incident)


@router.post(
    "/incidents/{incident_id}/severity",
    response_model=IncidentRead,
    openapi_extra=json_body_openapi(SeverityUpdate),
)
def set_severity(
    incident_id: RowId, body: SeverityBody, session: SessionDep, token: RespondToken
) -> IncidentRead:
    """Change an incident's severity."""
    incident = service.set_severity(
        session, incident_id=incident_id, severity=body.severity, actor=_actor(token), now=utcnow()
    )
    return incident_read(incident)


@router.post(
    "/incidents/{incident_id}/roles",
    response_model=IncidentDetail,
    openapi_extra=json_body_openapi(RoleAssign),
)
def assign_role(
    incident_id: RowId, body: Role, session: SessionDep, token: RespondToken
) -> IncidentDetail:
    """Give a person a role (commander, communications and scribe replace their holder)."""
    now = utcnow()
    service.assign_role(
        session,
        incident_id=incident_id,
        role=body.role,
        user=body.user,
        actor=_actor(token),
        now=now,
    )
    return detail.show(session, incident_id=incident_id, now=now)


@router.post(
    "/incidents/{incident_id}/notes",
    status_code=201,
    response_model=TimelineRead,
    openapi_extra=json_body_openapi(NoteCreate),
)
def add_note(
    incident_id: RowId, body: Note, session: SessionDep, token: RespondToken
) -> TimelineRead:
    """Add a note to the timeline."""
    entry = service.add_note(
        session, incident_id=incident_id, text=body.text, actor=_actor(token), now=utcnow()
    )
    return TimelineRead(
        at=entry.at, kind=entry.kind, text=entry.text, actor=entry.actor, details=entry.details
    )


@router.post(
    "/incidents/{incident_id}/links",
    response_model=IncidentDetail,
    openapi_extra=json_body_openapi(LinkCreate),
)
def add_links(
    incident_id: RowId, body: Links, session: SessionDep, token: RespondToken
) -> IncidentDetail:
    """Link alert groups and SLOs to an incident (linking twice changes nothing)."""
    now = utcnow()
    service.get(session, incident_id)
    for group_id in body.alert_group_ids:
        links.link_alert_group(
            session, incident_id=incident_id, alert_group_id=group_id, actor=_actor(token), now=now
        )
    for key in body.slo_keys:
        links.link_slo(session, incident_id=incident_id, slo_key=key, actor=_actor(token), now=now)
    return detail.show(session, incident_id=incident_id, now=now)
