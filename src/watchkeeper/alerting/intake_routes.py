"""The alert intake endpoints: Alertmanager webhook, PagerDuty Events API v2 (alert and change
events) and the generic webhook, authenticated by integration key before the body is read."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ValidationError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from watchkeeper.alerting import intake, service
from watchkeeper.alerting.exceptions import (
    IntakeRaced,
    IntegrationNotFound,
)
from watchkeeper.alerting.models import Integration
from watchkeeper.alerting.schemas import (
    AlertmanagerMessage,
    ChangeEventIn,
    PagerDutyEvent,
    WebhookAlert,
)
from watchkeeper.commit_queue import CommitQueue
from watchkeeper.db import driver_message, session_scope, utcnow
from watchkeeper.dependencies import (
    SessionDep,
    json_body_openapi,
    validated_json,
)
from watchkeeper.limits import read_body

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")

intake_router = APIRouter(tags=["alert intake"])


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
