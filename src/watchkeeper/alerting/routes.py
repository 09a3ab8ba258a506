"""JSON API of alerting (integrations, alert groups, routing rules, silences, changes) and the
signed action-link pages; the intake endpoints are in intake_routes."""

from __future__ import annotations

import html
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from watchkeeper.alerting import links, routing, service, silences
from watchkeeper.alerting.exceptions import (
    AlertGroupNotFound,
    InvalidActionLink,
    InvalidSilence,
)
from watchkeeper.alerting.models import Integration
from watchkeeper.alerting.schemas import (
    IntegrationCreate,
    IntegrationRead,
    RoutesApply,
    SilenceAction,
    SilenceCreate,
)
from watchkeeper.auth import audit
from watchkeeper.auth.audit import Actor, ActorKind
from watchkeeper.auth.models import APIToken
from watchkeeper.auth.roles import Permission
from watchkeeper.config import Settings
from watchkeeper.core.duration import parse_duration
from watchkeeper.db import utcnow
from watchkeeper.dependencies import (
    AdminToken,
    ReadToken,
    RespondToken,
    RowId,
    SessionDep,
    SettingsDep,
    WriteToken,
    json_body,
    json_body_openapi,
)
from watchkeeper.errors import WatchkeeperError
from watchkeeper.flows import incidents as incident_flows

router = APIRouter(prefix="/api/v1", tags=["alerting"])
links_router = APIRouter(tags=["action links"], include_in_schema=False)


def _actor(token: APIToken) -> str:
    return f"token:{token.name}"


# --- integrations --------------------------------------------------------------------------


def _integration_read(integration: Integration, settings: Settings) -> IntegrationRead:
    return IntegrationRead(
        name=integration.name,
        type=integration.type,
        key=integration.key,
        url=service.url_of(integration, base_url=settings.public_url),
        escalation_policy=integration.escalation_policy,
        default_urgency=integration.default_urgency,
        created_at=integration.created_at,
        disabled_at=integration.disabled_at,
    )


@router.get("/integrations", response_model=list[IntegrationRead])
def list_integrations(
    session: SessionDep, settings: SettingsDep, _token: AdminToken
) -> list[IntegrationRead]:
    """Integrations with their keys and intake URLs (admin: keys let anyone send alerts)."""
    return [_integration_read(i, settings) for i in service.list_integrations(session)]


IntegrationBody = Annotated[
    IntegrationCreate, Depends(json_body(IntegrationCreate, Permission.ADMIN))
]


@router.post(
    "/integrations",
    status_code=201,
    response_model=IntegrationRead,
    openapi_extra=json_body_openapi(IntegrationCreate),
)
def create_integration(
    body: IntegrationBody, session: SessionDep, settings: SettingsDep, _token: AdminToken
) -> IntegrationRead:
    """Create an integration; the answer holds its key and intake URL."""
    integration = service.create_integration(
        session,
        name=body.name,
        type=body.type,
        now=utcnow(),
        escalation_policy=body.escalation_policy,
        default_urgency=body.default_urgency,
    )
    return _integration_read(integration, settings)


@router.delete("/integrations/{name}", status_code=204)
def delete_integration(name: str, session: SessionDep, _token: AdminToken) -> Response:
    """Delete an integration and its alert groups."""
    service.delete_integration(session, name=name)
    return Response(status_code=204)


# --- alert groups --------------------------------------------------------------------------


@router.get("/alert-groups")
def list_alert_groups(
    session: SessionDep,
    _token: ReadToken,
    status: Annotated[
        str | None, Query(description="firing, acknowledged, resolved, silenced")
    ] = None,
    service_name: Annotated[str | None, Query(alias="service")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[dict[str, Any]]:
    """Alert groups, newest first."""
    groups = service.list_groups(session, status=status, service=service_name, limit=limit)
    return service.group_summaries(session, groups)


@router.get("/alert-groups/{group_id}")
def show_alert_group(group_id: RowId, session: SessionDep, _token: ReadToken) -> dict[str, Any]:
    """One alert group with its alerts and log."""
    return service.group_detail(session, group_id=group_id)


@router.post("/alert-groups/{group_id}/ack")
def ack_alert_group(group_id: RowId, session: SessionDep, token: RespondToken) -> dict[str, Any]:
    """Acknowledge: escalation stops."""
    group = service.acknowledge(session, group_id=group_id, actor=_actor(token), now=utcnow())
    return service.group_summaries(session, [group])[0]


@router.post("/alert-groups/{group_id}/unack")
def unack_alert_group(group_id: RowId, session: SessionDep, token: RespondToken) -> dict[str, Any]:
    """Take back an acknowledgement: the group fires and escalates again."""
    group = service.unacknowledge(session, group_id=group_id, actor=_actor(token), now=utcnow())
    return service.group_summaries(session, [group])[0]


@router.post("/alert-groups/{group_id}/resolve")
def resolve_alert_group(
    group_id: RowId, session: SessionDep, token: RespondToken
) -> dict[str, Any]:
    """Resolve by hand."""
    group = service.resolve(session, group_id=group_id, actor=_actor(token), now=utcnow())
    return service.group_summaries(session, [group])[0]


SilenceActionBody = Annotated[SilenceAction, Depends(json_body(SilenceAction, Permission.RESPOND))]


def _duration(field: str, text: str) -> Any:
    try:
        return parse_duration(text)
    except ValueError as exc:
        raise InvalidSilence(f"{field}: {exc}") from None


@router.post("/alert-groups/{group_id}/silence", openapi_extra=json_body_openapi(SilenceAction))
def silence_alert_group(
    group_id: RowId, body: SilenceActionBody, session: SessionDep, token: RespondToken
) -> dict[str, Any]:
    """Silence one group for ``duration`` (e.g. 2h)."""
    now = utcnow()
    until = silences.ends_after(now, _duration("duration", body.duration), field="duration")
    group = service.silence(session, group_id=group_id, until=until, actor=_actor(token), now=now)
    return service.group_summaries(session, [group])[0]


# --- routing rules -----------------------------------------------------------------------


@router.get("/alert-routes")
def list_alert_routes(session: SessionDep, _token: ReadToken) -> list[dict[str, Any]]:
    """Routing rules in order (first match wins)."""
    return [routing.document(rule) for rule in routing.list_rules(session)]


RoutesBody = Annotated[RoutesApply, Depends(json_body(RoutesApply, Permission.WRITE))]


@router.put("/alert-routes", openapi_extra=json_body_openapi(RoutesApply))
def apply_alert_routes(
    body: RoutesBody, session: SessionDep, _token: WriteToken
) -> list[dict[str, Any]]:
    """Replace the routing rules (the same fields as the YAML file's ``routes:``)."""
    return [
        routing.document(rule) for rule in incident_flows.apply_routes(session, rules=body.routes)
    ]


# --- silences, changes ---------------------------------------------------------------------


@router.get("/silences")
def list_silences(
    session: SessionDep, _token: ReadToken, expired: bool = False
) -> list[dict[str, Any]]:
    """Silences and maintenance windows (expired ones with ``expired=true``)."""
    now = utcnow()
    rows = silences.list_silences(session, now=now, include_expired=expired)
    return [silences.document(row, now=now) for row in rows]


SilenceBody = Annotated[SilenceCreate, Depends(json_body(SilenceCreate, Permission.RESPOND))]


@router.post("/silences", status_code=201, openapi_extra=json_body_openapi(SilenceCreate))
def create_silence(body: SilenceBody, session: SessionDep, token: RespondToken) -> dict[str, Any]:
    """Create a silence or maintenance window from matchers and a time range or duration."""
    now = utcnow()
    starts_at = body.starts_at or now
    if body.ends_at is not None:
        ends_at = body.ends_at
    elif body.duration is not None:
        ends_at = silences.ends_after(
            starts_at, _duration("duration", body.duration), field="duration"
        )
    else:
        raise InvalidSilence("ends_at: give ends_at or duration")
    row = silences.create(
        session,
        matchers=body.matchers,
        starts_at=starts_at,
        ends_at=ends_at,
        comment=body.comment,
        created_by=_actor(token),
        now=now,
        kind=body.kind,
    )
    return silences.document(row, now=now)


@router.delete("/silences/{silence_id}")
def expire_silence(silence_id: RowId, session: SessionDep, _token: RespondToken) -> dict[str, Any]:
    """End a silence now."""
    now = utcnow()
    return silences.document(silences.expire(session, silence_id=silence_id, now=now), now=now)


@router.get("/changes")
def list_changes(
    session: SessionDep,
    _token: ReadToken,
    service_name: Annotated[str | None, Query(alias="service")] = None,
    since: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[dict[str, Any]]:
    """The change timeline, newest first."""
    return service.change_documents(session, service=service_name, since=since, limit=limit)


# --- signed action links -------------------------------------------------------------------

_PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>Watchkeeper</title>
<meta name="viewport" content="width=device-width"></head>
<body style="font-family: sans-serif; max-width: 36em; margin: 3em auto">{body}</body></html>"""
_NAMES = {"ack": "Acknowledge", "unack": "Unacknowledge", "resolve": "Resolve"}


def _page(body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(_PAGE.format(body=body), status_code=status)


def _verified(session: Session, settings: Settings, token: str) -> links.ActionLink:
    now = utcnow()
    secret = links.link_secret(session, configured=settings.secret_key, now=now)
    return links.verify(token, secret=secret, now=now)


@links_router.get("/a/{token}", response_class=HTMLResponse)
def action_page(token: str, session: SessionDep, settings: SettingsDep) -> HTMLResponse:
    """A confirmation page: following a link does nothing until the button is pressed."""
    try:
        link = _verified(session, settings, token)
        group = service.get_group(session, group_id=link.group_id)
    except (InvalidActionLink, AlertGroupNotFound) as exc:
        return _page(f"<p>{html.escape(exc.detail)}</p>", exc.status_code)
    name = _NAMES[link.action]
    return _page(
        f"<h1>{name} alert group {group.id}?</h1>"
        f"<p>{html.escape(group.title)} ({html.escape(group.status)})</p>"
        f'<form method="post"><button type="submit">{name} as '
        f"{html.escape(link.recipient)}</button></form>"
    )


@links_router.post("/a/{token}", response_class=HTMLResponse)
def action_perform(token: str, session: SessionDep, settings: SettingsDep) -> HTMLResponse:
    """Perform the link's action as its recipient and show the result."""
    try:
        link = _verified(session, settings, token)
        # Recorded in the audit log as the person the signed link was sent to.
        audit.bind_actor(session, Actor(ActorKind.USER.value, link.recipient))
        group = service.perform_action(
            session,
            group_id=link.group_id,
            action=link.action,
            actor=link.recipient,
            now=utcnow(),
        )
    except WatchkeeperError as exc:
        return _page(f"<p>{html.escape(exc.detail)}</p>", exc.status_code)
    return _page(
        f"<h1>Alert group {group.id} is {html.escape(group.status)}</h1>"
        f"<p>{html.escape(group.title)}</p>"
    )
