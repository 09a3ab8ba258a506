"""Who is on call at an instant: layered rotations, restrictions and overrides in a time zone.

A schedule has layers and overrides. An override (a user for an interval) beats every layer.
Otherwise the highest-priority layer that covers the instant decides; among layers of equal
priority the later one wins. A layer covers an instant from its start onwards, and only inside
its restrictions when it has any.

Turn lengths and DST (the handoff rule):

- A turn of a whole number of days (``daily``, ``weekly``, ``3d``, ``2w``) hands off at the same
  LOCAL wall-clock time in the schedule's zone: a daily 09:00 handoff stays at 09:00 across a
  DST change, so the turn spanning the change lasts 23 h or 25 h. A handoff time that does not
  exist on a spring-forward day is moved forward by the hour the clocks skip (02:30 becomes
  03:30 local, half an hour after the jump);
  one that happens twice on a fall-back day happens at its first occurrence.
- Any other turn (``12h``, ``8h``, ``90m``) is a FIXED ELAPSED time counted from the layer's
  start instant: every turn lasts exactly that long, so across a DST change its local handoff
  times move by an hour (a 12 h rotation handing off at 08:00/20:00 in winter hands off at
  09:00/21:00 after spring forward).

The turn index is computed arithmetically (a division, then a correction of at most one turn
for DST), never by walking turns from the start, so a lookup costs the same a year on.
Everything here is pure: instants are timezone-aware and the zone is data.
"""

from __future__ import annotations

import bisect
import functools
import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from watchkeeper.core.duration import format_duration
from watchkeeper.core.schedule_text import (
    DAY,
    DAY_NAMES,
    MIN_TURN,
    MINUTES_PER_DAY,
    ScheduleError,
    parse_clock,
    parse_days,
)

MAX_HANDOFFS = 200_000
"""The most handoffs one final-schedule computation resolves."""
OVERRIDE = "override"


@dataclass(frozen=True)
class Restriction:
    """Local time windows on some weekdays; ``end <= start`` crosses midnight.

    ``start`` and ``end`` are minutes since local midnight; ``days`` are the weekdays
    (Monday 0) on which a window starts.
    """

    days: frozenset[int]
    start: int
    end: int

    def __post_init__(self) -> None:
        if not self.days:
            raise ScheduleError("restrictions.days", "at least one day is required")
        if not 0 <= self.start < MINUTES_PER_DAY or not 0 < self.end <= MINUTES_PER_DAY:
            raise ScheduleError("restrictions", "times must be between 00:00 and 24:00")

    @classmethod
    def parse(cls, text: str, field_name: str = "restrictions") -> Restriction:
        """Read ``mon-fri 09:00-17:00`` (days, then a local time range)."""
        parts = text.split()
        if len(parts) != 2 or "-" not in parts[1]:
            raise ScheduleError(field_name, f"{text!r} is not like 'mon-fri 09:00-17:00'")
        start, _, end = parts[1].partition("-")
        return cls(
            parse_days(parts[0], f"{field_name}.days"),
            parse_clock(start, f"{field_name}.start"),
            parse_clock(end, f"{field_name}.end"),
        )

    @property
    def length(self) -> timedelta:
        """The nominal length of one window (wall-clock)."""
        minutes = self.end - self.start if self.end > self.start else self.end + 1440 - self.start
        return timedelta(minutes=minutes)

    def __str__(self) -> str:
        days = ",".join(DAY_NAMES[d] for d in sorted(self.days))
        return f"{days} {_clock_text(self.start)}-{_clock_text(self.end)}"

    def windows(self, day: date, zone: ZoneInfo) -> tuple[datetime, datetime] | None:
        """The UTC window starting on local ``day``, if this restriction has one that day."""
        if day.weekday() not in self.days:
            return None
        return _window(self, day, zone)


# Lookups and final schedules ask for the same few days' windows over and over; converting
# local times to UTC is most of their cost.
@functools.lru_cache(maxsize=65_536)
def _window(restriction: Restriction, day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    opening = datetime.combine(day, time()) + timedelta(minutes=restriction.start)
    return _to_utc(opening, zone), _to_utc(opening + restriction.length, zone)


def _clock_text(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


@dataclass(frozen=True)
class CalendarShift:
    """An explicit shift (from an imported calendar): ``user`` on call in [start, end)."""

    user: str
    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise ScheduleError("shifts", f"shift of {self.user} ends before it starts")


@dataclass(frozen=True)
class Layer:
    """A rotation (or, for imported calendars, a list of explicit shifts).

    ``start`` is the handoff reference in LOCAL wall-clock time of the schedule's zone (naive);
    turn k starts at ``start + k * turn`` as the module docstring describes.
    """

    name: str
    users: tuple[str, ...]
    start: datetime
    turn: timedelta = DAY
    priority: int = 0
    restrictions: tuple[Restriction, ...] = ()
    shifts: tuple[CalendarShift, ...] = ()
    _starts: tuple[datetime, ...] = field(default=(), init=False, repr=False, compare=False)
    _longest: timedelta = field(default=timedelta(0), init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.name:
            raise ScheduleError("layers.name", "a layer needs a name")
        if self.start.tzinfo is not None:
            raise ScheduleError("layers.start", "the start is a local time without an offset")
        if not self.users and not self.shifts:
            raise ScheduleError(f"layers.{self.name}.users", "the rotation is empty")
        if self.turn <= timedelta(0):
            raise ScheduleError(f"layers.{self.name}.turn", "the turn must be positive")
        if self.turn < MIN_TURN and not self.shifts:
            # Each turn is a handoff the final schedule has to resolve: a turn of seconds
            # makes a week's schedule millions of points (PagerDuty's minimum is one hour).
            raise ScheduleError(
                f"layers.{self.name}.turn",
                f"the turn must be at least {format_duration(MIN_TURN)}, "
                f"not {format_duration(self.turn)}",
            )
        ordered = tuple(sorted(self.shifts, key=lambda s: s.start))
        object.__setattr__(self, "shifts", ordered)
        object.__setattr__(self, "_starts", tuple(s.start for s in ordered))
        longest = max((s.end - s.start for s in ordered), default=timedelta(0))
        object.__setattr__(self, "_longest", longest)

    @functools.cached_property
    def calendar_days(self) -> bool:
        """Whether turns are whole days (handoffs at a fixed local time)."""
        return self.turn % DAY == timedelta(0)

    def turn_start(self, index: int, zone: ZoneInfo) -> datetime:
        """The UTC instant turn ``index`` begins."""
        if self.calendar_days:
            return _to_utc(self.start + index * self.turn, zone)
        return _to_utc(self.start, zone) + index * self.turn

    def turn_index(self, at: datetime, zone: ZoneInfo) -> int:
        """The turn in progress at ``at`` (negative before the layer starts)."""
        if not self.calendar_days:
            return (at - _to_utc(self.start, zone)) // self.turn
        local = at.astimezone(zone).replace(tzinfo=None)
        index = (local - self.start) // self.turn
        # Wall-clock division is off by one at most around a DST change or a repeated hour.
        while self.turn_start(index + 1, zone) <= at:
            index += 1
        while self.turn_start(index, zone) > at:
            index -= 1
        return index

    def restricted_at(self, at: datetime, zone: ZoneInfo) -> bool:
        """Whether ``at`` is outside every restriction window (always False without any)."""
        if not self.restrictions:
            return False
        today = at.astimezone(zone).date()
        for restriction in self.restrictions:
            for back in range(_days_back(restriction)):
                window = restriction.windows(today - timedelta(days=back), zone)
                if window is not None and window[0] <= at < window[1]:
                    return False
        return True

    def users_at(self, at: datetime, zone: ZoneInfo) -> tuple[str, ...]:
        """Who this layer puts on call at ``at`` (empty when it does not cover it)."""
        if self.restricted_at(at, zone):
            return ()
        if self.shifts:
            return self._shift_users(at)
        if not self.users:
            return ()
        index = self.turn_index(at, zone)
        return () if index < 0 else (self.users[index % len(self.users)],)

    def _shift_users(self, at: datetime) -> tuple[str, ...]:
        found: list[str] = []
        position = bisect.bisect_right(self._starts, at) - 1
        while position >= 0 and at - self._starts[position] < self._longest:
            shift = self.shifts[position]
            if shift.end > at and shift.user not in found:
                found.append(shift.user)
            position -= 1
        found.reverse()
        return tuple(found)

    def boundaries(self, start: datetime, end: datetime, zone: ZoneInfo) -> set[datetime]:
        """Every instant in (start, end) where this layer's answer may change."""
        points: set[datetime] = set()
        if self.shifts:
            for shift in self.shifts:
                points.update(p for p in (shift.start, shift.end) if start < p < end)
        elif self.users:
            index = max(self.turn_index(start, zone) + 1, 0)
            point = self.turn_start(index, zone)
            while point < end:
                if point > start:
                    points.add(point)
                index += 1
                point = self.turn_start(index, zone)
        if self.restrictions:
            day = start.astimezone(zone).date() - timedelta(
                days=max(map(_days_back, self.restrictions))
            )
            last = end.astimezone(zone).date()
            while day <= last:
                for restriction in self.restrictions:
                    window = restriction.windows(day, zone)
                    if window is not None:
                        points.update(p for p in window if start < p < end)
                day += DAY
        return points


def _days_back(restriction: Restriction) -> int:
    # Windows longer than a day are impossible (at most 24 h), so a window covering an
    # instant started today or yesterday; one extra day covers a 25 h DST day.
    return 3 if restriction.end <= restriction.start else 2


@dataclass(frozen=True)
class Override:
    """``user`` is on call in [start, end), whatever the layers say."""

    user: str
    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ScheduleError("overrides", "override times need a UTC offset")
        if self.end <= self.start:
            raise ScheduleError("overrides.end", f"override of {self.user} ends before it starts")


@dataclass(frozen=True)
class Schedule:
    """A named schedule: layers and overrides in one IANA time zone."""

    name: str
    zone: ZoneInfo
    layers: tuple[Layer, ...]
    overrides: tuple[Override, ...] = ()
    _override_starts: tuple[datetime, ...] = field(
        default=(), init=False, repr=False, compare=False
    )
    _longest_override: timedelta = field(
        default=timedelta(0), init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        if not self.layers and not self.overrides:
            raise ScheduleError("layers", "a schedule needs at least one layer")
        names = [layer.name for layer in self.layers]
        for name in names:
            if names.count(name) > 1:
                raise ScheduleError("layers.name", f"layer {name!r} is defined twice")
        ordered = tuple(sorted(self.overrides, key=lambda o: (o.start, o.end)))
        object.__setattr__(self, "overrides", ordered)
        object.__setattr__(self, "_override_starts", tuple(o.start for o in ordered))
        longest = max((o.end - o.start for o in ordered), default=timedelta(0))
        object.__setattr__(self, "_longest_override", longest)

    def overriding_at(self, at: datetime) -> tuple[str, ...]:
        """The users of the overrides covering ``at``, earliest start first."""
        found: list[str] = []
        position = bisect.bisect_right(self._override_starts, at) - 1
        # Only overrides starting within the longest override's length can still cover ``at``.
        while position >= 0 and at - self._override_starts[position] < self._longest_override:
            override = self.overrides[position]
            if override.end > at:
                found.append(override.user)
            position -= 1
        return tuple(dict.fromkeys(reversed(found)))

    @property
    def time_zone(self) -> str:
        """The IANA name of the zone."""
        return self.zone.key

    @property
    def users(self) -> tuple[str, ...]:
        """Every user the schedule names, in first-mention order."""
        seen: dict[str, None] = {}
        for layer in self.layers:
            seen.update(dict.fromkeys(layer.users))
            seen.update(dict.fromkeys(s.user for s in layer.shifts))
        seen.update(dict.fromkeys(o.user for o in self.overrides))
        return tuple(seen)


@dataclass(frozen=True)
class Shift:
    """A stretch of the final schedule: who is on call, from when, until when, from which layer."""

    users: tuple[str, ...]
    start: datetime
    end: datetime
    layer: str


def _to_utc(local: datetime, zone: ZoneInfo) -> datetime:
    return local.replace(tzinfo=zone).astimezone(UTC)


def _aware(at: datetime, what: str) -> datetime:
    if at.tzinfo is None:
        raise ValueError(f"{what} must be timezone-aware")
    return at.astimezone(UTC)


def _resolve(schedule: Schedule, at: datetime) -> tuple[tuple[str, ...], str]:
    overriding = schedule.overriding_at(at)
    if overriding:
        return overriding, OVERRIDE
    best: tuple[str, ...] = ()
    best_layer = ""
    best_priority = 0
    for layer in schedule.layers:
        if best and layer.priority < best_priority:
            continue
        users = layer.users_at(at, schedule.zone)
        if users:  # equal priority: the later layer wins
            best, best_layer, best_priority = users, layer.name, layer.priority
    return best, best_layer


def oncall_at(schedule: Schedule, at: datetime) -> tuple[str, ...]:
    """The users on call at ``at`` (empty in a gap)."""
    return _resolve(schedule, _aware(at, "at"))[0]


def final_schedule(schedule: Schedule, start: datetime, end: datetime) -> list[Shift]:
    """The merged shifts of [start, end): overrides and layers resolved, gaps left out.

    Raises ScheduleError when the span holds more than MAX_HANDOFFS handoffs.
    """
    start, end = _aware(start, "start"), _aware(end, "end")
    if end <= start:
        return []
    expected = sum(_handoffs(layer, start, end, schedule.zone) for layer in schedule.layers)
    if expected > MAX_HANDOFFS:
        raise ScheduleError(
            "span",
            f"{start.isoformat()} to {end.isoformat()} holds about {expected} handoffs, "
            f"more than {MAX_HANDOFFS}: ask for a shorter span",
        )
    points: set[datetime] = {start, end}
    for layer in schedule.layers:
        points |= layer.boundaries(start, end, schedule.zone)
    for override in schedule.overrides:
        points.update(p for p in (override.start, override.end) if start < p < end)
    ordered = sorted(points)
    shifts: list[Shift] = []
    for begin, finish in itertools.pairwise(ordered):
        users, source = _resolve(schedule, begin)
        if not users:
            continue
        last = shifts[-1] if shifts else None
        if last is not None and last.end == begin and (last.users, last.layer) == (users, source):
            shifts[-1] = Shift(users, last.start, finish, source)
        else:
            shifts.append(Shift(users, begin, finish, source))
    return shifts


def _handoffs(layer: Layer, start: datetime, end: datetime, zone: ZoneInfo) -> int:
    """How many points a layer adds to [start, end), counted without listing them."""
    if layer.shifts:
        return 2 * len(layer.shifts)
    turns = max(layer.turn_index(end, zone) - max(layer.turn_index(start, zone), 0), 0)
    days = (end - start) // DAY + 2
    return turns + 2 * days * len(layer.restrictions)


def gaps(schedule: Schedule, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """The intervals of [start, end) when nobody is on call."""
    start, end = _aware(start, "start"), _aware(end, "end")
    return gaps_between(final_schedule(schedule, start, end), start, end)


def gaps_between(
    shifts: Sequence[Shift], start: datetime, end: datetime
) -> list[tuple[datetime, datetime]]:
    """The intervals of [start, end) that ordered ``shifts`` leave uncovered."""
    found: list[tuple[datetime, datetime]] = []
    cursor = start
    for shift in shifts:
        if shift.start > cursor:
            found.append((cursor, min(shift.start, end)))
        cursor = max(cursor, shift.end)
    if cursor < end:
        found.append((cursor, end))
    return found


def shifts_of(shifts: Iterable[Shift], user: str) -> list[Shift]:
    """The shifts in which ``user`` is on call."""
    return [shift for shift in shifts if user in shift.users]


def validate_users(schedule: Schedule, known: Sequence[str]) -> list[str]:
    """The users the schedule names that are not in ``known``, sorted."""
    known_set = set(known)
    return sorted(user for user in schedule.users if user not in known_set)
