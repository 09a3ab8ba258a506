"""iCalendar export and import: recurring rotations in, one VEVENT per shift out, round trip."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import icalendar
import pytest
from sqlalchemy.orm import Session

from watchkeeper.auth import people
from watchkeeper.oncall import ical, service
from watchkeeper.oncall.documents import read_text
from watchkeeper.oncall.exceptions import InvalidCalendar

NOW = datetime(2026, 3, 1, tzinfo=UTC)
ROTATION = (Path(__file__).parent / "data" / "rotation.ics").read_bytes()
START, END = datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 4, 15, tzinfo=UTC)


def team(session: Session) -> None:
    for name in ("ann", "bob"):
        people.create_user(session, name=name, role="editor", now=NOW)


def test_import_expands_rrule_and_exdate(session: Session) -> None:
    team(session)
    result = service.import_calendar(
        session, name="imported", calendar=ROTATION, start=START, end=END, now=NOW
    )
    assert (result.outcome, result.time_zone, result.shifts) == ("created", "America/New_York", 6)
    # ann every other week from 2 March 09:00 New York, except 16 March (EXDATE): a gap.
    assert service.who(session, name="imported", at=datetime(2026, 3, 3, tzinfo=UTC)) == ("ann",)
    assert service.who(session, name="imported", at=datetime(2026, 3, 10, tzinfo=UTC)) == ("bob",)
    assert service.who(session, name="imported", at=datetime(2026, 3, 17, tzinfo=UTC)) == ()
    _, holes = service.final(session, name="imported", start=START, end=END)
    # 09:00 EDT after the 8 March change is 13:00 UTC.
    assert holes[1] == (
        datetime(2026, 3, 16, 13, tzinfo=UTC),
        datetime(2026, 3, 23, 13, tzinfo=UTC),
    )
    again = service.import_calendar(
        session, name="imported", calendar=ROTATION, start=START, end=END, now=NOW
    )
    assert again.outcome == "unchanged"


def test_unknown_names_and_bad_files_are_refused(session: Session) -> None:
    people.create_user(session, name="ann", role="editor", now=NOW)
    with pytest.raises(InvalidCalendar, match="unknown users: bob"):
        service.import_calendar(session, name="x", calendar=ROTATION, start=START, end=END, now=NOW)
    with pytest.raises(InvalidCalendar, match="not an iCalendar"):
        service.import_calendar(session, name="x", calendar=b"hello", start=START, end=END, now=NOW)
    assert service.list_schedules(session) == []


def test_export_round_trips(session: Session) -> None:
    team(session)
    service.import_calendar(
        session, name="imported", calendar=ROTATION, start=START, end=END, now=NOW
    )
    exported = service.schedule_ical(session, name="imported", start=START, end=END, now=NOW)
    events = list(icalendar.Calendar.from_ical(exported).walk("VEVENT"))
    assert [str(e["summary"]) for e in events] == ["ann", "bob", "bob", "ann", "bob", "ann"]
    assert events[0].decoded("dtstart") == datetime(2026, 3, 2, 14, tzinfo=UTC)
    bob = icalendar.Calendar.from_ical(
        service.user_ical(session, user="bob", start=START, end=END, now=NOW)
    ).walk("VEVENT")
    assert len(bob) == 3
    service.import_calendar(session, name="copy", calendar=exported, start=START, end=END, now=NOW)
    assert (
        service.final(session, name="copy", start=START, end=END)[0]
        == service.final(session, name="imported", start=START, end=END)[0]
    )


def test_fetch_over_http_with_a_size_limit() -> None:
    from fastapi import FastAPI, Response

    from tests.live_server import serving
    from watchkeeper.oncall.ical import fetch

    feed = FastAPI()

    @feed.get("/team.ics")
    def calendar() -> Response:
        return Response(ROTATION, media_type="text/calendar")

    with serving(feed) as base:
        assert fetch(f"{base}/team.ics", timeout=5, max_bytes=len(ROTATION)) == ROTATION
        with pytest.raises(InvalidCalendar, match="larger than"):
            fetch(f"{base}/team.ics", timeout=5, max_bytes=100)
        with pytest.raises(InvalidCalendar, match="HTTP 404"):
            fetch(f"{base}/missing.ics", timeout=5, max_bytes=10_000)


def test_a_calendar_of_too_many_occurrences_names_the_event() -> None:
    secondly = (
        b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\nX-WR-TIMEZONE:Europe/Paris\r\n"
        b"BEGIN:VEVENT\r\nUID:flood@example\r\nSUMMARY:ann\r\nDTSTART:20260301T000000Z\r\n"
        b"DTEND:20260301T000001Z\r\nRRULE:FREQ=SECONDLY\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    start = datetime(2026, 3, 1, tzinfo=UTC)
    assert ical.zone_hint(secondly) == "Europe/Paris"
    with pytest.raises(InvalidCalendar, match=r"the event 'ann' \(UID flood@example\) .* 10000"):
        ical.read_calendar(
            secondly, zone=ZoneInfo("UTC"), start=start, end=datetime(2026, 3, 2, tzinfo=UTC)
        )
    # Ten minutes of it (600 shifts) are under the cap.
    hour = ical.read_calendar(
        secondly, zone=ZoneInfo("UTC"), start=start, end=datetime(2026, 3, 1, 0, 10, tzinfo=UTC)
    )
    assert len(hour.shifts) == 600


def test_an_export_shows_shifts_whole_with_stable_uids(session: Session) -> None:
    people.create_user(session, name="ann", role="editor", now=NOW)
    people.create_user(session, name="bob", role="editor", now=NOW)
    service.apply(
        session,
        documents=read_text(
            "kind: Schedule\nname: s\ntime_zone: UTC\nlayers:\n  - name: l\n"
            "    start: 2026-01-01T09:00:00\n    users: [ann, bob]\n    turn: weekly\n",
            "team.yaml",
        ),
        now=NOW,
    )

    def first_event(start: datetime) -> icalendar.Event:
        data = service.schedule_ical(
            session, name="s", start=start, end=start + timedelta(days=2), now=NOW
        )
        event: icalendar.Event = icalendar.Calendar.from_ical(data).walk("VEVENT")[0]
        return event

    morning = first_event(datetime(2026, 1, 3, 6, tzinfo=UTC))
    evening = first_event(datetime(2026, 1, 3, 18, tzinfo=UTC))
    assert morning.decoded("dtstart") == datetime(2026, 1, 1, 9, tzinfo=UTC)
    assert str(morning["uid"]) == str(evening["uid"])
    assert morning.decoded("dtstamp") == NOW
