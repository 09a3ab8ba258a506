"""JSON API of alerting (integrations, alert groups, silences, changes), the intake endpoints
(authenticated by integration key) and the signed action-link pages."""

from __future__ import annotations

import html
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel, ValidationError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from watchkeeper.alerting import intake, links, routing, service, silences
from watchkeeper.alerting.exceptions import (
    AlertGroupNotFound,
    IntakeRaced,
    IntegrationNotFound,
    InvalidActionLink,
    InvalidSilence,
)
from watchkeeper.alerting.models import Integration
from watchkeeper.alerting.schemas import (
    AlertmanagerMessage,
    ChangeEventIn,
    IntegrationCreate,
    IntegrationRead,
    PagerDutyEvent,
    RoutesApply,
    SilenceAction,
    SilenceCreate,
    WebhookAlert,
)
from watchkeeper.auth.models import APIToken
from watchkeeper.auth.roles import Permission
from watchkeeper.commit_queue import CommitQueue
from watchkeeper.config import Settings
from watchkeeper.core.duration import parse_duration
from watchkeeper.db import driver_message, session_scope, utcnow
from watchkeeper.dependencies import (
    AdminToken,
    ReadToken,
    RowId,
    SessionDep,
    SettingsDep,
    WriteToken,
    json_body,
    json_body_openapi,
    validated_json,
)
from watchkeeper.errors import WatchkeeperError
from watchkeeper.flows import incidents as incident_flows
from watchkeeper.limits import read_body

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")

router = APIRouter(prefix="/api/v1", tags=["alerting"])
intake_router = APIRouter(tags=["alert intake"])
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
def ack_alert_group(group_id: RowId, session: SessionDep, token: WriteToken) -> dict[str, Any]:
    """Acknowledge: escalation stops."""
    group = service.acknowledge(session, group_id=group_id, actor=_actor(token), now=utcnow())
    return service.group_summaries(session, [group])[0]


@router.post("/alert-groups/{group_id}/unack")
def unack_alert_group(group_id: RowId, session: SessionDep, token: WriteToken) -> dict[str, Any]:
    """Take back an acknowledgement: the group fires and escalates again."""
    group = service.unacknowledge(session, group_id=group_id, actor=_actor(token), now=utcnow())
    return service.group_summaries(session, [group])[0]


@router.post("/alert-groups/{group_id}/resolve")
def resolve_alert_group(group_id: RowId, session: SessionDep, token: WriteToken) -> dict[str, Any]:
    """Resolve by hand."""
    group = service.resolve(session, group_id=group_id, actor=_actor(token), now=utcnow())
    return service.group_summaries(session, [group])[0]


SilenceActionBody = Annotated[SilenceAction, Depends(json_body(SilenceAction, Permission.WRITE))]


def _duration(field: str, text: str) -> Any:
    try:
        return parse_duration(text)
    except ValueError as exc:
        raise InvalidSilence(f"{field}: {exc}") from None


@router.post("/alert-groups/{group_id}/silence", openapi_extra=json_body_openapi(SilenceAction))
def silence_alert_group(
    group_id: RowId, body: SilenceActionBody, session: SessionDep, token: WriteToken
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


SilenceBody = Annotated[SilenceCreate, Depends(json_body(SilenceCreate, Permission.WRITE))]


@router.post("/silences", status_code=201, openapi_extra=json_body_openapi(SilenceCreate))
def create_silence(body: SilenceBody, session: SessionDep, token: WriteToken) -> dict[str, Any]:
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
def expire_silence(silence_id: RowId, session: SessionDep, _token: WriteToken) -> dict[str, Any]:
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


# --- intake --------------------------------------------------------------------------------


async def integration_from_key(request: Request, key: str) -> Integration:
    """Resolve the path's integration key before the body is read: from the key cache (on the
    event loop: no I/O), else in its own unit of work in the thread pool (no transaction stays
    open while the body arrives)."""
    now = time.monotonic()
    cached = service.cached_intake_integration(key=key, at=now)
    if cached is not None:
        return cached
    factory: sessionmaker[Session] = request.app.state.session_factory

    def look_up() -> Integration:
        with session_scope(factory) as session:
            return service.intake_integration(session, key=key, at=now)

    return await run_in_threadpool(look_up)


def _stored(request: Request, work: Callable[[Session], T]) -> T:
    """Run one intake request's work and return once it is committed (on SQLite in a batch
    with the requests waiting meanwhile, see commit_queue): a 2xx means stored, a failed
    commit is a 5xx."""
    queue: CommitQueue = request.app.state.commit_queue
    try:
        return queue.run(work)
    except IntegrityError as exc:
        # Two first notifications of one key both opened a group (PostgreSQL runs them
        # concurrently): the loser stored nothing; a retry finds the winner's group.
        raise IntakeRaced(
            f"a concurrent request stored this alert first; retry: {driver_message(exc)[:200]}"
        ) from None


async def _parsed(request: Request, model: type[M]) -> M:
    raw = await read_body(request)
    try:
        return await run_in_threadpool(validated_json, model, raw)
    except ValidationError as exc:
        raise RequestValidationError(exc.errors(include_url=False)) from None


def _of_type(integration: Integration, kind: str) -> Integration:
    """``integration`` if it is of ``kind``; the 404 of an unknown key otherwise, so one type's
    key does not work on another type's endpoint (nor tell a caller that it exists)."""
    if integration.type != kind:
        raise IntegrationNotFound("no such integration")
    return integration


def intake_body(model: type[M], kind: str) -> Callable[..., Awaitable[tuple[Integration, M]]]:
    """A dependency: the ``kind`` integration of the path's key, then the body as ``model``."""

    async def dependency(
        request: Request,
        integration: Integration = Depends(integration_from_key),  # noqa: B008
    ) -> tuple[Integration, M]:
        return _of_type(integration, kind), await _parsed(request, model)

    return dependency


AlertmanagerBody = Annotated[
    tuple[Integration, AlertmanagerMessage],
    Depends(intake_body(AlertmanagerMessage, "alertmanager")),
]
WebhookBody = Annotated[
    tuple[Integration, WebhookAlert], Depends(intake_body(WebhookAlert, "webhook"))
]


@intake_router.post(
    "/api/v1/integrations/{key}/alertmanager",
    openapi_extra=json_body_openapi(AlertmanagerMessage),
)
def alertmanager_intake(request: Request, body: AlertmanagerBody) -> dict[str, Any]:
    """Alertmanager webhook (v4): answered only once the notification is committed."""
    integration, message = body

    def work(session: Session) -> dict[str, Any]:
        group = intake.ingest_alertmanager(
            session, integration=integration, message=message, now=utcnow()
        )
        return {"status": "success", "alert_group_id": group.id, "group_status": group.status}

    return _stored(request, work)


@intake_router.post(
    "/api/v1/integrations/{key}/webhook",
    status_code=202,
    openapi_extra=json_body_openapi(WebhookAlert),
)
def webhook_intake(request: Request, body: WebhookBody) -> dict[str, Any]:
    """Generic webhook alert."""
    integration, alert = body

    def work(session: Session) -> dict[str, Any]:
        group = intake.ingest_webhook(session, integration=integration, alert=alert, now=utcnow())
        return {
            "status": "success",
            "alert_group_id": group.id if group else None,
            "dedup_key": alert.dedup_key or alert.title[:255],
        }

    return _stored(request, work)


def _pagerduty_error(
    status: int,
    errors: list[str],
    *,
    state: str = "invalid event",
    message: str = "Event object is invalid",
) -> JSONResponse:
    body = {"status": state, "message": message, "errors": errors}
    return JSONResponse(status_code=status, content=body)


def _error_list(exc: ValidationError) -> list[str]:
    found = []
    for error in exc.errors(include_url=False):
        location = ".".join(str(p) for p in error.get("loc", ()))
        message = str(error.get("msg", "invalid")).removeprefix("Value error, ")
        found.append(f"{location}: {message}" if location else message)
    return found


async def _pagerduty_event(request: Request, model: type[M]) -> M | JSONResponse:
    raw = await read_body(request)
    try:
        return await run_in_threadpool(validated_json, model, raw)
    except ValidationError as exc:
        return _pagerduty_error(400, _error_list(exc))


def _enqueue(event: PagerDutyEvent, key: str | None, request: Request) -> JSONResponse:
    routing_key = key or event.routing_key
    if key is not None and event.routing_key not in (None, key):
        return _pagerduty_error(400, ["routing_key: does not match the key in the URL"])
    if routing_key is None:
        return _pagerduty_error(400, ["routing_key: missing"])

    def work(session: Session) -> str | None:
        try:
            integration = _of_type(
                service.intake_integration(session, key=routing_key, at=time.monotonic()),
                "pagerduty",
            )
        except IntegrationNotFound:
            return None
        return intake.ingest_pagerduty(session, integration=integration, event=event, now=utcnow())

    try:
        dedup_key = _stored(request, work)
    except IntakeRaced as exc:
        # PagerDuty's senders retry a 5xx; the body keeps PagerDuty's error shape.
        return _pagerduty_error(503, [str(exc)], state="retry", message="Retry the event")
    if dedup_key is None:
        return _pagerduty_error(404, ["routing_key: no such integration"])
    return JSONResponse(
        status_code=202,
        content={"status": "success", "message": "Event processed", "dedup_key": dedup_key},
    )


async def _read_event(request: Request) -> PagerDutyEvent | JSONResponse:
    return await _pagerduty_event(request, PagerDutyEvent)


PagerDutyBody = Annotated[PagerDutyEvent | JSONResponse, Depends(_read_event)]


@intake_router.post("/v2/enqueue", status_code=202, openapi_extra=json_body_openapi(PagerDutyEvent))
def pagerduty_enqueue(request: Request, body: PagerDutyBody) -> JSONResponse:
    """PagerDuty Events API v2 (``routing_key`` = an integration key)."""
    if isinstance(body, JSONResponse):
        return body
    return _enqueue(body, None, request)


async def _keyed_event(
    request: Request,
    integration: Integration = Depends(integration_from_key),  # noqa: B008
) -> PagerDutyEvent | JSONResponse:
    _of_type(integration, "pagerduty")
    return await _pagerduty_event(request, PagerDutyEvent)


KeyedPagerDutyBody = Annotated[PagerDutyEvent | JSONResponse, Depends(_keyed_event)]


@intake_router.post(
    "/api/v1/integrations/{key}/enqueue",
    status_code=202,
    openapi_extra=json_body_openapi(PagerDutyEvent),
)
@intake_router.post(
    "/integration/{key}/enqueue", status_code=202, openapi_extra=json_body_openapi(PagerDutyEvent)
)
def pagerduty_enqueue_keyed(key: str, request: Request, body: KeyedPagerDutyBody) -> JSONResponse:
    """PagerDuty Events API v2 with the key in the path, checked before the body is read."""
    if isinstance(body, JSONResponse):
        return body
    return _enqueue(body, key, request)


async def _read_change(request: Request) -> ChangeEventIn | JSONResponse:
    return await _pagerduty_event(request, ChangeEventIn)


ChangeBody = Annotated[ChangeEventIn | JSONResponse, Depends(_read_change)]


@intake_router.post(
    "/v2/change/enqueue", status_code=202, openapi_extra=json_body_openapi(ChangeEventIn)
)
def pagerduty_change(body: ChangeBody, session: SessionDep) -> JSONResponse:
    """PagerDuty change event: stored on the change timeline."""
    if isinstance(body, JSONResponse):
        return body
    try:
        integration = _of_type(
            service.integration_for_key(session, key=body.routing_key), "pagerduty"
        )
    except IntegrationNotFound:
        return _pagerduty_error(404, ["routing_key: no such integration"])
    intake.ingest_change(session, integration=integration, event=body, now=utcnow())
    return JSONResponse(
        status_code=202, content={"status": "success", "message": "Change event processed"}
    )


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
