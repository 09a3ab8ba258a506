"""iCalendar (RFC 5545) for on-call: shifts out as VEVENTs, rotations in from calendars.

Export writes one VEVENT per shift of the final schedule; its SUMMARY is the on-call user
names joined by ", " (so an exported calendar imports back). Import expands recurring events
(RRULE, RDATE, EXDATE) with ``recurring-ical-events`` over a window and turns each occurrence
into explicit shifts, one per user its SUMMARY names.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx2
import icalendar
import recurring_ical_events  # type: ignore[import-untyped]

from watchkeeper.core.schedule import CalendarShift, Shift
from watchkeeper.oncall.exceptions import InvalidCalendar

PRODUCT = "-//Watchkeeper//On-call//EN"
MAX_OCCURRENCES = 10_000
"""The most shifts one calendar import reads."""


def calendar_of(name: str, shifts: Sequence[tuple[str, Shift]], *, now: datetime) -> bytes:
    """An iCalendar of (schedule, shift) pairs, one VEVENT each."""
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODUCT)
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", f"On call: {name}")
    for schedule, shift in shifts:
        event = icalendar.Event()
        identity = f"{schedule}|{shift.start.isoformat()}|{','.join(shift.users)}"
        digest = hashlib.sha256(identity.encode()).hexdigest()[:24]
        event.add("uid", f"{digest}@watchkeeper")
        event.add("dtstamp", now.astimezone(UTC))
        event.add("dtstart", shift.start.astimezone(UTC))
        event.add("dtend", shift.end.astimezone(UTC))
        event.add("summary", ", ".join(shift.users))
        event.add("description", f"On call in schedule {schedule} (layer {shift.layer})")
        event.add("categories", [schedule])
        calendar.add_component(event)
    data: bytes = calendar.to_ical()
    return data


@dataclass(frozen=True)
class ImportedCalendar:
    """Shifts read from a calendar, and the user names it gave that are unknown."""

    shifts: tuple[CalendarShift, ...]
    names: tuple[str, ...]
    zone_hint: str | None


def _instant(value: Any, zone: ZoneInfo) -> datetime:
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=zone)).astimezone(UTC)
    if isinstance(value, date):
        return datetime.combine(value, datetime.min.time()).replace(tzinfo=zone).astimezone(UTC)
    raise InvalidCalendar(f"an event has an unreadable date: {value!r}")


def _parsed(data: bytes) -> icalendar.Calendar:
    try:
        return icalendar.Calendar.from_ical(data)
    except (ValueError, KeyError, IndexError) as exc:
        raise InvalidCalendar(f"not an iCalendar file: {exc}") from None


def zone_hint(data: bytes) -> str | None:
    """The calendar's X-WR-TIMEZONE, read without expanding any event."""
    hint = _parsed(data).get("x-wr-timezone")
    return str(hint) if hint else None


def read_calendar(
    data: bytes, *, zone: ZoneInfo, start: datetime, end: datetime
) -> ImportedCalendar:
    """Shifts of the events (recurrences expanded) that overlap [start, end); at most
    MAX_OCCURRENCES of them, else InvalidCalendar naming the event that went past."""
    calendar = _parsed(data)
    hint = calendar.get("x-wr-timezone")
    shifts: list[CalendarShift] = []
    names: dict[str, None] = {}
    occurrences = 0
    try:
        # Lazily, in start order: a rule like FREQ=SECONDLY stops at the cap instead of
        # being expanded whole first.
        for event in recurring_ical_events.of(calendar).after(start):
            if _instant(event.decoded("dtstart"), zone) >= end:
                break
            occurrences += 1
            if occurrences > MAX_OCCURRENCES:
                raise InvalidCalendar(
                    f"the event {str(event.get('summary', ''))[:100]!r} "
                    f"(UID {str(event.get('uid', '?'))[:100]}) makes the calendar hold more "
                    f"than {MAX_OCCURRENCES} shifts before {end.isoformat()}"
                )
            _add_event(event, zone, start, end, shifts, names)
    except InvalidCalendar:
        raise
    except Exception as exc:  # the library raises many kinds for malformed rules
        raise InvalidCalendar(f"cannot expand the calendar's events: {exc}") from None
    return ImportedCalendar(tuple(shifts), tuple(names), str(hint) if hint else None)


def _add_event(
    event: Any,
    zone: ZoneInfo,
    start: datetime,
    end: datetime,
    shifts: list[CalendarShift],
    names: dict[str, None],
) -> None:
    """Append the shifts of one occurrence, clipped to [start, end)."""
    summary = str(event.get("summary", "")).strip()
    if not summary:
        raise InvalidCalendar("an event has no SUMMARY naming who is on call")
    begin = _instant(event.decoded("dtstart"), zone)
    if event.get("dtend") is not None:
        finish = _instant(event.decoded("dtend"), zone)
    elif event.get("duration") is not None:
        finish = begin + event.decoded("duration")
    else:
        finish = begin + timedelta(days=1)
    begin, finish = max(begin, start), min(finish, end)
    if finish <= begin:
        return
    for user in (part.strip() for part in summary.split(",")):
        if user:
            names[user] = None
            shifts.append(CalendarShift(user, begin, finish))


def fetch(url: str, *, timeout: float, max_bytes: int) -> bytes:
    """Download a calendar over HTTP(S) with a timeout and a size limit."""
    chunks: list[bytes] = []
    size = 0
    try:
        with httpx2.stream("GET", url, timeout=timeout, follow_redirects=True) as response:
            if response.status_code != 200:
                raise InvalidCalendar(f"{url} answered HTTP {response.status_code}")
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > max_bytes:
                    raise InvalidCalendar(f"{url} is larger than {max_bytes:,} bytes")
                chunks.append(chunk)
    except httpx2.HTTPError as exc:
        raise InvalidCalendar(f"cannot fetch {url}: {exc}") from None
    return b"".join(chunks)
