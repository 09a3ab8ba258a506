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
from watchkeeper.oncall.documents import (
    IMPORTED,
    CalendarOrigin,
    calendar_origin,
    definition_of,
    read_text,
)
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
        session,
        name="imported",
        calendar=ROTATION,
        start=START,
        end=END,
        now=NOW,
        origin="rotation.ics",
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
        session,
        name="imported",
        calendar=ROTATION,
        start=START,
        end=END,
        now=NOW,
        origin="rotation.ics",
    )
    assert again.outcome == "unchanged"


def test_unknown_names_and_bad_files_are_refused(session: Session) -> None:
    people.create_user(session, name="ann", role="editor", now=NOW)
    with pytest.raises(InvalidCalendar, match="unknown users: bob"):
        service.import_calendar(
            session,
            name="x",
            calendar=ROTATION,
            start=START,
            end=END,
            now=NOW,
            origin="rotation.ics",
        )
    with pytest.raises(InvalidCalendar, match="not an iCalendar"):
        service.import_calendar(
            session,
            name="x",
            calendar=b"hello",
            start=START,
            end=END,
            now=NOW,
            origin="rotation.ics",
        )
    assert service.list_schedules(session) == []


def test_export_round_trips(session: Session) -> None:
    team(session)
    service.import_calendar(
        session,
        name="imported",
        calendar=ROTATION,
        start=START,
        end=END,
        now=NOW,
        origin="rotation.ics",
    )
    exported = service.schedule_ical(session, name="imported", start=START, end=END, now=NOW)
    events = list(icalendar.Calendar.from_ical(exported).walk("VEVENT"))
    assert [str(e["summary"]) for e in events] == ["ann", "bob", "bob", "ann", "bob", "ann"]
    assert events[0].decoded("dtstart") == datetime(2026, 3, 2, 14, tzinfo=UTC)
    bob = icalendar.Calendar.from_ical(
        service.user_ical(session, user="bob", start=START, end=END, now=NOW)
    ).walk("VEVENT")
    assert len(bob) == 3
    service.import_calendar(
        session,
        name="copy",
        calendar=exported,
        start=START,
        end=END,
        now=NOW,
        origin="rotation.ics",
    )
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


def test_import_records_its_source_and_where_its_shifts_end(session: Session) -> None:
    team(session)
    service.import_calendar(
        session,
        name="imported",
        calendar=ROTATION,
        start=START,
        end=END,
        now=NOW,
        origin="https://ann:secret@cal.example/private-key/basic.ics",
    )
    origin = service.calendar_end(session, name="imported")
    assert origin == CalendarOrigin("https://cal.example/private-key/basic.ics", END)
    assert service.calendar_ends(session) == {"imported": END}
    # The record is not part of the schedule: it still reads, and who is on call is unchanged.
    assert service.who(session, name="imported", at=datetime(2026, 3, 3, tzinfo=UTC)) == ("ann",)
    assert service.who(session, name="imported", at=END) == ()
    # Applying YAML over it makes it an ordinary schedule again: nothing runs out.
    applied = read_text(
        "kind: Schedule\nname: imported\ntime_zone: UTC\nlayers:\n"
        "  - {name: weekly, users: [ann], start: 2026-03-01, turn: weekly}\n",
        "team.yaml",
    )
    service.apply(session, documents=applied, now=NOW)
    assert service.calendar_end(session, name="imported") is None
    assert service.calendar_ends(session) == {}


@pytest.mark.parametrize(
    ("stored", "expected"),
    [
        pytest.param(
            {"source": "a.ics", "covered_until": "2026-04-15T00:00:00Z"},
            CalendarOrigin("a.ics", END),
            id="recorded",
        ),
        pytest.param(
            {"source": "a.ics", "covered_until": "2026-04-14T20:00:00-04:00"},
            CalendarOrigin("a.ics", END),
            id="offset-normalised-to-utc",
        ),
        pytest.param(None, None, id="yaml-schedule"),
        pytest.param({"source": "a.ics"}, None, id="no-end"),
        pytest.param({"source": "a.ics", "covered_until": "soon"}, None, id="unreadable-end"),
        pytest.param(
            {"source": "a.ics", "covered_until": "2026-04-15T00:00:00"}, None, id="no-zone"
        ),
    ],
)
def test_calendar_origin_reads_only_a_well_formed_record(
    stored: dict[str, str] | None, expected: CalendarOrigin | None
) -> None:
    document: dict[str, object] = {"name": "x", "time_zone": "UTC", "layers": []}
    if stored is not None:
        document[IMPORTED] = stored
    assert calendar_origin(document) == expected
    assert IMPORTED not in definition_of(document)


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("/etc/oncall/team.ics", "/etc/oncall/team.ics"),
        ("https://cal.example/a.ics?key=1", "https://cal.example/a.ics?key=1"),
        ("https://u:p@cal.example:8443/a.ics", "https://cal.example:8443/a.ics"),
        ("http://u@cal.example/a.ics", "http://cal.example/a.ics"),
    ],
)
def test_a_urls_credentials_are_not_stored(given: str, stored: str) -> None:
    assert service.shown_origin(given) == stored
