"""Incident pages: incidents by status and severity (``/incidents``) and one incident
(``/incidents/{id}``) with its timeline, roles, linked alert groups and SLOs and the error
budget they burned, where responders add notes, assign roles and change severity or status.

Every change is a form POST answered by a 303 back to the incident (at the part changed).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from watchkeeper.alerting import service as alerting_service
from watchkeeper.auth import people
from watchkeeper.auth.roles import Permission
from watchkeeper.auth.sessions import SignedIn
from watchkeeper.core.incident import IncidentRole, IncidentStatus
from watchkeeper.db import utcnow
from watchkeeper.errors import InvalidInput
from watchkeeper.incident import detail
from watchkeeper.incident import service as incident_service
from watchkeeper.incident.exceptions import IncidentNotFound
from watchkeeper.web.access import Viewer, checked_form, ensure, page_session
from watchkeeper.web.alert_pages import PER_PAGE, group_views, page_number, pages_of, row_id
from watchkeeper.web.templating import render

router = APIRouter(include_in_schema=False, tags=["web"])

STATUS_FILTERS = ("open", *(s.value for s in IncidentStatus), "all")
_STATUS_PILL = {
    IncidentStatus.INVESTIGATING.value: "bad",
    IncidentStatus.IDENTIFIED.value: "warn",
    IncidentStatus.MONITORING.value: "info",
    IncidentStatus.RESOLVED.value: "ok",
}
# Linked alert groups listed on an incident's page (an incident may collect many).
GROUPS_SHOWN = 100


def _incident_id(text: str) -> int:
    return row_id(text, IncidentNotFound, "incident")


def _pill(status: str) -> str:
    return _STATUS_PILL.get(status, "info")


# --- list ----------------------------------------------------------------------------------


@router.get("/incidents", response_class=HTMLResponse)
def incidents_page(
    request: Request,
    signed_in: Viewer,
    status: str = "open",
    severity: str = "",
    page: str | None = None,
) -> HTMLResponse:
    """Incidents of a status (default: open) and severity, newest first, 50 a page."""
    if status not in STATUS_FILTERS:
        raise InvalidInput(
            f"status: {status[:40]!r} is not a status filter; choose one of "
            f"{', '.join(STATUS_FILTERS)}"
        )
    number = page_number(page)
    with page_session(request) as session:
        incidents, total = incident_service.incident_page(
            session,
            status=None if status == "all" else status,
            severity=severity or None,
            page=number,
            per_page=PER_PAGE,
        )
        severities = incident_service.severity_names(session)
    return render(
        request,
        "incidents.html",
        viewer=signed_in,
        incidents=incidents,
        pill=_pill,
        total=total,
        status=status,
        severity=severity,
        status_filters=STATUS_FILTERS,
        severities=severities,
        page=number,
        pages=pages_of(total),
    )


# --- detail --------------------------------------------------------------------------------


def _detail(session: Session, incident_id: int) -> dict[str, Any]:
    shown = detail.show(session, incident_id=incident_id, now=utcnow())
    wanted = shown.alert_group_ids[:GROUPS_SHOWN]
    groups = alerting_service.groups_with_ids(session, group_ids=wanted)
    return {
        "incident": shown,
        "groups": group_views(session, groups),
        "groups_hidden": max(0, len(shown.alert_group_ids) - GROUPS_SHOWN),
        "severities": incident_service.severity_names(session),
        "people": people.all_user_names(session),
    }


@router.get("/incidents/{incident_id}", response_class=HTMLResponse)
def incident_page(request: Request, signed_in: Viewer, incident_id: str) -> HTMLResponse:
    """One incident: state, roles, linked alert groups and SLOs, budget burned, timeline."""
    wanted = _incident_id(incident_id)
    with page_session(request) as session:
        found = _detail(session, wanted)
    incident = found["incident"]
    return render(
        request,
        "incident.html",
        viewer=signed_in,
        pill=_pill,
        statuses=[s.value for s in IncidentStatus],
        roles=[r.value for r in IncidentRole],
        timeline=list(reversed(incident.timeline)),
        **found,
    )


# --- actions -------------------------------------------------------------------------------

# One change: (session, incident id, form fields, acting person) -> anything.
Change = Callable[[Session, int, dict[str, str], str], object]


def _apply(
    request: Request, change: Change, incident_id: int, fields: dict[str, str], actor: str
) -> None:
    with page_session(request) as session:
        change(session, incident_id, fields, actor)


async def _post(
    request: Request,
    signed_in: SignedIn,
    incident_id: str,
    *,
    action: str,
    anchor: str,
    change: Change,
) -> Response:
    """Check the role and the CSRF token, make the change as the signed-in person, and send
    the browser back to the part of the incident it changed."""
    wanted = _incident_id(incident_id)
    ensure(signed_in, Permission.RESPOND, action=action)
    fields = await checked_form(request, signed_in)
    await run_in_threadpool(_apply, request, change, wanted, fields, signed_in.user.name)
    return RedirectResponse(f"/incidents/{wanted}#{anchor}", status_code=303)


def _note_of(fields: dict[str, str]) -> str | None:
    return fields.get("note", "").strip() or None


def _add_note(session: Session, incident_id: int, fields: dict[str, str], actor: str) -> object:
    return incident_service.add_note(
        session, incident_id=incident_id, text=fields.get("text", ""), actor=actor, now=utcnow()
    )


def _assign_role(session: Session, incident_id: int, fields: dict[str, str], actor: str) -> object:
    return incident_service.assign_role(
        session,
        incident_id=incident_id,
        role=fields.get("role", ""),
        user=fields.get("user", ""),
        actor=actor,
        now=utcnow(),
    )


def _set_severity(session: Session, incident_id: int, fields: dict[str, str], actor: str) -> object:
    return incident_service.set_severity(
        session,
        incident_id=incident_id,
        severity=fields.get("severity", ""),
        actor=actor,
        now=utcnow(),
    )


def _set_status(session: Session, incident_id: int, fields: dict[str, str], actor: str) -> object:
    return incident_service.set_status(
        session,
        incident_id=incident_id,
        status=fields.get("status", ""),
        actor=actor,
        now=utcnow(),
        note=_note_of(fields),
    )


def _acknowledge(session: Session, incident_id: int, _fields: dict[str, str], actor: str) -> object:
    return incident_service.acknowledge(session, incident_id=incident_id, actor=actor, now=utcnow())


def _reopen(session: Session, incident_id: int, fields: dict[str, str], actor: str) -> object:
    return incident_service.reopen(
        session, incident_id=incident_id, actor=actor, now=utcnow(), note=_note_of(fields)
    )


@router.post("/incidents/{incident_id}/notes")
async def add_note(request: Request, signed_in: Viewer, incident_id: str) -> Response:
    """Add a note to the incident's timeline."""
    return await _post(
        request, signed_in, incident_id, action="add notes", anchor="timeline", change=_add_note
    )


@router.post("/incidents/{incident_id}/roles")
async def assign_role(request: Request, signed_in: Viewer, incident_id: str) -> Response:
    """Give a person a role in the incident."""
    return await _post(
        request,
        signed_in,
        incident_id,
        action="assign incident roles",
        anchor="roles",
        change=_assign_role,
    )


@router.post("/incidents/{incident_id}/severity")
async def set_severity(request: Request, signed_in: Viewer, incident_id: str) -> Response:
    """Change the incident's severity."""
    return await _post(
        request,
        signed_in,
        incident_id,
        action="change incident severity",
        anchor="state",
        change=_set_severity,
    )


@router.post("/incidents/{incident_id}/status")
async def set_status(request: Request, signed_in: Viewer, incident_id: str) -> Response:
    """Move the incident to another status (resolved resolves it), with an optional note."""
    return await _post(
        request,
        signed_in,
        incident_id,
        action="change incident status",
        anchor="state",
        change=_set_status,
    )


@router.post("/incidents/{incident_id}/ack")
async def acknowledge(request: Request, signed_in: Viewer, incident_id: str) -> Response:
    """Acknowledge the incident."""
    return await _post(
        request,
        signed_in,
        incident_id,
        action="acknowledge incidents",
        anchor="state",
        change=_acknowledge,
    )


@router.post("/incidents/{incident_id}/reopen")
async def reopen(request: Request, signed_in: Viewer, incident_id: str) -> Response:
    """Reopen a resolved incident."""
    return await _post(
        request, signed_in, incident_id, action="reopen incidents", anchor="state", change=_reopen
    )
