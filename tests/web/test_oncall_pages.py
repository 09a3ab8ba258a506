"""The on-call page: days in the viewer's zone, gaps, overrides, escalation policies, iCal."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import icalendar
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tests.web.signing import Browser, make_user, signed_in
from watchkeeper.auth import people, sessions
from watchkeeper.oncall import service
from watchkeeper.oncall.documents import read_text
from watchkeeper.web.access import SESSION_COOKIE
from watchkeeper.web.oncall_pages import span_of

# Monday 9 March 2026: Berlin is UTC+1 until the 29th.
WEEK = "2026-03-09"
XSS = "<script>alert(1)</script>"
TEAM = f"""
kind: Schedule
name: office
time_zone: UTC
layers:
  - name: day
    users: [ann, bob]
    start: 2026-01-05T09:00
    turn: daily
    restrictions:
      - mon-fri 09:00-17:00
overrides:
  - user: bob
    start: 2026-03-14T10:00:00Z
    end: 2026-03-14T12:00:00Z
---
kind: Schedule
name: always
time_zone: UTC
layers:
  - name: weekly
    users: [ann]
    start: 2026-01-05
    turn: weekly
---
kind: EscalationPolicy
name: checkout
repeat: 1
steps:
  - wait: 15m
    targets:
      - schedule: office
  - wait: 30m
    targets:
      - user: ann
      - channel: "webhook:https://hooks.example/secret-path"
      - channel: "console:{XSS}"
"""


def team(session_factory: sessionmaker[Session]) -> None:
    """Users ann and bob, two schedules and a policy, committed."""
    make_user(session_factory, "ann", "editor")
    make_user(session_factory, "bob", "editor")
    with session_factory() as session:
        documents = read_text(TEAM, "team.yaml")
        assert not documents.problems, documents.problems
        service.apply(session, documents=documents, now=datetime.now(UTC))
        session.commit()


def sign_in_as(client: TestClient, session_factory: sessionmaker[Session], name: str) -> Browser:
    """A session cookie for the existing user ``name``."""
    with session_factory() as session:
        issued = sessions.open_session(
            session,
            user=people.get_user(session, name=name),
            address="testclient",
            user_agent="",
            now=datetime.now(UTC),
            rules=sessions.SessionRules(),
        )
        session.commit()
    client.cookies.set(SESSION_COOKIE, issued.secret)
    return Browser(client=client, name=name, csrf_token=issued.csrf_token)


def schedule_card(page: str, name: str) -> str:
    found = re.search(rf'<section [^>]*data-schedule="{name}">(.*?)</section>', page, re.S)
    assert found is not None, page
    return found.group(1)


def day_row(card: str, day: str) -> str:
    found = re.search(rf'<tr[^>]*data-day="{day}">(.*?)</tr>', card, re.S)
    assert found is not None, card
    return found.group(1)


def test_without_schedules_the_page_says_how_to_add_one(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    signed_in(client, session_factory, role="viewer")
    page = client.get("/oncall")
    assert page.status_code == 200
    assert "No schedules yet" in page.text and "watchkeeper oncall apply" in page.text
    assert "No escalation policies yet" in page.text


def test_a_week_lists_shifts_and_highlights_gaps(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    team(session_factory)
    signed_in(client, session_factory, role="viewer")
    page = client.get(f"/oncall?start={WEEK}")
    assert page.status_code == 200
    office = schedule_card(page.text, "office")
    assert len(re.findall(r"data-day=", office)) == 7
    # Monday: uncovered before 09:00 and after 17:00, someone on call in between.
    monday = day_row(office, "2026-03-09")
    assert re.search(r'class="gap"><span class="when">00:00&ndash;09:00</span>', monday)
    assert re.search(r"09:00&ndash;17:00</span> <strong>(ann|bob)</strong>", monday)
    assert re.search(r'class="gap"><span class="when">17:00&ndash;24:00</span>', monday)
    # Saturday: a gap all day but bob's override from 10:00 to 12:00.
    saturday = day_row(office, "2026-03-14")
    assert "10:00&ndash;12:00</span> <strong>bob</strong>" in saturday
    assert "00:00&ndash;10:00" in saturday and "12:00&ndash;24:00" in saturday
    assert 'data-gaps="' in office and 'data-gaps="0"' not in office
    # The override is listed, the always-covered schedule has no gap banner.
    assert "<strong>bob</strong> from 2026-03-14 10:00 UTC to 2026-03-14 12:00 UTC" in office
    always = schedule_card(page.text, "always")
    assert 'data-gaps="0"' in always and 'class="gap"' not in always
    assert "00:00&ndash;24:00</span> <strong>ann</strong>" in day_row(always, "2026-03-10")


def test_days_are_cut_at_the_viewers_midnight(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    team(session_factory)
    make_user(session_factory, "berliner", "viewer", time_zone="Europe/Berlin")
    sign_in_as(client, session_factory, "berliner")
    page = client.get(f"/oncall?start={WEEK}").text
    monday = day_row(schedule_card(page, "office"), "2026-03-09")
    # 09:00-17:00 UTC is 10:00-18:00 in Berlin in March.
    assert re.search(r"10:00&ndash;18:00</span> <strong>(ann|bob)</strong>", monday)
    assert "times in Europe/Berlin" in page


def test_month_view_and_navigation(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    team(session_factory)
    signed_in(client, session_factory, role="viewer")
    page = client.get("/oncall?view=month&start=2026-02-17").text
    always = schedule_card(page, "always")
    assert len(re.findall(r"data-day=", always)) == 28
    assert 'data-day="2026-02-01"' in always and 'data-day="2026-02-28"' in always
    assert "start=2026-01-01" in page and "start=2026-03-01" in page  # previous, next


@pytest.mark.parametrize(
    ("query", "field"),
    [("view=year", "view"), ("start=2026-13-01", "start"), ("page=abc", "page")],
)
def test_bad_query_values_name_the_field(
    client: TestClient, session_factory: sessionmaker[Session], query: str, field: str
) -> None:
    signed_in(client, session_factory, role="viewer")
    page = client.get(f"/oncall?{query}")
    assert page.status_code == 422
    assert f"{field}:" in page.text and "<html" in page.text


def test_policies_show_steps_and_hide_channel_secrets_from_non_admins(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    team(session_factory)
    signed_in(client, session_factory, role="viewer")
    page = client.get(f"/oncall?start={WEEK}").text
    policy = re.search(r'data-policy="checkout">(.*?)</article>', page, re.S)
    assert policy is not None
    assert "Notify schedule office, then wait 15m" in policy.group(1)
    assert "user ann" in policy.group(1) and "Runs the steps 2 times in all" in policy.group(1)
    assert "secret-path" not in page and "hooks.example" in page
    assert XSS not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_admins_see_channel_addresses_in_full(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    team(session_factory)
    signed_in(client, session_factory, role="admin")
    assert "https://hooks.example/secret-path" in client.get("/oncall").text


def override_fields(start: datetime, end: datetime) -> dict[str, str]:
    return {
        "schedule": "office",
        "user": "bob",
        "start": start.strftime("%Y-%m-%dT%H:%M"),
        "end": end.strftime("%Y-%m-%dT%H:%M"),
    }


@pytest.mark.parametrize("role", ["viewer", "responder"])
def test_roles_below_editor_may_not_add_overrides(
    client: TestClient, session_factory: sessionmaker[Session], role: str
) -> None:
    team(session_factory)
    browser = signed_in(client, session_factory, role=role)
    assert "Add an override" not in client.get("/oncall").text
    soon = datetime.now(UTC) + timedelta(days=1)
    refused = browser.post_form(
        "/oncall/overrides", override_fields(soon, soon + timedelta(hours=2))
    )
    assert refused.status_code == 403  # type: ignore[attr-defined]
    assert "editor" in refused.text  # type: ignore[attr-defined]


def test_an_editor_adds_an_override(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    team(session_factory)
    make_user(session_factory, "tokyo", "editor", time_zone="Asia/Tokyo")
    browser = sign_in_as(client, session_factory, "tokyo")
    assert "Add an override" in client.get("/oncall").text
    # Saturday 20 March 2027, 03:00-05:00 in Tokyo is Friday 18:00-20:00 UTC: a gap till now.
    start = datetime(2027, 3, 20, 3, 0)
    fields = override_fields(start, start + timedelta(hours=2))
    without_token = client.post("/oncall/overrides", data=fields, follow_redirects=False)
    assert without_token.status_code == 403
    done = browser.post_form("/oncall/overrides", {**fields, "view": "month", "start_day": "x"})
    assert done.status_code == 303  # type: ignore[attr-defined]
    assert done.headers["location"] == "/oncall?view=month#overrides"  # type: ignore[attr-defined]
    with session_factory() as session:
        at = datetime(2027, 3, 19, 19, tzinfo=UTC)
        assert service.who(session, name="office", at=at) == ("bob",)
        assert service.who(session, name="office", at=at + timedelta(hours=2)) == ()
    page = client.get("/oncall?start=2027-03-15").text
    assert "<strong>bob</strong> from 2027-03-20 03:00 JST to 2027-03-20 05:00 JST" in page


@pytest.mark.parametrize(
    ("change", "status", "words"),
    [
        ({"user": "nobody"}, 404, "no user named"),
        ({"schedule": "nope"}, 404, "no schedule named"),
        ({"end": "2027-03-20T01:00"}, 422, "end: must be after start"),
        ({"start": "tomorrow"}, 422, "start:"),
        ({"end": "2020-01-01T01:00", "start": "2020-01-01T00:00"}, 422, "already be over"),
    ],
)
def test_bad_overrides_are_refused_naming_the_field(
    client: TestClient,
    session_factory: sessionmaker[Session],
    change: dict[str, str],
    status: int,
    words: str,
) -> None:
    team(session_factory)
    browser = signed_in(client, session_factory, role="editor")
    start = datetime(2027, 3, 20, 3, 0)
    fields = {**override_fields(start, start + timedelta(hours=2)), **change}
    refused = browser.post_form("/oncall/overrides", fields)
    assert refused.status_code == status  # type: ignore[attr-defined]
    assert words in refused.text  # type: ignore[attr-defined]


def test_calendar_downloads_for_a_signed_in_browser(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    team(session_factory)
    assert client.get("/oncall/my-shifts.ics", follow_redirects=False).status_code == 303
    sign_in_as(client, session_factory, "ann")
    page = client.get("/oncall").text
    assert "/oncall/schedules/always/calendar.ics" in page
    assert "/api/v1/schedules/always/ical" in page
    feed = client.get("/oncall/schedules/always/calendar.ics")
    assert feed.status_code == 200 and feed.headers["content-type"].startswith("text/calendar")
    events = icalendar.Calendar.from_ical(feed.content).walk("VEVENT")
    assert events and all("ann" in str(e["SUMMARY"]) for e in events)
    mine = client.get("/oncall/my-shifts.ics")
    assert mine.status_code == 200 and icalendar.Calendar.from_ical(mine.content).walk("VEVENT")
    assert client.get("/oncall/schedules/nope/calendar.ics").status_code == 404


def test_span_of_weeks_start_on_monday_and_months_on_the_first() -> None:
    week = span_of("week", "2026-03-12", date(2000, 1, 1))
    assert (week.first, week.last, week.previous, week.following) == (
        date(2026, 3, 9),
        date(2026, 3, 15),
        date(2026, 3, 2),
        date(2026, 3, 16),
    )
    month = span_of("month", "2024-02-10", date(2000, 1, 1))
    assert (month.first, month.days, month.previous, month.following) == (
        date(2024, 2, 1),
        29,
        date(2024, 1, 1),
        date(2024, 3, 1),
    )
    assert span_of(None, None, date(2026, 3, 1)).first == date(2026, 2, 23)
