"""Who is on call: rotations, DST handoffs, restrictions, priorities, overrides and gaps."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from watchkeeper.core.schedule import (
    CalendarShift,
    Layer,
    Override,
    Restriction,
    Schedule,
    Shift,
    final_schedule,
    gaps,
    oncall_at,
    shifts_of,
    validate_users,
)
from watchkeeper.core.schedule_text import (
    ScheduleError,
    format_turn,
    parse_clock,
    parse_days,
    parse_turn,
    zone_named,
)

HOUR, DAY = timedelta(hours=1), timedelta(days=1)
NEW_YORK = zone_named("America/New_York")
BERLIN = zone_named("Europe/Berlin")
# DST in 2026: New York springs forward Sun 8 March, falls back Sun 1 November.
SPRING, FALL = datetime(2026, 3, 8), datetime(2026, 11, 1)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def local(zone_dt: datetime) -> datetime:
    return zone_dt.replace(tzinfo=NEW_YORK).astimezone(UTC)


def rotation(users: tuple[str, ...] = ("ann", "bob", "cid"), **kwargs: object) -> Layer:
    values: dict[str, object] = {"start": datetime(2026, 3, 1, 9, 0), **kwargs}
    return Layer("primary", users, **values)  # type: ignore[arg-type]


def one_layer(layer: Layer, zone: object = NEW_YORK) -> Schedule:
    return Schedule("ops", zone, (layer,))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("name", "local_time", "expected"),
    [
        ("before the layer starts", datetime(2026, 3, 1, 8, 59), ()),
        ("first turn begins at the handoff", datetime(2026, 3, 1, 9, 0), ("ann",)),
        ("second turn", datetime(2026, 3, 2, 9, 0), ("bob",)),
        ("just before a handoff", datetime(2026, 3, 3, 8, 59), ("bob",)),
        ("round robin wraps", datetime(2026, 3, 4, 12, 0), ("ann",)),
        # Spring forward on 8 March: the 09:00 handoff stays at 09:00 local (13:00 UTC).
        ("handoff on the spring-forward day", datetime(2026, 3, 8, 9, 0), ("bob",)),
        ("a year later", datetime(2027, 3, 1, 9, 0), (("ann", "bob", "cid")[365 % 3],)),
    ],
)
def test_daily_rotation(name: str, local_time: datetime, expected: tuple[str, ...]) -> None:
    assert oncall_at(one_layer(rotation()), local(local_time)) == expected, name


def test_daily_turns_across_dst_last_23_and_25_hours() -> None:
    schedule = one_layer(rotation())
    spring = final_schedule(
        schedule, local(datetime(2026, 3, 7, 9)), local(datetime(2026, 3, 9, 9))
    )
    assert [s.end - s.start for s in spring] == [23 * HOUR, 24 * HOUR]
    assert all(s.start.astimezone(NEW_YORK).hour == 9 for s in spring)
    fall = final_schedule(
        schedule, local(datetime(2026, 10, 31, 9)), local(datetime(2026, 11, 1, 9))
    )
    assert [s.end - s.start for s in fall] == [25 * HOUR]


def test_hour_based_turns_are_fixed_elapsed_time() -> None:
    # 12 h turns from 08:00 EST: every turn is exactly 12 h, so after spring forward the local
    # handoffs move from 08:00/20:00 to 09:00/21:00 (the documented rule).
    layer = rotation(("ann", "bob"), start=datetime(2026, 3, 6, 8, 0), turn=12 * HOUR)
    shifts = final_schedule(one_layer(layer), local(datetime(2026, 3, 6, 8)), utc(2026, 3, 10))
    assert {s.end - s.start for s in shifts[:-1]} == {12 * HOUR}
    assert [s.users for s in shifts[:4]] == [("ann",), ("bob",), ("ann",), ("bob",)]
    after = [s for s in shifts if s.start > utc(2026, 3, 8, 12)]
    assert {s.start.astimezone(NEW_YORK).hour for s in after} == {9, 21}


def test_weekly_turns_and_nonexistent_handoff_time() -> None:
    # Handoff at 02:30, which does not exist on 8 March in New York: it moves forward by the
    # skipped hour, to 03:30 EDT (07:30 UTC), half an hour after the jump (07:00 UTC).
    layer = rotation(("ann", "bob"), start=datetime(2026, 3, 1, 2, 30), turn=parse_turn("weekly"))
    schedule = one_layer(layer)
    assert oncall_at(schedule, utc(2026, 3, 8, 7, 0)) == ("ann",)  # the jump: not yet
    assert oncall_at(schedule, utc(2026, 3, 8, 7, 29)) == ("ann",)
    assert oncall_at(schedule, utc(2026, 3, 8, 7, 30)) == ("bob",)


def test_repeated_handoff_time_happens_at_first_occurrence() -> None:
    layer = rotation(("ann", "bob"), start=datetime(2026, 10, 31, 1, 30))
    schedule = one_layer(layer)
    first_0130 = utc(2026, 11, 1, 5, 30)  # 01:30 EDT
    assert oncall_at(schedule, first_0130 - timedelta(minutes=1)) == ("ann",)
    assert oncall_at(schedule, first_0130) == ("bob",)
    assert oncall_at(schedule, first_0130 + HOUR + timedelta(minutes=10)) == ("bob",)


@pytest.mark.parametrize(
    ("local_time", "on_call"),
    [
        (datetime(2026, 3, 2, 9, 0), True),  # Monday 09:00
        (datetime(2026, 3, 2, 16, 59), True),
        (datetime(2026, 3, 2, 17, 0), False),
        (datetime(2026, 3, 7, 12, 0), False),  # Saturday
    ],
)
def test_business_hours_restriction(local_time: datetime, on_call: bool) -> None:
    layer = rotation(restrictions=(Restriction.parse("mon-fri 09:00-17:00"),))
    assert bool(oncall_at(one_layer(layer), local(local_time))) is on_call


def test_restriction_crossing_midnight() -> None:
    layer = rotation(restrictions=(Restriction.parse("fri 22:00-06:00"),))
    schedule = one_layer(layer)
    assert oncall_at(schedule, local(datetime(2026, 3, 6, 23, 0))) != ()  # Friday night
    assert oncall_at(schedule, local(datetime(2026, 3, 7, 5, 59))) != ()  # Saturday morning
    assert oncall_at(schedule, local(datetime(2026, 3, 7, 6, 0))) == ()
    assert oncall_at(schedule, local(datetime(2026, 3, 5, 23, 0))) == ()  # Thursday
    shifts = final_schedule(schedule, utc(2026, 3, 6), utc(2026, 3, 8))
    # The 09:00 handoff on Saturday is outside the window, so the window is one shift.
    assert [(s.start, s.end) for s in shifts] == [
        (local(datetime(2026, 3, 6, 22)), local(datetime(2026, 3, 7, 6)))
    ]


def test_priority_and_ties() -> None:
    base = Layer("base", ("ann",), datetime(2026, 1, 1))
    day = Layer(
        "day",
        ("bob",),
        datetime(2026, 1, 1),
        priority=1,
        restrictions=(Restriction.parse("mon-fri 09:00-17:00"),),
    )
    tie = Layer(
        "tie",
        ("cid",),
        datetime(2026, 1, 1),
        priority=1,
        restrictions=(Restriction.parse("mon 12:00-13:00"),),
    )
    schedule = Schedule("ops", NEW_YORK, (base, day, tie))
    assert oncall_at(schedule, local(datetime(2026, 3, 2, 8))) == ("ann",)
    assert oncall_at(schedule, local(datetime(2026, 3, 2, 10))) == ("bob",)
    assert oncall_at(schedule, local(datetime(2026, 3, 2, 12, 30))) == ("cid",)
    lower_later = Schedule("ops", NEW_YORK, (day, base))  # a later layer of lower priority
    assert oncall_at(lower_later, local(datetime(2026, 3, 2, 10))) == ("bob",)
    shifts = final_schedule(
        schedule, local(datetime(2026, 3, 2, 8)), local(datetime(2026, 3, 2, 18))
    )
    assert [(s.users, s.layer) for s in shifts] == [
        (("ann",), "base"),
        (("bob",), "day"),
        (("cid",), "tie"),
        (("bob",), "day"),
        (("ann",), "base"),
    ]


def test_override_and_gaps() -> None:
    layer = rotation(restrictions=(Restriction.parse("mon-fri 09:00-17:00"),))
    override = Override("zed", local(datetime(2026, 3, 7, 10)), local(datetime(2026, 3, 7, 12)))
    schedule = Schedule("ops", NEW_YORK, (layer,), (override,))
    assert oncall_at(schedule, local(datetime(2026, 3, 7, 11))) == ("zed",)
    found = gaps(schedule, local(datetime(2026, 3, 6, 0)), local(datetime(2026, 3, 8, 0)))
    assert found == [
        (local(datetime(2026, 3, 6, 0)), local(datetime(2026, 3, 6, 9))),
        (local(datetime(2026, 3, 6, 17)), local(datetime(2026, 3, 7, 10))),
        (local(datetime(2026, 3, 7, 12)), local(datetime(2026, 3, 8, 0))),
    ]
    shifts = final_schedule(
        schedule, local(datetime(2026, 3, 7, 0)), local(datetime(2026, 3, 8, 0))
    )
    assert shifts == [Shift(("zed",), override.start, override.end, "override")]
    assert shifts_of(shifts, "zed") == shifts and shifts_of(shifts, "ann") == []


def test_calendar_shift_layer_allows_overlaps() -> None:
    layer = Layer(
        "imported",
        (),
        datetime(2026, 1, 1),
        shifts=(
            CalendarShift("bob", utc(2026, 3, 1, 12), utc(2026, 3, 2)),
            CalendarShift("ann", utc(2026, 3, 1), utc(2026, 3, 1, 18)),
        ),
    )
    schedule = one_layer(layer)
    assert oncall_at(schedule, utc(2026, 3, 1, 6)) == ("ann",)
    assert oncall_at(schedule, utc(2026, 3, 1, 13)) == ("ann", "bob")
    assert oncall_at(schedule, utc(2026, 3, 2)) == ()
    assert gaps(schedule, utc(2026, 3, 1), utc(2026, 3, 2)) == []
    assert validate_users(schedule, ["ann"]) == ["bob"]


@pytest.mark.parametrize(
    ("build", "field"),
    [
        (lambda: Layer("l", (), datetime(2026, 1, 1)), "layers.l.users"),
        (lambda: Layer("l", ("a",), datetime(2026, 1, 1), turn=timedelta(0)), "layers.l.turn"),
        (lambda: zone_named("Mars/Olympus"), "time_zone"),
        (lambda: parse_turn("fortnightly"), "turn"),
        (lambda: parse_days("mon-fry"), "days"),
        (lambda: parse_clock("25:00", "handoff"), "handoff"),
        (lambda: Restriction.parse("weekdays"), "restrictions"),
        (lambda: Override("a", utc(2026, 1, 2), utc(2026, 1, 1)), "overrides.end"),
        (lambda: Schedule("s", NEW_YORK, ()), "layers"),
    ],
)
def test_validation_names_the_field(build: object, field: str) -> None:
    with pytest.raises(ScheduleError) as caught:
        build()  # type: ignore[operator]
    assert caught.value.field == field


def test_parsers() -> None:
    assert parse_days("fri-mon") == {4, 5, 6, 0}
    assert parse_days("mon,wed-thu") == {0, 2, 3}
    assert parse_clock("24:00", "x") == 1440
    assert [format_turn(parse_turn(t)) for t in ("daily", "weekly", "12h", "3d")] == [
        "daily",
        "weekly",
        "12h",
        "3d",
    ]
    assert str(Restriction.parse("sat,sun 22:00-06:00")) == "sat,sun 22:00-06:00"


ZONES = st.sampled_from(["America/New_York", "Europe/Berlin", "Australia/Lord_Howe", "UTC"])
INSTANTS = st.datetimes(datetime(2026, 1, 1), datetime(2027, 12, 31)).map(
    lambda d: d.replace(tzinfo=UTC)
)


@settings(max_examples=60, deadline=None)
@given(
    zone=ZONES,
    users=st.lists(st.sampled_from("abcdef"), min_size=1, max_size=5).map(tuple),
    handoff=st.integers(0, 1439),
    turn=st.sampled_from([DAY, 7 * DAY, 3 * DAY, 12 * HOUR, 8 * HOUR, timedelta(minutes=90)]),
    start=INSTANTS,
)
def test_24_7_rotation_has_no_gaps_across_dst(
    zone: str, users: tuple[str, ...], handoff: int, turn: timedelta, start: datetime
) -> None:
    layer = Layer("l", users, datetime(2025, 12, 1) + timedelta(minutes=handoff), turn=turn)
    schedule = one_layer(layer, zone_named(zone))
    end = start + 40 * DAY  # long enough to cross a DST change in most draws
    assert gaps(schedule, start, end) == []
    shifts = final_schedule(schedule, start, end)
    assert shifts[0].start == start and shifts[-1].end == end
    for shift in shifts:
        assert oncall_at(schedule, shift.start) == shift.users
        assert oncall_at(schedule, shift.end - timedelta(microseconds=1)) == shift.users


@settings(max_examples=60, deadline=None)
@given(
    zone=ZONES,
    users=st.lists(st.text("xyz", min_size=1, max_size=3), min_size=1, max_size=6, unique=True),
    turn_days=st.integers(1, 14),
    index=st.integers(0, 400),
)
def test_turn_order_is_round_robin(zone: str, users: list[str], turn_days: int, index: int) -> None:
    tz = zone_named(zone)
    layer = Layer("l", tuple(users), datetime(2026, 1, 5, 9, 0), turn=turn_days * DAY)
    at = (datetime(2026, 1, 5, 9, 0) + index * turn_days * DAY).replace(tzinfo=tz)
    schedule = one_layer(layer, tz)
    assert oncall_at(schedule, at) == (users[index % len(users)],)
    assert oncall_at(schedule, at - timedelta(seconds=1)) == (
        (users[(index - 1) % len(users)],) if index else ()
    )


@settings(max_examples=60, deadline=None)
@given(at=INSTANTS, length=st.integers(1, 10_000), offset=st.integers(0, 9_999), zone=ZONES)
def test_an_override_always_wins(at: datetime, length: int, offset: int, zone: str) -> None:
    offset = offset % length
    start = at - timedelta(minutes=offset)
    override = Override("boss", start, start + timedelta(minutes=length))
    layers = (
        Layer("a", ("ann", "bob"), datetime(2026, 1, 1), turn=12 * HOUR, priority=5),
        Layer(
            "b",
            ("cid",),
            datetime(2026, 1, 1),
            restrictions=(Restriction.parse("sat 00:00-24:00"),),
        ),
    )
    schedule = Schedule("s", zone_named(zone), layers, (override,))
    assert oncall_at(schedule, at) == ("boss",)


RESTRICTIONS = st.sampled_from(
    ["mon-fri 09:00-17:00", "sat,sun 22:00-06:00", "daily 01:30-03:00", "sun 00:00-24:00"]
)


@settings(max_examples=60, deadline=None)
@given(
    zone=ZONES,
    turn=st.sampled_from([DAY, 7 * DAY, 12 * HOUR]),
    handoff=st.integers(0, 1439),
    restriction=RESTRICTIONS,
    override_at=st.integers(0, 20 * 24 * 60),
    start=st.datetimes(datetime(2026, 3, 1), datetime(2026, 11, 10)).map(
        lambda d: d.replace(tzinfo=UTC)
    ),
    probes=st.lists(st.integers(0, 21 * 24 * 60 - 1), min_size=1, max_size=30),
)
def test_final_schedule_agrees_with_oncall_at(
    zone: str,
    turn: timedelta,
    handoff: int,
    restriction: str,
    override_at: int,
    start: datetime,
    probes: list[int],
) -> None:
    begin = datetime(2026, 2, 2) + timedelta(minutes=handoff)
    layers = (
        Layer("base", ("ann", "bob", "cid"), begin, turn=turn),
        Layer(
            "part",
            ("dan", "eve"),
            begin,
            priority=1,
            restrictions=(Restriction.parse(restriction),),
        ),
        Layer("night", ("fay",), begin, restrictions=(Restriction.parse("daily 23:00-01:00"),)),
    )
    override_start = start + timedelta(minutes=override_at)
    schedule = Schedule(
        "s", zone_named(zone), layers, (Override("zed", override_start, override_start + 5 * HOUR),)
    )
    end = start + 21 * DAY
    shifts = final_schedule(schedule, start, end)
    for minutes in probes:
        at = start + timedelta(minutes=minutes)
        covering = [s for s in shifts if s.start <= at < s.end]
        expected = covering[0].users if covering else ()
        assert oncall_at(schedule, at) == expected
    for earlier, later in itertools.pairwise(shifts):
        assert earlier.end <= later.start
        assert (earlier.users, earlier.layer) != (
            later.users,
            later.layer,
        ) or earlier.end < later.start


def test_overlapping_overrides_put_both_on_call() -> None:
    long = Override("amy", utc(2026, 3, 1), utc(2026, 3, 10))
    short = Override("ben", utc(2026, 3, 5), utc(2026, 3, 6))
    schedule = Schedule("s", NEW_YORK, (rotation(),), (short, long))
    assert oncall_at(schedule, utc(2026, 3, 5, 12)) == ("amy", "ben")
    assert oncall_at(schedule, utc(2026, 3, 8)) == ("amy",)
    assert oncall_at(schedule, utc(2026, 3, 10)) == (
        "cid",
    )  # turn 8 (9 March 09:00 local): 8 % 3 = 2


@pytest.mark.parametrize(
    ("turn", "accepted"),
    [
        (timedelta(seconds=1), False),
        (timedelta(minutes=59), False),
        (timedelta(hours=1), True),
        (timedelta(minutes=90), True),
    ],
)
def test_a_rotation_turn_is_at_least_an_hour(turn: timedelta, accepted: bool) -> None:
    def build() -> Layer:
        return Layer("l", ("ann",), datetime(2026, 1, 1), turn=turn)

    if accepted:
        assert build().turn == turn
    else:
        with pytest.raises(ScheduleError, match=r"layers\.l\.turn: the turn must be at least 1h"):
            build()


def test_a_final_schedule_with_too_many_handoffs_names_the_span() -> None:
    hourly = Layer("l", ("ann", "bob"), datetime(2000, 1, 1), turn=timedelta(hours=1))
    schedule = Schedule("s", zone_named("UTC"), (hourly,))
    start = datetime(2026, 1, 1, tzinfo=UTC)
    # A year of hourly turns (8,760) is fine; 30 years (262,800) is past the cap.
    assert len(final_schedule(schedule, start, start + timedelta(days=365))) == 8760
    with pytest.raises(ScheduleError, match=r"span: 2026-01-01T00:00:00\+00:00 to 2055"):
        final_schedule(schedule, start, start + timedelta(days=30 * 365))
