"""Adding overrides to stored schedules, and every schedule's coverage over a span."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from watchkeeper.auth import people
from watchkeeper.auth.exceptions import UserNotFound
from watchkeeper.errors import InvalidInput
from watchkeeper.oncall import service
from watchkeeper.oncall.coverage import coverage
from watchkeeper.oncall.documents import CalendarOrigin, read_text
from watchkeeper.oncall.exceptions import ScheduleNotFound
from watchkeeper.oncall.overrides import add_override

NOW = datetime(2026, 3, 2, tzinfo=UTC)  # a Monday
WORKDAYS = """
kind: Schedule
name: office
time_zone: UTC
layers:
  - name: day
    users: [ann]
    start: 2026-01-05T09:00
    turn: daily
    restrictions:
      - mon-fri 09:00-17:00
"""


def office(session: Session) -> None:
    for name in ("ann", "bob"):
        people.create_user(session, name=name, role="editor", now=NOW)
    service.apply(session, documents=read_text(WORKDAYS, "office.yaml"), now=NOW)


def test_an_override_fills_a_gap_and_is_stored_with_the_schedule(session: Session) -> None:
    office(session)
    night = datetime(2026, 3, 2, 20, tzinfo=UTC)
    assert service.who(session, name="office", at=night) == ()
    add_override(
        session, schedule="office", user="bob", start=night, end=night + timedelta(hours=2), now=NOW
    )
    assert service.who(session, name="office", at=night) == ("bob",)
    assert service.who(session, name="office", at=night + timedelta(hours=2)) == ()
    record = service.schedule_record(session, name="office")
    assert record.spec["overrides"] == [
        {"user": "bob", "start": "2026-03-02T20:00:00Z", "end": "2026-03-02T22:00:00Z"}
    ]
    assert record.source == "yaml"


def test_an_imported_schedule_keeps_its_origin(session: Session) -> None:
    office(session)
    until = datetime(2026, 6, 1, tzinfo=UTC)
    service.store_schedule(
        session,
        schedule=service.schedule(session, name="office"),
        source="ical",
        now=NOW,
        origin=CalendarOrigin("https://cal.example/feed.ics", until),
    )
    start = datetime(2026, 3, 3, tzinfo=UTC)
    add_override(
        session, schedule="office", user="bob", start=start, end=start + timedelta(hours=1), now=NOW
    )
    assert service.calendar_end(session, name="office") == CalendarOrigin(
        "https://cal.example/feed.ics", until
    )
    assert service.schedule_record(session, name="office").source == "ical"


@pytest.mark.parametrize(
    ("kwargs", "error", "words"),
    [
        ({"user": "nobody"}, UserNotFound, "no user named"),
        ({"schedule": "nope"}, ScheduleNotFound, "no schedule named"),
        ({"end": datetime(2026, 3, 3, 9, tzinfo=UTC)}, InvalidInput, "end: must be after"),
        ({"end": datetime(2027, 6, 1, tzinfo=UTC)}, InvalidInput, "at most 366 days"),
        ({"start": datetime(2026, 3, 3, 10)}, InvalidInput, "UTC offset"),
        (
            {"start": datetime(2026, 2, 1, tzinfo=UTC), "end": datetime(2026, 2, 2, tzinfo=UTC)},
            InvalidInput,
            "already be over",
        ),
    ],
)
def test_bad_overrides_are_refused(
    session: Session, kwargs: dict[str, object], error: type[Exception], words: str
) -> None:
    office(session)
    arguments: dict[str, object] = {
        "schedule": "office",
        "user": "bob",
        "start": datetime(2026, 3, 3, 10, tzinfo=UTC),
        "end": datetime(2026, 3, 3, 12, tzinfo=UTC),
        **kwargs,
    }
    with pytest.raises(error, match=words):
        add_override(session, now=NOW, **arguments)  # type: ignore[arg-type]
    assert "overrides" not in service.schedule_record(session, name="office").spec


def test_coverage_gives_shifts_gaps_and_who_is_on_call(session: Session) -> None:
    office(session)
    monday, tuesday = NOW, NOW + timedelta(days=1)
    total, found = coverage(session, start=monday, end=tuesday, now=NOW + timedelta(hours=10))
    assert total == 1
    (day,) = found
    assert day.error is None and day.oncall_now == ("ann",)
    assert [(s.users, s.start.hour, s.end.hour) for s in day.shifts if s.users] == [
        (("ann",), 9, 17)
    ]
    assert day.gaps == [
        (monday, monday + timedelta(hours=9)),
        (monday + timedelta(hours=17), tuesday),
    ]


def test_coverage_pages_by_name_and_shows_an_unreadable_schedule_failing(
    session: Session,
) -> None:
    office(session)
    for name in ("b-team", "c-team"):
        service.apply(
            session, documents=read_text(WORKDAYS.replace("office", name), "x.yaml"), now=NOW
        )
    broken = service.schedule_record(session, name="c-team")
    broken.spec = {**broken.spec, "layers": [{"name": "day", "users": ["ann"], "turn": "never"}]}
    session.flush()
    total, found = coverage(
        session, start=NOW, end=NOW + timedelta(days=1), now=NOW, offset=1, limit=5
    )
    assert total == 3
    assert [c.name for c in found] == ["c-team", "office"]
    assert found[0].error and not found[0].shifts
    assert found[1].error is None
