"""Alert pages: alert groups by state (``/alerts``) and one group (``/alerts/{id}``) with its
alerts, labels and log, where responders acknowledge, resolve, silence or declare an incident.

Actions are form POSTs: a plain browser gets a 303 back to the group; htmx gets the group's
state block to swap in, with the reason inline when the action does not apply (htmx does not
swap 4xx answers, and a responder on a phone must see why nothing happened).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from watchkeeper.alerting import service as alerting_service
from watchkeeper.alerting import silences
from watchkeeper.alerting.exceptions import AlertGroupNotFound, InvalidSilence
from watchkeeper.alerting.grouping import ACKNOWLEDGED, FIRING, RESOLVED, SILENCED
from watchkeeper.alerting.models import AlertGroup
from watchkeeper.auth.roles import Permission
from watchkeeper.auth.sessions import SignedIn
from watchkeeper.core.duration import parse_duration
from watchkeeper.db import MAX_ROW_ID, utcnow
from watchkeeper.errors import Conflict, InvalidInput, NotFound
from watchkeeper.incident import declaration, links
from watchkeeper.incident import service as incident_service
from watchkeeper.web.access import Viewer, checked_form, ensure, page_session
from watchkeeper.web.templating import render

router = APIRouter(include_in_schema=False, tags=["web"])

PER_PAGE = 50
# State filters of the list: (value, label, statuses shown; None: every status).
STATE_FILTERS: tuple[tuple[str, str, tuple[str, ...] | None], ...] = (
    ("open", "Not resolved", (FIRING, ACKNOWLEDGED, SILENCED)),
    ("firing", "Firing", (FIRING,)),
    ("acknowledged", "Acknowledged", (ACKNOWLEDGED,)),
    ("silenced", "Silenced", (SILENCED,)),
    ("resolved", "Resolved", (RESOLVED,)),
    ("all", "All", None),
)
SILENCE_DURATIONS = ("30m", "1h", "2h", "4h", "8h", "1d")
# Alerts listed on a group's page; a big Alertmanager group can hold thousands.
ALERTS_SHOWN = 200
_STATUS_PILL = {FIRING: "bad", ACKNOWLEDGED: "warn", SILENCED: "info", RESOLVED: "ok"}


def page_number(text: str | None) -> int:
    """The ``?page=`` number (1 when absent), or InvalidInput naming the field."""
    if text is None or text == "":
        return 1
    if not text.isdigit() or not 1 <= int(text) <= 1_000_000:
        raise InvalidInput(f"page: {text[:40]!r} is not a page number (1, 2, ...)")
    return int(text)


def row_id(text: str, missing: type[NotFound], noun: str) -> int:
    """A path id as a number; anything else is the 404 of ``missing`` (no such thing)."""
    if not text.isdigit() or int(text) > MAX_ROW_ID:
        raise missing(f"no {noun} {text[:40]!r}")
    return int(text)


def pages_of(total: int, per_page: int = PER_PAGE) -> int:
    """How many pages ``total`` rows fill (at least one, so page 1 always exists)."""
    return max(1, -(-total // per_page))


def instant(text: str | None) -> datetime | None:
    """A service document's ISO time back as a datetime, for ``at(...)``."""
    return datetime.fromisoformat(text) if text else None


def is_htmx(request: Request) -> bool:
    """Whether htmx sent the request (it swaps a fragment instead of following a redirect)."""
    return request.headers.get("hx-request") == "true"


def _view(summary: dict[str, Any]) -> dict[str, Any]:
    """A group's summary document with its times as datetimes and its pill class."""
    view = dict(summary)
    for key in ("created_at", "last_event_at", "acknowledged_at", "resolved_at", "silenced_until"):
        view[key] = instant(summary[key])
    view["pill"] = _STATUS_PILL.get(summary["status"], "info")
    return view


def group_views(session: Session, groups: list[AlertGroup]) -> list[dict[str, Any]]:
    """Groups as the pages show them (alert counts and integration names in one query each)."""
    return [_view(summary) for summary in alerting_service.group_summaries(session, groups)]


# --- list ----------------------------------------------------------------------------------


@router.get("/alerts", response_class=HTMLResponse)
def alerts_page(
    request: Request, signed_in: Viewer, state: str = "open", page: str | None = None
) -> HTMLResponse:
    """Alert groups of one state (default: not resolved), newest first, 50 a page."""
    chosen = {value: statuses for value, _label, statuses in STATE_FILTERS}
    if state not in chosen:
        names = ", ".join(chosen)
        raise InvalidInput(f"state: {state[:40]!r} is not a state filter; choose one of {names}")
    number = page_number(page)
    with page_session(request) as session:
        groups, total = alerting_service.group_page(
            session, statuses=chosen[state], page=number, per_page=PER_PAGE
        )
        rows = group_views(session, groups)
    return render(
        request,
        "alerts.html",
        viewer=signed_in,
        rows=rows,
        total=total,
        state=state,
        state_filters=[(value, label) for value, label, _statuses in STATE_FILTERS],
        page=number,
        pages=pages_of(total),
    )


# --- detail --------------------------------------------------------------------------------


def _group_id(text: str) -> int:
    return row_id(text, AlertGroupNotFound, "alert group")


def _state_view(session: Session, group_id: int) -> dict[str, Any]:
    group = alerting_service.get_group(session, group_id=group_id)
    return group_views(session, [group])[0]


@router.get("/alerts/{group_id}", response_class=HTMLResponse)
def alert_page(request: Request, signed_in: Viewer, group_id: str) -> HTMLResponse:
    """One alert group: state, actions, labels, its alerts and its log."""
    wanted = _group_id(group_id)
    with page_session(request) as session:
        document = alerting_service.group_detail(session, group_id=wanted)
        incidents = links.open_incidents_of_group(session, alert_group_id=wanted)
        severities = incident_service.severity_names(session)
    group = _view(document)
    alerts = [
        {**alert, "starts_at": instant(alert["starts_at"]), "ends_at": instant(alert["ends_at"])}
        for alert in document["alerts"][:ALERTS_SHOWN]
    ]
    log = [{**entry, "at": instant(entry["at"])} for entry in document["log"]]
    return render(
        request,
        "alert.html",
        viewer=signed_in,
        group=group,
        labels=sorted(document["labels"].items()),
        annotations=sorted(document["annotations"].items()),
        alerts=alerts,
        alerts_hidden=max(0, len(document["alerts"]) - ALERTS_SHOWN),
        log=log,
        incidents=[{"id": i.id, "title": i.title, "status": i.status} for i in incidents],
        severities=severities,
        silence_durations=SILENCE_DURATIONS,
        error=None,
    )


@router.get("/alerts/{group_id}/status", response_class=HTMLResponse)
def alert_status(request: Request, signed_in: Viewer, group_id: str) -> HTMLResponse:
    """The group's state line, polled by its page."""
    wanted = _group_id(group_id)
    with page_session(request) as session:
        group = _state_view(session, wanted)
    return render(request, "fragments/alert_status.html", viewer=signed_in, group=group)


# --- actions -------------------------------------------------------------------------------


def _act(
    request: Request, signed_in: SignedIn, group_id: int, action: str, fields: dict[str, str]
) -> dict[str, Any]:
    """Do ``action`` to the group as the signed-in person; the group's new state."""
    actor = signed_in.user.name
    now = utcnow()
    with page_session(request) as session:
        if action == "silence":
            text = fields.get("duration", "").strip()
            try:
                length = parse_duration(text)
            except ValueError as exc:
                raise InvalidSilence(f"duration: {exc}") from None
            alerting_service.silence(
                session,
                group_id=group_id,
                until=silences.ends_after(now, length, field="duration"),
                actor=actor,
                now=now,
                comment=fields.get("comment", ""),
            )
        else:
            alerting_service.perform_action(
                session, group_id=group_id, action=action, actor=actor, now=now
            )
        return _state_view(session, group_id)


def _state_block(
    request: Request, signed_in: SignedIn, group_id: int, error: str | None
) -> HTMLResponse:
    with page_session(request) as session:
        group = _state_view(session, group_id)
    return _render_state(request, signed_in, group, error)


def _render_state(
    request: Request, signed_in: SignedIn, group: dict[str, Any], error: str | None
) -> HTMLResponse:
    return render(
        request,
        "fragments/alert_state.html",
        viewer=signed_in,
        group=group,
        silence_durations=SILENCE_DURATIONS,
        error=error,
    )


async def _action(request: Request, signed_in: SignedIn, group_id: str, action: str) -> Response:
    wanted = _group_id(group_id)
    ensure(signed_in, Permission.RESPOND, action=f"{_VERBS[action]} alert groups")
    fields = await checked_form(request, signed_in)
    if not is_htmx(request):
        await run_in_threadpool(_act, request, signed_in, wanted, action, fields)
        return RedirectResponse(f"/alerts/{wanted}", status_code=303)
    try:
        group = await run_in_threadpool(_act, request, signed_in, wanted, action, fields)
    except (Conflict, InvalidInput) as exc:
        return await run_in_threadpool(_state_block, request, signed_in, wanted, exc.detail)
    return _render_state(request, signed_in, group, None)


_VERBS = {
    "ack": "acknowledge",
    "unack": "unacknowledge",
    "resolve": "resolve",
    "silence": "silence",
}


@router.post("/alerts/{group_id}/ack")
async def acknowledge(request: Request, signed_in: Viewer, group_id: str) -> Response:
    """Acknowledge the group as the signed-in person: escalation stops."""
    return await _action(request, signed_in, group_id, "ack")


@router.post("/alerts/{group_id}/unack")
async def unacknowledge(request: Request, signed_in: Viewer, group_id: str) -> Response:
    """Take back an acknowledgement: the group fires and escalates again."""
    return await _action(request, signed_in, group_id, "unack")


@router.post("/alerts/{group_id}/resolve")
async def resolve(request: Request, signed_in: Viewer, group_id: str) -> Response:
    """Resolve the group by hand."""
    return await _action(request, signed_in, group_id, "resolve")


@router.post("/alerts/{group_id}/silence")
async def silence(request: Request, signed_in: Viewer, group_id: str) -> Response:
    """Silence the group for a duration, with a comment saying why."""
    return await _action(request, signed_in, group_id, "silence")


def _declare(request: Request, signed_in: SignedIn, group_id: int, fields: dict[str, str]) -> int:
    title = fields.get("title", "").strip() or None
    commander = fields.get("commander", "").strip() or None
    with page_session(request) as session:
        incident = declaration.declare_from_alert_group(
            session,
            alert_group_id=group_id,
            severity=fields.get("severity", ""),
            actor=signed_in.user.name,
            now=utcnow(),
            title=title,
            commander=commander,
        )
        return incident.id


@router.post("/alerts/{group_id}/incident")
async def declare_incident(request: Request, signed_in: Viewer, group_id: str) -> Response:
    """Declare an incident from the group (title, service, start and SLO from it)."""
    wanted = _group_id(group_id)
    ensure(signed_in, Permission.RESPOND, action="declare incidents")
    fields = await checked_form(request, signed_in)
    incident_id = await run_in_threadpool(_declare, request, signed_in, wanted, fields)
    target = f"/incidents/{incident_id}"
    if is_htmx(request):
        return Response(status_code=204, headers={"HX-Redirect": target})
    return RedirectResponse(target, status_code=303)
