"""On-call use cases: applying schedules and policies, who is on call, who to notify."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit, urlunsplit

from sqlalchemy.orm import Session

from watchkeeper import reference_cache
from watchkeeper.auth import people
from watchkeeper.core.escalation import EscalationPolicy, Target, TargetKind
from watchkeeper.core.schedule import (
    Layer,
    Schedule,
    Shift,
    final_schedule,
    gaps_between,
    oncall_at,
)
from watchkeeper.core.schedule_text import ScheduleError, zone_named
from watchkeeper.errors import InvalidInput
from watchkeeper.messages import did_you_mean, shown
from watchkeeper.oncall import ical, repository
from watchkeeper.oncall.documents import (
    IMPORTED,
    NAME,
    NAME_RULE,
    CalendarOrigin,
    DocumentSet,
    Located,
    calendar_origin,
    origin_document,
    schedule_document,
    stored_schedule,
)
from watchkeeper.oncall.exceptions import (
    InvalidCalendar,
    PolicyNotFound,
    ScheduleNotFound,
    SpanTooLarge,
)
from watchkeeper.oncall.models import EscalationPolicyRecord, ScheduleRecord
from watchkeeper.oncall.schemas import Recipient
from watchkeeper.specs.problems import Problem, SpecError


@dataclass
class ApplyResult:
    """Names of what an apply created, updated or left unchanged."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    policies_created: list[str] = field(default_factory=list)
    policies_updated: list[str] = field(default_factory=list)
    policies_unchanged: list[str] = field(default_factory=list)


def _problem(where: Located, field_name: str, message: str) -> Problem:
    return Problem(where.file, where.document, where.line, field_name, message)


def check_references(session: Session, *, documents: DocumentSet) -> list[Problem]:
    """Problems with what documents name: unknown users, schedules and layers."""
    problems: list[Problem] = []
    known_users = set(people.all_user_names(session))
    for applied, where in documents.schedules.values():
        unknown = [user for user in applied.users if user not in known_users]
        if unknown:
            problems.append(
                _problem(
                    where,
                    "users",
                    f"unknown users {', '.join(unknown)} (create them with "
                    "`watchkeeper user create`)",
                )
            )
    schedules = {name: s for name, (s, _) in documents.schedules.items()}
    for policy, where in documents.policies.values():
        for index, step in enumerate(policy.steps):
            for target in step.targets:
                where_field = f"steps[{index}].targets"
                if target.kind is TargetKind.USER and target.name not in known_users:
                    problems.append(
                        _problem(
                            where,
                            where_field,
                            f"unknown user {target.name!r}{did_you_mean(target.name, known_users)}",
                        )
                    )
                elif target.kind in (TargetKind.SCHEDULE, TargetKind.SCHEDULE_LAYER):
                    named: Schedule | None = schedules.get(target.name)
                    if named is None:
                        record = repository.get_schedule(session, target.name)
                        if record is None:
                            names = [
                                *schedules,
                                *(r.name for r in repository.list_schedules(session)),
                            ]
                            problems.append(
                                _problem(
                                    where,
                                    where_field,
                                    f"unknown schedule {target.name!r}"
                                    + did_you_mean(target.name, names),
                                )
                            )
                            continue
                        named = stored_schedule(record.spec, record.name)
                    layers = [layer.name for layer in named.layers]
                    if target.layer is not None and target.layer not in layers:
                        problems.append(
                            _problem(
                                where,
                                where_field,
                                f"schedule {target.name!r} has no layer {target.layer!r}"
                                + did_you_mean(target.layer, layers),
                            )
                        )
    return problems


def apply(session: Session, *, documents: DocumentSet, now: datetime) -> ApplyResult:
    """Create or replace every schedule and policy of ``documents``, all or nothing."""
    problems = [*documents.problems, *check_references(session, documents=documents)]
    if problems:
        raise SpecError(problems)
    result = ApplyResult()
    for name, (schedule, _) in documents.schedules.items():
        spec = schedule_document(schedule)
        outcome = _upsert_schedule(
            session, name=name, schedule=schedule, spec=spec, source="yaml", now=now
        )
        {"created": result.created, "updated": result.updated, "unchanged": result.unchanged}[
            outcome
        ].append(name)
    for name, (policy, _) in documents.policies.items():
        spec = policy.to_json()
        record = repository.get_policy(session, name)
        if record is None:
            repository.add(
                session,
                EscalationPolicyRecord(name=name, spec=spec, created_at=now, updated_at=now),
            )
            result.policies_created.append(name)
        elif record.spec == spec:
            result.policies_unchanged.append(name)
        else:
            record.spec, record.updated_at = spec, now
            result.policies_updated.append(name)
    session.flush()
    return result


def _upsert_schedule(
    session: Session,
    *,
    name: str,
    schedule: Schedule,
    spec: dict[str, object],
    source: str,
    now: datetime,
) -> str:
    record = repository.get_schedule(session, name)
    if record is None:
        repository.add(
            session,
            ScheduleRecord(
                name=name,
                time_zone=schedule.time_zone,
                source=source,
                spec=spec,
                created_at=now,
                updated_at=now,
            ),
        )
        return "created"
    if record.spec == spec and record.source == source:
        return "unchanged"
    record.spec, record.time_zone, record.source, record.updated_at = (
        spec,
        schedule.time_zone,
        source,
        now,
    )
    return "updated"


def store_schedule(
    session: Session,
    *,
    schedule: Schedule,
    source: str,
    now: datetime,
    origin: CalendarOrigin | None = None,
) -> str:
    """Create or replace one schedule (users checked); ``created``, ``updated`` or ``unchanged``.

    ``origin`` records where an imported calendar came from and how far it reaches."""
    missing = people.missing_users(session, names=schedule.users)
    if missing:
        raise SpecError(
            [
                Problem(
                    f"schedule {schedule.name}",
                    0,
                    None,
                    "users",
                    f"unknown users {', '.join(missing)}",
                )
            ]
        )
    spec = schedule_document(schedule)
    if origin is not None:
        spec[IMPORTED] = origin_document(origin)
    return _upsert_schedule(
        session, name=schedule.name, schedule=schedule, spec=dict(spec), source=source, now=now
    )


def list_schedules(session: Session) -> list[ScheduleRecord]:
    """Every stored schedule, by name."""
    return repository.list_schedules(session)


def schedule_record(session: Session, *, name: str) -> ScheduleRecord:
    """The stored schedule ``name``, or ScheduleNotFound with a suggestion."""
    record = repository.get_schedule(session, name)
    if record is None:
        names = [r.name for r in repository.list_schedules(session)]
        raise ScheduleNotFound(f"no schedule named {shown(name)}{did_you_mean(name, names)}")
    return record


def schedule(session: Session, *, name: str) -> Schedule:
    """The schedule ``name`` as a core Schedule."""
    record = schedule_record(session, name=name)
    return stored_schedule(record.spec, record.name)


# Rotation math looks a few days past the instant asked about (restriction windows, the next
# turn); later instants would overflow datetime, so they are refused as input.
_LAST_INSTANT = datetime(9999, 1, 1, tzinfo=UTC)


def _within_range(**instants: datetime) -> None:
    for field_name, value in instants.items():
        if value >= _LAST_INSTANT:
            raise InvalidInput(f"{field_name}: {value.isoformat()} is after 9998-12-31")


def span_end(start: datetime, length: timedelta, *, field_name: str) -> datetime:
    """``start`` plus ``length``; refused naming ``field_name`` when that is after 9998-12-31."""
    try:
        end = start + length
    except OverflowError:
        end = _LAST_INSTANT
    if end >= _LAST_INSTANT:
        raise InvalidInput(f"{field_name}: {start.isoformat()} is too close to the year 9999")
    return end


def who(session: Session, *, name: str, at: datetime) -> tuple[str, ...]:
    """Who is on call in schedule ``name`` at ``at`` (empty in a gap)."""
    _within_range(at=at)
    return oncall_at(schedule(session, name=name), at)


def final(
    session: Session, *, name: str, start: datetime, end: datetime
) -> tuple[list[Shift], list[tuple[datetime, datetime]]]:
    """The final schedule of [start, end) and its gaps."""
    _within_range(start=start, end=end)
    shifts = _final_schedule(schedule(session, name=name), start, end)
    return shifts, gaps_between(shifts, start, end)


def _final_schedule(resolved: Schedule, start: datetime, end: datetime) -> list[Shift]:
    """core's final_schedule, a span too large for it as a caller's mistake."""
    try:
        return final_schedule(resolved, start, end)
    except ScheduleError as exc:
        raise SpanTooLarge(f"schedule {resolved.name}: {exc}") from None


def user_shifts(
    session: Session, *, user: str, start: datetime, end: datetime
) -> list[tuple[str, Shift]]:
    """Every shift of ``user`` in [start, end) across all schedules, as (schedule, shift)."""
    _within_range(start=start, end=end)
    people.get_user(session, name=user)
    found: list[tuple[str, Shift]] = []
    for record in repository.list_schedules(session):
        resolved = stored_schedule(record.spec, record.name)
        if user not in resolved.users:
            continue
        found.extend(
            (record.name, shift)
            for shift in _final_schedule(resolved, start, end)
            if user in shift.users
        )
    found.sort(key=lambda item: item[1].start)
    return found


def list_policies(session: Session) -> list[EscalationPolicy]:
    """Every escalation policy, by name."""
    return [EscalationPolicy.from_json(r.spec) for r in repository.list_policies(session)]


def escalation_policy(session: Session, name: str) -> EscalationPolicy:
    """The escalation policy ``name``, or PolicyNotFound with a suggestion."""
    spec = repository.policy_spec(session, name)
    if spec is None:
        names = [r.name for r in repository.list_policies(session)]
        raise PolicyNotFound(f"no escalation policy named {shown(name)}{did_you_mean(name, names)}")
    return EscalationPolicy.from_json(spec)


def _paged_schedule(session: Session, name: str) -> Schedule:
    """The schedule a step pages, from the reference cache where the transaction allows."""
    return reference_cache.read(session, f"schedule:{name}", lambda: schedule(session, name=name))


def recipients(
    session: Session, *, targets: Sequence[Target], at: datetime, urgency: str
) -> list[Recipient]:
    """Who to notify, how and when, for a step's targets at ``at`` (deduplicated)."""
    users: list[str] = []
    channels: list[Recipient] = []
    for target in targets:
        if target.kind is TargetKind.USER:
            users.append(target.name)
        elif target.kind is TargetKind.SCHEDULE:
            users.extend(oncall_at(_paged_schedule(session, target.name), at))
        elif target.kind is TargetKind.SCHEDULE_LAYER:
            resolved = _paged_schedule(session, target.name)
            for layer in resolved.layers:
                if layer.name == target.layer:
                    users.extend(layer.users)
                    users.extend(s.user for s in layer.shifts)
        else:
            kind, _, address = target.name.partition(":")
            channels.append(Recipient(None, kind, address, timedelta(0)))
    unique_users = list(dict.fromkeys(users))
    found: dict[tuple[str | None, str, str], Recipient] = {}
    deliveries = reference_cache.read(
        session,
        f"deliveries:{urgency}:{json.dumps(unique_users)}",
        lambda: tuple(people.deliveries(session, names=unique_users, urgency=urgency)),
    )
    for delivery in deliveries:
        key = (delivery.user, delivery.kind, delivery.address)
        if key not in found or found[key].delay > delivery.delay:
            found[key] = Recipient(delivery.user, delivery.kind, delivery.address, delivery.delay)
    for channel in channels:
        found.setdefault((None, channel.kind, channel.address), channel)
    return list(found.values())


# A feed's first and last shifts are shown whole, not cut at the window: their UID (built from
# the start) then stays the same from one fetch to the next. Looking this far around the window
# finds the real start and end of shifts up to a month long.
ICAL_LOOKAROUND = timedelta(days=31)


def _overlapping(shift: Shift, start: datetime, end: datetime) -> bool:
    return shift.start < end and shift.end > start


def schedule_ical(
    session: Session, *, name: str, start: datetime, end: datetime, now: datetime
) -> bytes:
    """The shifts overlapping [start, end) as an iCalendar, one VEVENT each; ``now`` stamps it."""
    shifts, _ = final(session, name=name, start=start - ICAL_LOOKAROUND, end=end + ICAL_LOOKAROUND)
    kept = [(name, shift) for shift in shifts if _overlapping(shift, start, end)]
    return ical.calendar_of(name, kept, now=now)


def user_ical(
    session: Session, *, user: str, start: datetime, end: datetime, now: datetime
) -> bytes:
    """A user's shifts overlapping [start, end) in every schedule, as an iCalendar."""
    shifts = user_shifts(
        session, user=user, start=start - ICAL_LOOKAROUND, end=end + ICAL_LOOKAROUND
    )
    kept = [(name, shift) for name, shift in shifts if _overlapping(shift, start, end)]
    return ical.calendar_of(user, kept, now=now)


@dataclass(frozen=True)
class ImportResult:
    """What an iCalendar import stored."""

    name: str
    outcome: str
    shifts: int
    time_zone: str
    covered_until: datetime


def import_calendar(
    session: Session,
    *,
    name: str,
    calendar: bytes,
    start: datetime,
    end: datetime,
    now: datetime,
    origin: str,
    time_zone: str | None = None,
) -> ImportResult:
    """Make or replace schedule ``name`` from a calendar whose event summaries name users.

    The occurrences of [start, end) (recurrences expanded) become one layer, ``calendar``, of
    explicit shifts: a snapshot, refreshed by importing again. ``origin`` (the file or URL read)
    and ``end`` are stored with it, so that the end of the snapshot can be warned about.
    """
    if not NAME.fullmatch(name):
        raise InvalidCalendar(f"name: {shown(name)} is not a schedule name ({NAME_RULE})")
    if end <= start:
        raise InvalidCalendar("--to must be after --from")
    zone_name = time_zone or ical.zone_hint(calendar) or "UTC"
    try:
        zone = zone_named(zone_name)
    except ScheduleError as exc:
        raise InvalidCalendar(str(exc)) from None
    imported = ical.read_calendar(calendar, zone=zone, start=start, end=end)
    missing = people.missing_users(session, names=imported.names)
    if missing:
        raise InvalidCalendar(
            f"the calendar names unknown users: {', '.join(missing)} (event summaries must be "
            "user names; create them with `watchkeeper user create`)"
        )
    if not imported.shifts:
        raise InvalidCalendar("the calendar has no events between --from and --to")
    layer = Layer(
        "calendar",
        (),
        start.astimezone(zone).replace(tzinfo=None),
        shifts=imported.shifts,
    )
    outcome = store_schedule(
        session,
        schedule=Schedule(name, zone, (layer,)),
        source="ical",
        now=now,
        origin=CalendarOrigin(shown_origin(origin), end),
    )
    return ImportResult(name, outcome, len(imported.shifts), zone.key, end.astimezone(UTC))


def shown_origin(origin: str) -> str:
    """A calendar's file path or URL as stored: a URL without its user and password."""
    parts = urlsplit(origin)
    if parts.scheme in ("http", "https") and (parts.username or parts.password):
        host = parts.hostname or ""
        netloc = f"{host}:{parts.port}" if parts.port else host
        return urlunsplit(parts._replace(netloc=netloc))
    return origin


def calendar_end(session: Session, *, name: str) -> CalendarOrigin | None:
    """Where schedule ``name``'s imported calendar came from and when it ends; None if it
    was not imported (or imported before this was recorded)."""
    return calendar_origin(schedule_record(session, name=name).spec)


def calendar_ends(session: Session) -> dict[str, datetime]:
    """The instant each imported schedule's calendar ends, by schedule name."""
    ends: dict[str, datetime] = {}
    for record in repository.list_schedules(session):
        origin = calendar_origin(record.spec)
        if origin is not None:
            ends[record.name] = origin.covered_until
    return ends


def user_references(session: Session, *, user: str) -> list[str]:
    """The schedules and escalation policies naming ``user`` (``schedule X``, ``policy Y``)."""
    found = [
        f"schedule {record.name}"
        for record in repository.list_schedules(session)
        if user in stored_schedule(record.spec, record.name).users
    ]
    found.extend(
        f"policy {policy.name}"
        for policy in list_policies(session)
        if any(
            target.kind is TargetKind.USER and target.name == user
            for step in policy.steps
            for target in step.targets
        )
    )
    return found
