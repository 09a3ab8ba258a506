"""The on-call page: who covers each schedule day by day, gaps, overrides, escalation, iCal."""

from __future__ import annotations

import calendar
import contextlib
import functools
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from watchkeeper.auth import people
from watchkeeper.auth.roles import Permission
from watchkeeper.core.escalation import EscalationPolicy
from watchkeeper.db import utcnow
from watchkeeper.errors import InvalidInput, WatchkeeperError
from watchkeeper.messages import shown
from watchkeeper.notify.schemas import shown_channel_spec
from watchkeeper.oncall import service
from watchkeeper.oncall.coverage import Coverage, coverage
from watchkeeper.oncall.overrides import add_override
from watchkeeper.web.access import Viewer, checked_form, ensure, may, page_session
from watchkeeper.web.pager import Pager, page_number
from watchkeeper.web.templating import render

router = APIRouter(include_in_schema=False, tags=["web"])
VIEWS = ("week", "month")
ICAL_HORIZON = timedelta(days=30)


@functools.cache
def viewer_zone(name: str) -> ZoneInfo:
    """The viewer's time zone (UTC if the stored name no longer resolves)."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


@dataclass(frozen=True)
class Span:
    """The days a page shows: ``days`` local days from ``first``."""

    view: str
    first: date
    days: int
    previous: date
    following: date

    @property
    def last(self) -> date:
        """The last day shown."""
        return self.first + timedelta(days=self.days - 1)


def span_of(view: str | None, start: str | None, today: date) -> Span:
    """The week (from Monday) or month holding ``start`` (default today); 422 naming the field."""
    chosen = view or "week"
    if chosen not in VIEWS:
        raise InvalidInput(f"view: {shown(chosen)} is not one of: {', '.join(VIEWS)}")
    day = today
    if start:
        try:
            day = date.fromisoformat(start)
        except ValueError:
            raise InvalidInput(f"start: {shown(start)} is not a date (YYYY-MM-DD)") from None
        if not date(1971, 1, 1) <= day <= date(9000, 1, 1):
            raise InvalidInput(f"start: {shown(start)} is out of range")
    if chosen == "week":
        first = day - timedelta(days=day.weekday())
        return Span("week", first, 7, first - timedelta(days=7), first + timedelta(days=7))
    first = day.replace(day=1)
    length = calendar.monthrange(first.year, first.month)[1]
    previous = (first - timedelta(days=1)).replace(day=1)
    return Span("month", first, length, previous, first + timedelta(days=length))


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    """The instant a local day starts, in UTC."""
    return datetime.combine(day, time(0), zone).astimezone(UTC)


@dataclass(frozen=True)
class Segment:
    """A stretch of one local day: who is on call (nobody in a gap) and from which layer."""

    start: str
    end: str
    users: tuple[str, ...]
    layer: str

    @property
    def gap(self) -> bool:
        """Whether nobody is on call."""
        return not self.users


@dataclass
class Day:
    """One local day of one schedule."""

    day: date
    segments: list[Segment] = field(default_factory=list)

    @property
    def uncovered(self) -> bool:
        """Whether part of the day has nobody on call."""
        return any(segment.gap for segment in self.segments)


def days_of(found: Coverage, span: Span, zone: ZoneInfo) -> list[Day]:
    """The schedule's shifts and gaps cut at the viewer's local midnights."""
    stretches = sorted(
        [(s.start, s.end, s.users, s.layer) for s in found.shifts if s.users]
        + [(start, end, (), "") for start, end in found.gaps],
        key=lambda item: item[0],
    )
    result: list[Day] = []
    first = 0
    for offset in range(span.days):
        day = span.first + timedelta(days=offset)
        begins, ends = local_midnight(day, zone), local_midnight(day + timedelta(days=1), zone)
        entry = Day(day)
        # Stretches are sorted and disjoint: skip those over before this day once and for all.
        while first < len(stretches) and stretches[first][1] <= begins:
            first += 1
        for start, end, users, layer in stretches[first:]:
            if start >= ends:
                break
            shown_start = max(start, begins).astimezone(zone).strftime("%H:%M")
            shown_end = "24:00" if end >= ends else end.astimezone(zone).strftime("%H:%M")
            entry.segments.append(Segment(shown_start, shown_end, users, layer))
        result.append(entry)
    return result


def _policy_steps(policy: EscalationPolicy, *, secrets: bool) -> list[dict[str, Any]]:
    steps = []
    for step in policy.steps:
        targets = []
        for target in step.targets:
            name = target.name
            if target.kind.value == "channel" and not secrets:
                name = shown_channel_spec(name)  # a Slack hook's path is its key
            label = f"{target.kind.value.replace('_', ' ')} {name}"
            if target.layer is not None:
                label += f" (layer {target.layer})"
            targets.append(label)
        steps.append({"targets": targets, "wait": step.wait})
    return steps


def _read_page(request: Request, signed_in: Viewer, span: Span, page: int) -> dict[str, Any]:
    zone = viewer_zone(signed_in.user.time_zone)
    start = local_midnight(span.first, zone)
    end = local_midnight(span.first + timedelta(days=span.days), zone)
    now = utcnow()
    pager = Pager(page, 0)
    with page_session(request) as session:
        total, schedules = coverage(
            session, start=start, end=end, now=now, offset=pager.offset, limit=pager.size
        )
        try:
            policies = service.list_policies(session)
            policy_error = None
        except (WatchkeeperError, ValueError) as exc:  # a bad stored policy: said, not a 500
            policies, policy_error = [], str(exc)
        user_names = people.all_user_names(session) if may(signed_in, Permission.WRITE) else []
    secrets = may(signed_in, Permission.ADMIN)
    return {
        "span": span,
        "pager": Pager(page, total),
        "schedules": [
            {
                "coverage": found,
                "days": days_of(found, span, zone),
                "uncovered": sum((b - a for a, b in found.gaps), timedelta(0)),
                "overrides": [o for o in found.overrides if o.end > start],
                "feed": quote(found.name, safe=""),
            }
            for found in schedules
        ],
        "policies": [
            {"name": p.name, "repeat": p.repeat, "steps": _policy_steps(p, secrets=secrets)}
            for p in policies
        ],
        "policy_error": policy_error,
        "user_names": user_names,
        "public_url": request.app.state.settings.public_url.rstrip("/"),
        "today": now.astimezone(zone).date(),
    }


@router.get("/oncall", response_class=HTMLResponse)
def oncall_page(
    request: Request,
    signed_in: Viewer,
    view: str | None = None,
    start: str | None = None,
    page: str | None = None,
) -> HTMLResponse:
    """Each schedule's week or month in the viewer's zone, with gaps, overrides and policies."""
    zone = viewer_zone(signed_in.user.time_zone)
    span = span_of(view, start, utcnow().astimezone(zone).date())
    context = _read_page(request, signed_in, span, page_number(page))
    return render(request, "oncall.html", viewer=signed_in, **context)


def _calendar_response(data: bytes, filename: str) -> Response:
    return Response(
        data,
        media_type="text/calendar; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )


@router.get("/oncall/schedules/{name}/calendar.ics", response_class=Response)
def schedule_calendar(request: Request, signed_in: Viewer, name: str) -> Response:
    """A schedule's next 30 days of shifts as iCalendar, for a signed-in browser."""
    now = utcnow()
    with page_session(request) as session:
        data = service.schedule_ical(session, name=name, start=now, end=now + ICAL_HORIZON, now=now)
    return _calendar_response(data, "schedule.ics")


@router.get("/oncall/my-shifts.ics", response_class=Response)
def my_calendar(request: Request, signed_in: Viewer) -> Response:
    """The signed-in user's next 30 days of shifts in every schedule, as iCalendar."""
    now = utcnow()
    with page_session(request) as session:
        data = service.user_ical(
            session, user=signed_in.user.name, start=now, end=now + ICAL_HORIZON, now=now
        )
    return _calendar_response(data, "my-shifts.ics")


def local_instant(raw: str, field_name: str, zone: ZoneInfo) -> datetime:
    """A form's ``YYYY-MM-DDTHH:MM`` in the viewer's zone (or with an offset), as UTC."""
    try:
        moment = datetime.fromisoformat(raw.strip())
    except ValueError:
        raise InvalidInput(
            f"{field_name}: {shown(raw)} is not a date and time (YYYY-MM-DDTHH:MM)"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise InvalidInput(f"{field_name}: {shown(raw)} is out of range") from None


def _store_override(request: Request, zone: ZoneInfo, fields: dict[str, str]) -> None:
    for name in ("schedule", "user", "start", "end"):
        if not fields.get(name, "").strip():
            raise InvalidInput(f"{name}: required")
    start = local_instant(fields["start"], "start", zone)
    end = local_instant(fields["end"], "end", zone)
    with page_session(request) as session:
        add_override(
            session,
            schedule=fields["schedule"].strip(),
            user=fields["user"].strip(),
            start=start,
            end=end,
            now=utcnow(),
        )


@router.post("/oncall/overrides")
async def create_override(request: Request, signed_in: Viewer) -> Response:
    """Add an override (editors and admins): ``user`` on call in ``schedule`` start to end."""
    ensure(signed_in, Permission.WRITE, action="add overrides")
    fields = await checked_form(request, signed_in)
    zone = viewer_zone(signed_in.user.time_zone)
    await run_in_threadpool(_store_override, request, zone, fields)
    return RedirectResponse(f"/oncall?{_back_query(fields)}#overrides", status_code=303)


def _back_query(fields: dict[str, str]) -> str:
    """The view the form was posted from, so the browser returns to it."""
    view = fields.get("view", "week")
    back = {"view": view if view in VIEWS else "week"}
    with contextlib.suppress(ValueError):  # otherwise the current week
        back["start"] = date.fromisoformat(fields.get("start_day", "")).isoformat()
    return urlencode(back)
