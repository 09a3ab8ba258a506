"""Settings pages: the audit log (admins) and teams (read by all, changed by admins).

The audit log page filters by actor, object type and a since/until range given in the
viewer's time zone, pages back 50 events at a time by id, and exports every matching event
as the same JSON document ``watchkeeper audit export`` writes.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from watchkeeper.auth import audit, teams
from watchkeeper.auth.exceptions import TeamNotFound
from watchkeeper.auth.sessions import SignedIn
from watchkeeper.db import utcnow
from watchkeeper.errors import InvalidInput
from watchkeeper.flows import teams as team_flows
from watchkeeper.messages import shown
from watchkeeper.web.access import (
    Viewer,
    required_fields,
)
from watchkeeper.web.oncall_pages import local_instant, viewer_zone
from watchkeeper.web.pager import PER_PAGE, Pager, page_number
from watchkeeper.web.settings_pages import Admin, admin_form, in_session, settings_page

router = APIRouter(include_in_schema=False, tags=["web"])

# What a team can own: form value -> label (the form value is set_owner's keyword).
OWNABLE = {
    "service": "service",
    "schedule": "schedule",
    "escalation_policy": "escalation policy",
}
FILTERS = ("actor", "type", "since", "until")
MAX_ID = 2**63 - 1


# -- audit log -----------------------------------------------------------------------------


class AuditFilters:
    """The audit page's query: raw values to refill the form, parsed values to query with."""

    def __init__(
        self,
        zone: ZoneInfo,
        *,
        actor: str | None,
        type: str | None,
        since: str | None,
        until: str | None,
    ) -> None:
        self.raw = {
            "actor": (actor or "").strip(),
            "type": (type or "").strip(),
            "since": (since or "").strip(),
            "until": (until or "").strip(),
        }
        self.actor = self.raw["actor"] or None
        self.object_type = self.raw["type"] or None
        self.since = local_instant(self.raw["since"], "since", zone) if self.raw["since"] else None
        self.until = local_instant(self.raw["until"], "until", zone) if self.raw["until"] else None

    def query(self, **extra: str) -> str:
        """The filters given (and ``extra``) as a query string."""
        return urlencode({**{k: v for k, v in self.raw.items() if v}, **extra})

    def arguments(self) -> dict[str, Any]:
        """Keyword arguments of the audit service's readers."""
        return {
            "actor": self.actor,
            "object_type": self.object_type,
            "since": self.since,
            "until": self.until,
        }


def _before_id(raw: str | None) -> int | None:
    if raw is None or raw == "":
        return None
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 19) or not 1 <= int(raw) <= MAX_ID:
        raise InvalidInput(f"before_id: {shown(raw)} is not an event id")
    return int(raw)


def _compact(value: Any) -> str:
    return "" if value is None else json.dumps(value, sort_keys=True, separators=(",", ":"))


def _row(event_row: Any) -> dict[str, Any]:
    return {
        **audit.document(event_row),
        "when": event_row.at,
        "before_json": _compact(event_row.before),
        "after_json": _compact(event_row.after),
    }


@router.get("/settings/audit", response_class=HTMLResponse)
def audit_page(
    request: Request,
    signed_in: SignedIn = Admin,
    actor: str | None = None,
    type: str | None = None,
    since: str | None = None,
    until: str | None = None,
    before_id: str | None = None,
) -> HTMLResponse:
    """Recorded changes, newest first, 50 to a page (admin)."""
    zone = viewer_zone(signed_in.user.time_zone)
    filters = AuditFilters(zone, actor=actor, type=type, since=since, until=until)
    before = _before_id(before_id)

    def rows(session: Session) -> list[dict[str, Any]]:
        found = audit.list_events(
            session, limit=PER_PAGE + 1, before_id=before, **filters.arguments()
        )
        return [_row(event_row) for event_row in found]

    found = in_session(request, rows)
    shown_rows = found[:PER_PAGE]
    older = filters.query(before_id=str(shown_rows[-1]["id"])) if len(found) > PER_PAGE else None
    return settings_page(
        request,
        signed_in,
        "settings_audit.html",
        rows=shown_rows,
        filters=filters.raw,
        filtered=any(filters.raw.values()),
        paged=before is not None,
        newest=filters.query(),
        older=older,
        export=filters.query(),
        object_types=audit.OBJECT_TYPES,
    )


@router.get("/settings/audit/export.json", response_class=Response)
def audit_export(
    request: Request,
    signed_in: SignedIn = Admin,
    actor: str | None = None,
    type: str | None = None,
    since: str | None = None,
    until: str | None = None,
) -> Response:
    """Every matching event, oldest first: the document ``watchkeeper audit export`` writes."""
    zone = viewer_zone(signed_in.user.time_zone)
    filters = AuditFilters(zone, actor=actor, type=type, since=since, until=until)
    text = in_session(
        request,
        lambda session: audit.export_text(
            [audit.document(row) for row in audit.iter_events(session, **filters.arguments())]
        ),
    )
    return Response(
        text,
        media_type="application/json",
        headers={
            "Content-Disposition": 'attachment; filename="audit.json"',
            "Cache-Control": "no-store",
        },
    )


# -- teams ---------------------------------------------------------------------------------


@router.get("/settings/teams", response_class=HTMLResponse)
def teams_page(request: Request, signed_in: Viewer, page: str | None = None) -> HTMLResponse:
    """Teams with their members and what they own; admins change them."""
    number = page_number(page)
    found = in_session(request, lambda session: team_flows.list_teams(session))
    pager = Pager(number, len(found))
    return settings_page(
        request,
        signed_in,
        "settings_teams.html",
        teams=found[pager.offset : pager.offset + pager.size],
        pager=pager,
        ownable=OWNABLE,
    )


def _back() -> Response:
    return RedirectResponse("/settings/teams#teams", status_code=303)


async def _change(request: Request, work: Callable[[Session], Any]) -> None:
    await run_in_threadpool(in_session, request, work)


@router.post("/settings/teams")
async def create_team(request: Request, signed_in: Viewer) -> Response:
    """Create an empty team (admin)."""
    fields = await admin_form(request, signed_in, "create teams")
    (name,) = required_fields(fields, "name")
    await _change(request, lambda session: teams.create_team(session, name=name, now=utcnow()))
    return _back()


@router.post("/settings/teams/delete")
async def delete_team(request: Request, signed_in: Viewer) -> Response:
    """Delete a team (admin): what it owned is owned by no team afterwards."""
    fields = await admin_form(request, signed_in, "delete teams")
    (name,) = required_fields(fields, "team")
    await _change(request, lambda session: team_flows.delete_team(session, name=name))
    return _back()


@router.post("/settings/teams/members")
async def add_member(request: Request, signed_in: Viewer) -> Response:
    """Add a user to a team (admin)."""
    fields = await admin_form(request, signed_in, "change teams")
    team, user = required_fields(fields, "team", "user")
    await _change(
        request, lambda session: teams.add_member(session, team=team, user=user, now=utcnow())
    )
    return _back()


@router.post("/settings/teams/members/remove")
async def remove_member(request: Request, signed_in: Viewer) -> Response:
    """Take a user out of a team (admin)."""
    fields = await admin_form(request, signed_in, "change teams")
    team, user = required_fields(fields, "team", "user")
    await _change(request, lambda session: teams.remove_member(session, team=team, user=user))
    return _back()


class Target:
    """What an own or release form names: a team, and one thing it owns or is to own."""

    def __init__(self, fields: dict[str, str]) -> None:
        self.team, self.kind, self.thing = required_fields(fields, "team", "kind", "name")
        if self.kind not in OWNABLE:
            raise InvalidInput(f"kind: {shown(self.kind)} is not one of: {', '.join(OWNABLE)}")

    def named(self, kind: str) -> str | None:
        """The thing's name if it is of ``kind``."""
        return self.thing if self.kind == kind else None

    def owner(self, session: Session) -> str | None:
        """The team owning the thing now, if one does."""
        return team_flows.owner_of(
            session,
            service=self.named("service"),
            schedule=self.named("schedule"),
            escalation_policy=self.named("escalation_policy"),
        )

    def give_to(self, session: Session, team: str | None) -> None:
        """Make ``team`` own the thing (None: release it)."""
        team_flows.set_owner(
            session,
            team=team,
            now=utcnow(),
            service=self.named("service"),
            schedule=self.named("schedule"),
            escalation_policy=self.named("escalation_policy"),
        )


@router.post("/settings/teams/own")
async def own(request: Request, signed_in: Viewer) -> Response:
    """Make a team own a service, schedule or escalation policy (admin)."""
    fields = await admin_form(request, signed_in, "change teams")
    target = Target(fields)

    def work(session: Session) -> None:
        teams.get_team(session, name=target.team)
        target.give_to(session, target.team)

    await _change(request, work)
    return _back()


@router.post("/settings/teams/release")
async def release(request: Request, signed_in: Viewer) -> Response:
    """Give up a service, schedule or escalation policy a team owns (admin)."""
    fields = await admin_form(request, signed_in, "change teams")
    target = Target(fields)

    def work(session: Session) -> None:
        teams.get_team(session, name=target.team)
        if target.owner(session) != target.team:
            raise TeamNotFound(
                f"team {target.team!r} does not own {OWNABLE[target.kind]} {target.thing!r}"
            )
        target.give_to(session, None)

    await _change(request, work)
    return _back()
