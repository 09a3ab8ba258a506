"""JSON API of the SLI event store: ``POST /api/v1/events``."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Depends, Request
from sqlalchemy import event
from starlette.concurrency import run_in_threadpool

from watchkeeper.db import utcnow
from watchkeeper.dependencies import IngestToken, SessionDep, SettingsDep
from watchkeeper.errors import InvalidInput, WatchkeeperError
from watchkeeper.events import service
from watchkeeper.events.exceptions import BatchTooLarge
from watchkeeper.events.schemas import EventBatch, EventIn, IngestResultRead
from watchkeeper.limits import read_body

if TYPE_CHECKING:
    from watchkeeper.telemetry.metrics import AppMetrics

router = APIRouter(prefix="/api/v1", tags=["events"])


def _decode_json(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise InvalidInput(f"request body is not valid JSON: {exc}") from None
    except RecursionError:
        raise InvalidInput("request body is nested too deeply") from None


async def _json_body(request: Request, _token: IngestToken) -> Any:
    """The JSON body, read only after the token is checked and only within the size limit."""
    # Decoded in a worker thread: a large batch must not hold up the event loop.
    return await run_in_threadpool(_decode_json, await read_body(request))


JSONBody = Annotated[Any, Depends(_json_body)]


def _event_list(body: Any) -> list[Any]:
    if isinstance(body, list):
        return body
    if isinstance(body, dict) and isinstance(body.get("events"), list):
        events: list[Any] = body["events"]
        return events
    raise InvalidInput('send {"events": [...]} or a JSON array of events')


def _request_body_schema() -> dict[str, Any]:
    event = EventIn.model_json_schema()
    batch = EventBatch.model_json_schema(ref_template="#/components/schemas/{model}")
    batch.pop("$defs", None)
    batch["properties"]["events"]["items"] = event
    schema = {"oneOf": [batch, {"type": "array", "items": event}]}
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}


@router.post(
    "/events",
    response_model=IngestResultRead,
    summary="Send a batch of SLI events",
    openapi_extra=_request_body_schema(),
    responses={
        413: {"description": "More events than max_event_batch (BatchTooLarge)."},
        422: {"description": "Invalid events (with per-event errors) or unknown SLIs."},
    },
)
def post_events(
    request: Request,
    _token: IngestToken,
    session: SessionDep,
    settings: SettingsDep,
    body: JSONBody,
) -> IngestResultRead:
    """Store a batch of events (all or nothing) in the SLIs' 60-second buckets."""
    metrics: AppMetrics | None = getattr(request.app.state, "metrics", None)
    try:
        events = _event_list(body)
        if len(events) > settings.max_event_batch:
            raise BatchTooLarge(
                f"{len(events)} events in one request; send at most {settings.max_event_batch}"
            )
        result = service.ingest(session, events, now=utcnow())
    except WatchkeeperError:
        if metrics is not None:
            metrics.ingest_rejected.inc()
        raise
    if metrics is not None:
        # Counted once stored: the commit runs after this function returns, and may fail.
        counter, accepted = metrics.events_ingested, result.accepted
        event.listen(session, "after_commit", lambda _session: counter.inc(accepted), once=True)
    return IngestResultRead(accepted=result.accepted, buckets=result.buckets)
