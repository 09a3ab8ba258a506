"""JSON API of people and on-call: users, schedules, who is on call, iCal, escalation policies."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from watchkeeper.auth import people
from watchkeeper.auth.roles import Permission, sees_secrets
from watchkeeper.auth.schemas import ContactCreate, RuleCreate, UserCreate, UserRead, user_read
from watchkeeper.db import utcnow
from watchkeeper.dependencies import (
    AdminToken,
    ReadToken,
    SessionDep,
    WriteToken,
    json_body,
    json_body_openapi,
)
from watchkeeper.errors import InvalidInput
from watchkeeper.events.rows import parse_time
from watchkeeper.flows import people as people_flows
from watchkeeper.limits import read_body
from watchkeeper.notify.schemas import shown_channel_spec, shown_url
from watchkeeper.oncall import service
from watchkeeper.oncall.documents import CalendarOrigin, DocumentSet, definition_of, read_text
from watchkeeper.oncall.schemas import (
    GapRead,
    ImportedRead,
    PolicyRead,
    ScheduleRead,
    ShiftRead,
    WhoRead,
)
from watchkeeper.specs.problems import SpecError

router = APIRouter(prefix="/api/v1", tags=["on-call"])
CALENDAR = "text/calendar; charset=utf-8"
DEFAULT_HORIZON = timedelta(days=30)
MAX_SPAN = timedelta(days=366)
_YAML_BODY = {
    "requestBody": {
        "description": "Schedule and EscalationPolicy YAML documents (see docs/oncall.md)",
        "content": {"application/yaml": {"schema": {"type": "string"}}},
    }
}


def _instant(raw: str | None, name: str, default: datetime) -> datetime:
    if raw is None:
        return default
    try:
        return datetime.fromtimestamp(parse_time(raw)).astimezone().astimezone(default.tzinfo)
    except ValueError as exc:
        raise InvalidInput(f"{name}: {exc}") from None
    except (OverflowError, OSError):
        # A far-future or far-past instant has no datetime (year 10000 and beyond).
        raise InvalidInput(f"{name}: {raw[:100]!r} is out of range") from None


def _span(
    start_raw: str | None, end_raw: str | None, horizon: timedelta
) -> tuple[datetime, datetime]:
    start = _instant(start_raw, "from", utcnow())
    end = _instant(end_raw, "to", service.span_end(start, horizon, field_name="from"))
    if end <= start:
        raise InvalidInput("to: must be after from")
    if end - start > MAX_SPAN:
        raise InvalidInput("to: at most 366 days after from")
    return start, end


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


# -- users ---------------------------------------------------------------------------------


@router.get("/users", response_model=list[UserRead])
def list_users(session: SessionDep, token: ReadToken) -> list[UserRead]:
    """Every user with contact methods (URLs in full to admins) and notification rules."""
    secrets = sees_secrets(token.role)
    return [user_read(p, secrets=secrets) for p in people.list_users(session)]


@router.get("/users/{name}", response_model=UserRead)
def get_user(name: str, session: SessionDep, token: ReadToken) -> UserRead:
    """One user (contact URLs in full to admins)."""
    return user_read(people.profile(session, name=name), secrets=sees_secrets(token.role))


UserBody = Annotated[UserCreate, Depends(json_body(UserCreate, Permission.ADMIN))]
ContactBody = Annotated[ContactCreate, Depends(json_body(ContactCreate, Permission.ADMIN))]
RuleBody = Annotated[RuleCreate, Depends(json_body(RuleCreate, Permission.ADMIN))]


@router.post(
    "/users", status_code=201, response_model=UserRead, openapi_extra=json_body_openapi(UserCreate)
)
def create_user(body: UserBody, session: SessionDep, _token: AdminToken) -> UserRead:
    """Create a user (an email also becomes a contact method)."""
    people.create_user(
        session,
        name=body.name,
        role=body.role,
        email=body.email,
        time_zone=body.time_zone,
        now=utcnow(),
    )
    return user_read(people.profile(session, name=body.name))


@router.delete(
    "/users/{name}",
    status_code=204,
    responses={409: {"description": "A schedule or policy names the user (UserInUse)."}},
)
def delete_user(name: str, session: SessionDep, _token: AdminToken) -> Response:
    """Delete a user with their contact methods and rules, unless on-call still names them."""
    people_flows.delete_user(session, name=name)
    return Response(status_code=204)


@router.post(
    "/users/{name}/contact-methods",
    status_code=201,
    response_model=UserRead,
    openapi_extra=json_body_openapi(ContactCreate),
)
def add_contact(name: str, body: ContactBody, session: SessionDep, _token: AdminToken) -> UserRead:
    """Add a contact method to a user."""
    people.add_contact(
        session, name=name, kind=body.kind, address=body.address, label=body.label, now=utcnow()
    )
    return user_read(people.profile(session, name=name))


@router.delete("/users/{name}/contact-methods/{contact_id}", response_model=UserRead)
def remove_contact(name: str, contact_id: int, session: SessionDep, _token: AdminToken) -> UserRead:
    """Remove a contact method and the notification rules that use it."""
    people.remove_contact(session, name=name, contact_id=contact_id)
    return user_read(people.profile(session, name=name))


@router.delete("/users/{name}/notification-rules/{rule_id}", response_model=UserRead)
def remove_rule(name: str, rule_id: int, session: SessionDep, _token: AdminToken) -> UserRead:
    """Remove a notification rule."""
    people.remove_rule(session, name=name, rule_id=rule_id)
    return user_read(people.profile(session, name=name))


@router.post(
    "/users/{name}/notification-rules",
    status_code=201,
    response_model=UserRead,
    openapi_extra=json_body_openapi(RuleCreate),
)
def add_rule(name: str, body: RuleBody, session: SessionDep, _token: AdminToken) -> UserRead:
    """Add a notification rule to a user."""
    people.add_rule(
        session,
        name=name,
        contact_id=body.contact,
        urgency=body.urgency,
        delay=people.parse_delay(body.delay),
        now=utcnow(),
    )
    return user_read(people.profile(session, name=name))


@router.get("/users/{name}/ical", response_class=Response)
def user_ical(
    name: str,
    session: SessionDep,
    _token: ReadToken,
    from_: Annotated[str | None, Query(alias="from")] = None,
    to: str | None = None,
) -> Response:
    """A user's shifts in every schedule as iCalendar (default: the next 30 days)."""
    start, end = _span(from_, to, DEFAULT_HORIZON)
    return Response(
        service.user_ical(session, user=name, start=start, end=end, now=utcnow()),
        media_type=CALENDAR,
    )


# -- schedules -----------------------------------------------------------------------------


def _imported_read(
    origin: CalendarOrigin | None, *, secrets: bool, now: datetime
) -> ImportedRead | None:
    if origin is None:
        return None
    # A calendar URL's path often is its key (private iCal links): the host only, as for
    # webhook addresses, unless the token may see secrets. File paths are shown whole.
    source = origin.source
    if not secrets and source.startswith(("http://", "https://")):
        source = shown_url(source)
    return ImportedRead(
        source=source, covered_until=origin.covered_until, ended=now >= origin.covered_until
    )


def _schedule_read(
    session: Any,
    name: str,
    span: tuple[datetime, datetime] | None = None,
    *,
    secrets: bool,
) -> ScheduleRead:
    record = service.schedule_record(session, name=name)
    now = utcnow()
    read = ScheduleRead(
        name=record.name,
        time_zone=record.time_zone,
        source=record.source,
        updated_at=record.updated_at,
        imported=_imported_read(service.calendar_end(session, name=name), secrets=secrets, now=now),
        definition=definition_of(record.spec),
        oncall_now=list(service.who(session, name=name, at=now)),
    )
    if span is not None:
        shifts, holes = service.final(session, name=name, start=span[0], end=span[1])
        read.shifts = [
            ShiftRead(users=list(s.users), start=s.start, end=s.end, layer=s.layer) for s in shifts
        ]
        read.gaps = [GapRead(start=a, end=b) for a, b in holes]
    return read


@router.get("/schedules", response_model=list[ScheduleRead])
def list_schedules(session: SessionDep, token: ReadToken) -> list[ScheduleRead]:
    """Every schedule with its definition, who is on call now and, if imported, its end."""
    secrets = sees_secrets(token.role)
    return [
        _schedule_read(session, r.name, secrets=secrets) for r in service.list_schedules(session)
    ]


@router.get("/schedules/{name}", response_model=ScheduleRead)
def get_schedule(
    name: str,
    session: SessionDep,
    token: ReadToken,
    from_: Annotated[str | None, Query(alias="from")] = None,
    to: str | None = None,
) -> ScheduleRead:
    """A schedule with its final schedule and gaps (default: the next 7 days)."""
    span = _span(from_, to, timedelta(days=7))
    return _schedule_read(session, name, span, secrets=sees_secrets(token.role))


@router.get("/schedules/{name}/oncall", response_model=WhoRead)
def who(name: str, session: SessionDep, _token: ReadToken, at: str | None = None) -> WhoRead:
    """Who is on call at ``at`` (default now); an empty list in a gap."""
    when = _instant(at, "at", utcnow())
    users = service.who(session, name=name, at=when)
    return WhoRead(schedule=name, at=_iso(when), oncall=list(users))


@router.get("/schedules/{name}/ical", response_class=Response)
def schedule_ical(
    name: str,
    session: SessionDep,
    _token: ReadToken,
    from_: Annotated[str | None, Query(alias="from")] = None,
    to: str | None = None,
) -> Response:
    """A schedule's shifts as iCalendar, one VEVENT per shift (default: the next 30 days)."""
    start, end = _span(from_, to, DEFAULT_HORIZON)
    data = service.schedule_ical(session, name=name, start=start, end=end, now=utcnow())
    return Response(data, media_type=CALENDAR)


def _parse_yaml(body: bytes) -> DocumentSet:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInput("body is not UTF-8 text") from None
    if not text.strip():
        raise InvalidInput("empty body: send Schedule and EscalationPolicy YAML documents")
    documents = read_text(text, "request body")
    if documents.problems:
        raise SpecError(documents.problems)
    return documents


async def read_documents(request: Request, _token: WriteToken) -> DocumentSet:
    """The request's YAML documents, read once the token is checked and within the size limit."""
    body = await read_body(request)
    return await run_in_threadpool(_parse_yaml, body)


DocumentsBody = Annotated[DocumentSet, Depends(read_documents)]


@router.post("/oncall", openapi_extra=_YAML_BODY)
def apply(documents: DocumentsBody, session: SessionDep, _token: WriteToken) -> dict[str, Any]:
    """Create or update schedules and escalation policies from YAML (all or nothing)."""
    return service.apply(session, documents=documents, now=utcnow()).__dict__


# -- escalation policies -------------------------------------------------------------------


def _policy_read(document: dict[str, Any], *, secrets: bool) -> PolicyRead:
    steps = document["steps"]
    if not secrets:
        # Channel targets are addresses: a Slack hook URL's path is its key.
        steps = [
            {
                **step,
                "targets": [
                    {**t, "name": shown_channel_spec(t["name"])} if t["kind"] == "channel" else t
                    for t in step["targets"]
                ],
            }
            for step in steps
        ]
    return PolicyRead(name=document["name"], repeat=document["repeat"], steps=steps)


@router.get("/escalation-policies", response_model=list[PolicyRead])
def list_policies(session: SessionDep, token: ReadToken) -> list[PolicyRead]:
    """Every escalation policy (channel targets in full to admins)."""
    secrets = sees_secrets(token.role)
    return [_policy_read(p.to_json(), secrets=secrets) for p in service.list_policies(session)]


@router.get("/escalation-policies/{name}", response_model=PolicyRead)
def get_policy(name: str, session: SessionDep, token: ReadToken) -> PolicyRead:
    """One escalation policy (channel targets in full to admins)."""
    policy = service.escalation_policy(session, name).to_json()
    return _policy_read(policy, secrets=sees_secrets(token.role))
