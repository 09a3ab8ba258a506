"""The text forms of a schedule's parts: time zones, turn lengths, times of day and days of the
week, each read (or written back) with a ScheduleError naming the field at fault."""

from __future__ import annotations

import re
from datetime import timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from watchkeeper.core.duration import format_duration, parse_duration

DAY = timedelta(days=1)
MIN_TURN = timedelta(hours=1)
"""The shortest turn of a rotation."""
DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MINUTES_PER_DAY = 24 * 60
_CLOCK = re.compile(r"^([0-9]{1,2}):([0-9]{2})$")


class ScheduleError(ValueError):
    """A schedule definition is invalid; ``field`` names the offending field."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(f"{field_name}: {message}")
        self.field = field_name
        self.message = message


def zone_named(name: str, field_name: str = "time_zone") -> ZoneInfo:
    """The IANA zone ``name``, or ScheduleError naming the field."""
    if not isinstance(name, str) or not name.strip():
        raise ScheduleError(field_name, "a time zone name such as 'Europe/Paris' is required")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ScheduleError(field_name, f"unknown time zone {name!r}") from None


def parse_turn(text: str) -> timedelta:
    """``daily``, ``weekly`` or a duration (``12h``, ``3d``) of at least MIN_TURN as a timedelta."""
    cleaned = text.strip().lower()
    if cleaned == "daily":
        return DAY
    if cleaned == "weekly":
        return timedelta(weeks=1)
    try:
        turn = parse_duration(cleaned)
    except ValueError as exc:
        raise ScheduleError("turn", f"{exc}; or use daily or weekly") from None
    if turn < MIN_TURN:
        raise ScheduleError(
            "turn",
            f"the turn must be at least {format_duration(MIN_TURN)}, not {format_duration(turn)}",
        )
    return turn


def format_turn(turn: timedelta) -> str:
    """The text :func:`parse_turn` reads back to ``turn``."""
    if turn == DAY:
        return "daily"
    if turn == timedelta(weeks=1):
        return "weekly"
    return format_duration(turn)


def parse_clock(text: str, field_name: str) -> int:
    """``HH:MM`` (``24:00`` allowed) as minutes since local midnight."""
    match = _CLOCK.match(text.strip())
    if match is None:
        raise ScheduleError(field_name, f"{text!r} is not a time of day (use HH:MM)")
    hours, minutes = int(match.group(1)), int(match.group(2))
    total = hours * 60 + minutes
    if minutes >= 60 or total > MINUTES_PER_DAY:
        raise ScheduleError(field_name, f"{text!r} is not a time of day (use HH:MM)")
    return total


def parse_days(text: str, field_name: str = "days") -> frozenset[int]:
    """``mon-fri``, ``sat,sun``, ``mon,wed-fri`` or ``daily`` as weekday numbers (Monday 0)."""
    cleaned = text.strip().lower()
    if cleaned in ("daily", "all", "*"):
        return frozenset(range(7))
    days: set[int] = set()
    for part in cleaned.split(","):
        first, dash, last = part.strip().partition("-")
        for name in (first, last) if dash else (first,):
            if name.strip() not in DAY_NAMES:
                raise ScheduleError(
                    field_name, f"unknown day {name.strip()!r}; use {', '.join(DAY_NAMES)}"
                )
        start = DAY_NAMES.index(first.strip())
        end = DAY_NAMES.index(last.strip()) if dash else start
        # A range wraps past Sunday: fri-mon is Friday to Monday.
        span = (end - start) % 7
        days.update((start + offset) % 7 for offset in range(span + 1))
    return frozenset(days)
