"""Schedules and escalation policies as documents: YAML in, core values out, JSON to store.

The format is documented in docs/oncall.md. The same reader reads YAML a user gives (with
lines, through the bounded loader) and the JSON stored in the database (written by
:func:`schedule_document` / ``EscalationPolicy.to_json``), so what is stored is what was checked.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from watchkeeper.core.duration import parse_duration
from watchkeeper.core.escalation import (
    EscalationError,
    EscalationPolicy,
    EscalationStep,
    Target,
    TargetKind,
)
from watchkeeper.core.schedule import CalendarShift, Layer, Override, Restriction, Schedule
from watchkeeper.core.schedule_text import (
    ScheduleError,
    format_turn,
    parse_clock,
    parse_days,
    parse_turn,
    zone_named,
)
from watchkeeper.notify.exceptions import InvalidNotification
from watchkeeper.notify.service import parse_channel_spec
from watchkeeper.specs.cursor import Cursor, DocumentContext
from watchkeeper.specs.problems import Problem, SpecError
from watchkeeper.specs.yaml_nodes import parse_documents

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
NAME_RULE = "1 to 64 letters, digits, '.', '_' or '-'"
SCHEDULE_FIELDS = ("kind", "name", "time_zone", "layers", "overrides", "description")
LAYER_FIELDS = ("name", "users", "start", "handoff", "turn", "priority", "restrictions", "shifts")
POLICY_FIELDS = ("kind", "name", "repeat", "steps", "description")
KINDS = ("Schedule", "EscalationPolicy")


@dataclass(frozen=True)
class Located:
    """A value read from a document with where it came from (for later problems)."""

    file: str
    document: int
    line: int | None


@dataclass
class DocumentSet:
    """Everything read from some files: schedules, policies, and where each was defined."""

    schedules: dict[str, tuple[Schedule, Located]] = field(default_factory=dict)
    policies: dict[str, tuple[EscalationPolicy, Located]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)


def read_text(text: str, filename: str, into: DocumentSet | None = None) -> DocumentSet:
    """Read every ``Schedule`` and ``EscalationPolicy`` document of a YAML text."""
    found = into if into is not None else DocumentSet()
    documents, syntax_error = parse_documents(text, filename)
    for document in documents:
        if document.value is None:
            continue
        doc = Cursor(DocumentContext(filename, document.index, found.problems), document.value)
        if not isinstance(document.value, dict):
            doc.error("a document must be a mapping with a kind")
            continue
        kind = doc.read("kind", Cursor.text, required=True)
        where = Located(filename, document.index, doc.line)
        if kind == "Schedule":
            schedule = read_schedule(doc)
            if schedule is not None:
                _keep(found.schedules, schedule.name, (schedule, where), doc, "schedule")
        elif kind == "EscalationPolicy":
            policy = read_policy(doc)
            if policy is not None:
                _keep(found.policies, policy.name, (policy, where), doc, "escalation policy")
        elif kind is not None:
            doc.error_at("kind", f"unknown kind {kind!r}; use {' or '.join(KINDS)}")
    if syntax_error is not None:
        found.problems.append(syntax_error)
    return found


def _keep(into: dict[str, Any], name: str, value: Any, doc: Cursor, label: str) -> None:
    if name in into:
        first = into[name][1]
        doc.error_at("name", f"{label} {name!r} is defined twice (first in {first.file})")
    else:
        into[name] = value


def _name(doc: Cursor, key: str = "name") -> str | None:
    child = doc.require(key)
    return None if child is None else child.name(NAME, NAME_RULE)


def _guard(cursor: Cursor, error: ScheduleError | EscalationError) -> None:
    cursor.error(error.message)


def read_schedule(doc: Cursor) -> Schedule | None:
    """A schedule document (``kind`` optional), or None with problems recorded."""
    mark = doc.mark()
    doc.fields(SCHEDULE_FIELDS)
    name = _name(doc)
    zone: ZoneInfo | None = None
    zone_at = doc.require("time_zone")
    if zone_at is not None and (zone_text := zone_at.text()) is not None:
        try:
            zone = zone_named(zone_text)
        except ScheduleError as exc:
            _guard(zone_at, exc)
    layers: list[Layer] = []
    if (layers_at := doc.require("layers")) is not None:
        items = layers_at.items()
        if items is not None and not items:
            layers_at.error("give at least one layer")
        for item in items or []:
            layer = _read_layer(item, zone)
            if layer is not None:
                if any(existing.name == layer.name for existing in layers):
                    item.error_at("name", f"layer {layer.name!r} is defined twice")
                layers.append(layer)
    overrides: list[Override] = []
    if (overrides_at := doc.get("overrides")) is not None:
        for item in overrides_at.items() or []:
            override = _read_override(item, zone)
            if override is not None:
                overrides.append(override)
    if not doc.clean_since(mark) or name is None or zone is None:
        return None
    try:
        return Schedule(name, zone, tuple(layers), tuple(overrides))
    except ScheduleError as exc:
        doc.error_at(exc.field, exc.message)
        return None


def _read_layer(item: Cursor, zone: ZoneInfo | None) -> Layer | None:
    mark = item.mark()
    if not item.fields(LAYER_FIELDS):
        return None
    name = _name(item)
    users: list[str] = []
    users_at = item.get("users")
    shifts = _read_shifts(item.get("shifts"), zone)
    if users_at is not None:
        user_items = users_at.items()
        for user_at in user_items or []:
            user = user_at.text()
            if user is not None:
                users.append(user)
        if user_items == [] and not shifts:
            users_at.error("the rotation is empty: name at least one user")
    elif not shifts:
        item.error_at("users", "is required (the rotation, in turn order)")
    start = _local_start(item)
    turn = timedelta(days=1)
    if (turn_at := item.get("turn")) is not None and (turn_text := _scalar_text(turn_at)):
        try:
            turn = parse_turn(turn_text)
        except ScheduleError as exc:
            _guard(turn_at, exc)
    priority = item.read("priority", Cursor.integer) or 0
    restrictions: list[Restriction] = []
    if (restrictions_at := item.get("restrictions")) is not None:
        for entry in restrictions_at.items() or []:
            restriction = _read_restriction(entry)
            if restriction is not None:
                restrictions.append(restriction)
    if not item.clean_since(mark) or name is None or start is None:
        return None
    try:
        return Layer(
            name,
            tuple(users),
            start,
            turn=turn,
            priority=priority,
            restrictions=tuple(restrictions),
            shifts=tuple(shifts),
        )
    except ScheduleError as exc:
        item.error(exc.message)
        return None


def _scalar_text(cursor: Cursor) -> str | None:
    if isinstance(cursor.value, int) and not isinstance(cursor.value, bool):
        return str(cursor.value)
    return cursor.text()


def _clock(cursor: Cursor, what: str) -> int | None:
    value = cursor.value
    # YAML 1.1 reads an unquoted 09:00 as the base-60 number 540: the minutes since midnight.
    if isinstance(value, int) and not isinstance(value, bool):
        if 0 <= value <= 1440:
            return value
        cursor.error("is not a time of day (use HH:MM, from 00:00 to 24:00)")
        return None
    text = cursor.text()
    if text is None:
        return None
    try:
        return parse_clock(text, what)
    except ScheduleError as exc:
        _guard(cursor, exc)
        return None


def _local_start(item: Cursor) -> datetime | None:
    start_at = item.require("start", " (the first handoff, local time in the schedule's zone)")
    if start_at is None:
        return None
    value = start_at.value
    start: datetime | None = None
    if isinstance(value, datetime):
        start = value
    elif isinstance(value, date):
        start = datetime.combine(value, datetime.min.time())
    elif isinstance(value, str):
        try:
            start = datetime.fromisoformat(value.strip())
        except ValueError:
            start_at.error(f"{value!r} is not a local date and time such as 2026-01-05T09:00")
            return None
    else:
        start_at.error("must be a local date and time such as 2026-01-05T09:00")
        return None
    if start.tzinfo is not None:
        start_at.error("is a local time in the schedule's time zone: leave out the UTC offset")
        return None
    if (handoff_at := item.get("handoff")) is not None:
        minutes = _clock(handoff_at, "handoff")
        if minutes is None:
            return None
        start = datetime.combine(start.date(), datetime.min.time()) + timedelta(minutes=minutes)
    return start


def _read_restriction(entry: Cursor) -> Restriction | None:
    if isinstance(entry.value, str):
        try:
            return Restriction.parse(entry.value)
        except ScheduleError as exc:
            _guard(entry, exc)
            return None
    if not entry.fields(("days", "start", "end")):
        return None
    days_at, start_at, end_at = entry.require("days"), entry.require("start"), entry.require("end")
    if days_at is None or start_at is None or end_at is None:
        return None
    days_text = (
        ",".join(str(d) for d in days_at.value)
        if isinstance(days_at.value, list)
        else days_at.text()
    )
    start, end = _clock(start_at, "start"), _clock(end_at, "end")
    if days_text is None or start is None or end is None:
        return None
    try:
        return Restriction(parse_days(days_text), start, end)
    except ScheduleError as exc:
        _guard(days_at if exc.field.endswith("days") else entry, exc)
        return None


def _instant(cursor: Cursor, zone: ZoneInfo | None) -> datetime | None:
    value = cursor.value
    moment: datetime | None = None
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        with contextlib.suppress(ValueError):
            moment = datetime.fromisoformat(value.strip().replace("z", "Z"))
    if moment is None:
        cursor.error("must be a date and time such as 2026-03-01T09:00:00+01:00")
        return None
    if moment.tzinfo is None:
        if zone is None:
            return None
        moment = moment.replace(tzinfo=zone)  # no offset: local time in the schedule's zone
    return moment.astimezone(UTC)


def _read_override(item: Cursor, zone: ZoneInfo | None) -> Override | None:
    if not item.fields(("user", "start", "end")):
        return None
    user = item.read("user", Cursor.text, required=True)
    start_at, end_at = item.require("start"), item.require("end")
    start = None if start_at is None else _instant(start_at, zone)
    end = None if end_at is None else _instant(end_at, zone)
    if user is None or start is None or end is None:
        return None
    if end <= start:
        item.error_at("end", "the override ends before it starts")
        return None
    return Override(user, start, end)


def _read_shifts(shifts_at: Cursor | None, zone: ZoneInfo | None) -> list[CalendarShift]:
    shifts: list[CalendarShift] = []
    if shifts_at is None:
        return shifts
    for item in shifts_at.items() or []:
        override = _read_override(item, zone)  # the same three fields
        if override is not None:
            shifts.append(CalendarShift(override.user, override.start, override.end))
    return shifts


def read_policy(doc: Cursor) -> EscalationPolicy | None:
    """An escalation policy document, or None with problems recorded."""
    mark = doc.mark()
    doc.fields(POLICY_FIELDS)
    name = _name(doc)
    repeat = doc.read("repeat", Cursor.integer) or 0
    steps: list[EscalationStep] = []
    if (steps_at := doc.require("steps")) is not None:
        items = steps_at.items()
        if items == []:
            steps_at.error("give at least one step")
        for item in items or []:
            step = _read_step(item)
            if step is not None:
                steps.append(step)
    if not doc.clean_since(mark) or name is None:
        return None
    try:
        return EscalationPolicy(name, tuple(steps), repeat)
    except EscalationError as exc:
        doc.error_at(exc.field, exc.message)
        return None


def _read_step(item: Cursor) -> EscalationStep | None:
    if not item.fields(("targets", "wait")):
        return None
    mark = item.mark()
    wait = timedelta(0)
    if (wait_at := item.require("wait", " (how long before the next step, e.g. 15m)")) is not None:
        text = _scalar_text(wait_at)
        if text is not None:
            try:
                wait = parse_duration(text)
            except ValueError as exc:
                wait_at.error(str(exc))
    targets: list[Target] = []
    if (targets_at := item.require("targets")) is not None:
        entries = targets_at.items()
        if entries == []:
            targets_at.error("give at least one target")
        for entry in entries or []:
            target = _read_target(entry)
            if target is not None:
                targets.append(target)
    if not item.clean_since(mark):
        return None
    return EscalationStep(tuple(targets), wait)


def _read_target(entry: Cursor) -> Target | None:
    if not entry.fields(("user", "schedule", "layer", "channel")):
        return None
    given = [key for key in ("user", "schedule", "channel") if entry.has(key)]
    if len(given) != 1:
        entry.error("give exactly one of user, schedule (optionally with layer) or channel")
        return None
    key = given[0]
    name = entry.read(key, Cursor.text)
    layer = entry.read("layer", Cursor.text)
    if name is None or (entry.has("layer") and layer is None):
        return None
    if layer is not None and key != "schedule":
        entry.error_at("layer", "a layer belongs with a schedule target")
        return None
    kind = {
        "user": TargetKind.USER,
        "schedule": TargetKind.SCHEDULE_LAYER if layer is not None else TargetKind.SCHEDULE,
        "channel": TargetKind.CHANNEL,
    }[key]
    try:
        target = Target(kind, name, layer)
    except EscalationError as exc:
        entry.error_at(key, exc.message)
        return None
    if kind is TargetKind.CHANNEL:
        # The address is checked as notify will send to it: a bad one fails here, with its
        # line, rather than at page time.
        try:
            parse_channel_spec(name)
        except InvalidNotification as exc:
            entry.error_at(key, exc.detail)
            return None
    return target


def schedule_document(schedule: Schedule) -> dict[str, Any]:
    """The JSON document of a schedule (the YAML format without ``kind``)."""

    def instant(moment: datetime) -> str:
        return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")

    layers: list[dict[str, Any]] = []
    for layer in schedule.layers:
        document: dict[str, Any] = {
            "name": layer.name,
            "users": list(layer.users),
            "start": layer.start.isoformat(),
            "turn": format_turn(layer.turn),
        }
        if layer.priority:
            document["priority"] = layer.priority
        if layer.restrictions:
            document["restrictions"] = [str(r) for r in layer.restrictions]
        if layer.shifts:
            document["shifts"] = [
                {"user": s.user, "start": instant(s.start), "end": instant(s.end)}
                for s in layer.shifts
            ]
        layers.append(document)
    result: dict[str, Any] = {
        "name": schedule.name,
        "time_zone": schedule.time_zone,
        "layers": layers,
    }
    if schedule.overrides:
        result["overrides"] = [
            {"user": o.user, "start": instant(o.start), "end": instant(o.end)}
            for o in schedule.overrides
        ]
    return result


IMPORTED = "imported"
"""The stored document's key recording where an imported calendar came from and how far its
snapshot reaches; not part of the YAML format (users cannot write it)."""


@dataclass(frozen=True)
class CalendarOrigin:
    """Where an imported schedule's calendar came from and the instant its shifts end."""

    source: str
    covered_until: datetime


def origin_document(origin: CalendarOrigin) -> dict[str, str]:
    """The JSON stored under IMPORTED for ``origin``."""
    until = origin.covered_until.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return {"source": origin.source, "covered_until": until}


def calendar_origin(document: dict[str, Any]) -> CalendarOrigin | None:
    """The origin recorded in a stored schedule document, None for YAML schedules (and for
    calendars imported before the origin was recorded)."""
    stored = document.get(IMPORTED)
    if not isinstance(stored, dict):
        return None
    try:
        until = datetime.fromisoformat(str(stored["covered_until"]).replace("Z", "+00:00"))
    except (KeyError, ValueError):
        return None
    if until.tzinfo is None:
        return None
    return CalendarOrigin(str(stored.get("source", "")), until.astimezone(UTC))


def definition_of(document: dict[str, Any]) -> dict[str, Any]:
    """A stored schedule document without its import record: the schedule as YAML states it."""
    return {key: value for key, value in document.items() if key != IMPORTED}


def stored_schedule(document: dict[str, Any], name: str) -> Schedule:
    """A stored schedule document as a core Schedule (SpecError if it no longer reads)."""
    problems: list[Problem] = []
    schedule = read_schedule(
        Cursor(DocumentContext(f"schedule {name}", 0, problems), definition_of(document))
    )
    if schedule is None:
        raise SpecError(problems)
    return schedule
