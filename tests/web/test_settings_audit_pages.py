"""Settings pages for the audit log (admins) and teams (read by all, changed by admins)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tests.web.signing import make_user, signed_in
from tests.web.test_oncall_pages import sign_in_as
from tests.web.test_oncall_pages import team as on_call_world
from watchkeeper.auth import audit, teams
from watchkeeper.auth.models import AuditEvent
from watchkeeper.flows import teams as team_flows

BELOW_ADMIN = ["viewer", "responder", "editor"]
XSS = "<script>alert(1)</script>"

# (path, form fields) of every change form on the teams page, against world()
TEAM_CHANGES = [
    ("/settings/teams", {"name": "search"}),
    ("/settings/teams/delete", {"team": "payments"}),
    ("/settings/teams/members", {"team": "payments", "user": "bob"}),
    ("/settings/teams/members/remove", {"team": "payments", "user": "ann"}),
    ("/settings/teams/own", {"team": "payments", "kind": "schedule", "name": "always"}),
    ("/settings/teams/release", {"team": "payments", "kind": "schedule", "name": "office"}),
]


def world(session_factory: sessionmaker[Session]) -> None:
    """Users ann and bob, schedules office and always, policy checkout; team payments with
    member ann owning schedule office and service checkout."""
    on_call_world(session_factory)
    with session_factory() as session:
        now = datetime.now(UTC)
        teams.create_team(session, name="payments", now=now)
        teams.add_member(session, team="payments", user="ann", now=now)
        team_flows.set_owner(session, team="payments", schedule="office", now=now)
        team_flows.set_owner(session, team="payments", service="checkout", now=now)
        session.commit()


def record(
    session_factory: sessionmaker[Session],
    *,
    count: int = 1,
    at: datetime | None = None,
    actor: str = "kim",
    object_type: str = "slo",
    summary: str = "updated slo checkout/availability: objective",
) -> None:
    """Audit events written straight to the table, ``count`` of them a minute apart."""
    start = at or datetime(2026, 3, 1, 12, tzinfo=UTC)
    with session_factory() as session:
        for index in range(count):
            session.add(
                AuditEvent(
                    at=start + timedelta(minutes=index),
                    actor_kind="user",
                    actor_name=actor,
                    action="update",
                    object_type=object_type,
                    object_id=f"{index + 1}",
                    summary=f"{summary} #{index}",
                    before={"objective": 0.99, "note": summary},
                    after={"objective": 0.999},
                )
            )
        session.commit()


def event_ids(page: str) -> list[int]:
    return [int(found) for found in re.findall(r'data-event="(\d+)"', page)]


# -- audit log -----------------------------------------------------------------------------


@pytest.mark.parametrize("role", BELOW_ADMIN)
@pytest.mark.parametrize("path", ["/settings/audit", "/settings/audit/export.json"])
def test_the_audit_log_is_for_admins(
    client: TestClient, session_factory: sessionmaker[Session], role: str, path: str
) -> None:
    record(session_factory, summary="secret change")
    signed_in(client, session_factory, role=role)
    refused = client.get(path)
    assert refused.status_code == 403
    assert "this needs one of: admin" in refused.text and "secret change" not in refused.text
    assert 'href="/settings/audit"' not in client.get("/settings").text


def test_an_admin_sees_changes_made_on_pages_newest_first_as_the_signed_in_user(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    world(session_factory)
    browser = signed_in(client, session_factory, role="admin", name="root")
    assert browser.post_form("/settings/teams", {"name": "search"}).status_code == 303  # type: ignore[attr-defined]
    browser.post_form("/settings/teams/members", {"team": "search", "user": "bob"})
    assert 'href="/settings/audit"' in client.get("/settings").text
    page = client.get("/settings/audit")
    assert page.status_code == 200
    rows = re.findall(r"<tr data-event=.*?</tr>", page.text, re.S)
    assert "created team_member user &#39;bob&#39; of team &#39;search&#39;" in rows[0]
    assert "created team search" in rows[1]
    assert "root" in rows[0] and ">user</span>" in rows[0]
    assert "<details>" in rows[1] and "&#34;name&#34;:&#34;search&#34;" in rows[1]


def test_summaries_and_values_render_escaped(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    record(session_factory, summary=XSS)
    signed_in(client, session_factory, role="admin")
    page = client.get("/settings/audit").text
    assert XSS not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; #0" in page


def test_the_audit_log_without_changes_says_where_they_come_from(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    signed_in(client, session_factory, role="admin")
    page = client.get("/settings/audit").text
    assert "No changes recorded yet" in page
    assert "No changes match" in client.get("/settings/audit?actor=nobody").text


def test_filters_by_actor_type_and_time_in_the_viewers_zone(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    # 12:00 to 12:04 UTC on 1 March 2026 is 21:00 to 21:04 in Tokyo.
    record(session_factory, count=5)
    record(session_factory, actor="lee", object_type="team", at=datetime(2026, 3, 2, tzinfo=UTC))
    make_user(session_factory, "tokyo", "admin", time_zone="Asia/Tokyo")
    with session_factory() as session:
        ids = [row.id for row in audit.list_events(session)]
    signed_in(client, session_factory, role="admin")
    lee_only = client.get("/settings/audit?actor=lee").text
    assert event_ids(lee_only) == ids[:1]
    assert event_ids(client.get("/settings/audit?type=slo").text) == ids[1:]
    # Times are the viewer's: sign in as the Tokyo admin.

    sign_in_as(client, session_factory, "tokyo")
    window = client.get("/settings/audit?since=2026-03-01T21:01&until=2026-03-01T21:03")
    assert event_ids(window.text) == ids[3:5]  # 21:01 and 21:02, newest first
    assert 'value="2026-03-01T21:01"' in window.text
    assert "2026-03-01 21:02:00 JST" in window.text
    export = client.get("/settings/audit/export.json?since=2026-03-01T21:01&until=2026-03-01T21:03")
    assert [item["id"] for item in json.loads(export.text)] == ids[3:5][::-1]


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ("type=spaceship", "type:"),
        ("since=yesterday", "since:"),
        ("since=2026-03-02T00:00&until=2026-03-01T00:00", "since: must be before until"),
        ("before_id=-3", "before_id:"),
    ],
)
def test_bad_filters_name_the_field(
    client: TestClient, session_factory: sessionmaker[Session], query: str, words: str
) -> None:
    signed_in(client, session_factory, role="admin")
    refused = client.get(f"/settings/audit?{query}")
    assert refused.status_code == 422
    assert words in refused.text


def test_older_pages_follow_the_last_id_and_keep_the_filters(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    record(session_factory, count=60)
    record(session_factory, actor="lee", count=3)
    signed_in(client, session_factory, role="admin")
    first = client.get("/settings/audit?actor=kim").text
    shown_first = event_ids(first)
    assert len(shown_first) == 50 and shown_first == sorted(shown_first, reverse=True)
    older = re.search(r'href="(/settings/audit\?[^"]+)" rel="next"', first)
    assert older is not None
    link = older.group(1).replace("&amp;", "&")
    assert "actor=kim" in link and f"before_id={shown_first[-1]}" in link
    second = client.get(link).text
    shown_second = event_ids(second)
    assert len(shown_second) == 10 and max(shown_second) < min(shown_first)
    assert 'rel="next"' not in second and "Newest" in second


def test_the_export_is_the_cli_document_of_all_matching_events(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    record(session_factory, count=3)
    record(session_factory, actor="lee", summary=XSS)
    signed_in(client, session_factory, role="admin")
    page = client.get("/settings/audit?actor=kim").text
    assert 'href="/settings/audit/export.json?actor=kim"' in page
    export = client.get("/settings/audit/export.json?actor=kim")
    assert export.status_code == 200
    assert export.headers["content-type"].startswith("application/json")
    assert export.headers["content-disposition"] == 'attachment; filename="audit.json"'
    with session_factory() as session:
        expected = audit.export_text(
            [audit.document(row) for row in audit.iter_events(session, actor="kim")]
        )
    assert export.text == expected
    documents = json.loads(export.text)
    assert [d["summary"] for d in documents] == [
        f"updated slo checkout/availability: objective #{i}" for i in range(3)
    ]
    assert len(json.loads(client.get("/settings/audit/export.json").text)) == 4


# -- teams ---------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["viewer", "responder", "editor", "admin"])
def test_every_role_reads_teams_and_only_admins_see_the_forms(
    client: TestClient, session_factory: sessionmaker[Session], role: str
) -> None:
    world(session_factory)
    signed_in(client, session_factory, role=role)
    page = client.get("/settings/teams")
    assert page.status_code == 200
    row = re.search(r'<tr data-team="payments">(.*?)</tr>', page.text, re.S)
    assert row is not None
    assert 'data-member="ann"' in row.group(1)
    assert 'data-owned="schedule:office"' in row.group(1)
    assert 'data-owned="service:checkout"' in row.group(1)
    admin = role == "admin"
    assert ("Create a team" in page.text) is admin
    assert ("Delete team" in page.text) is admin
    assert ('action="/settings/teams/own"' in page.text) is admin
    assert 'href="/settings/teams"' in client.get("/settings").text


def test_without_teams_the_page_says_how_to_create_one(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    signed_in(client, session_factory, role="viewer")
    assert "No teams yet" in client.get("/settings/teams").text
    assert "watchkeeper team create NAME" in client.get("/settings/teams").text


@pytest.mark.parametrize("role", BELOW_ADMIN)
@pytest.mark.parametrize(("path", "fields"), TEAM_CHANGES)
def test_every_team_change_is_refused_below_admin(
    client: TestClient,
    session_factory: sessionmaker[Session],
    role: str,
    path: str,
    fields: dict[str, str],
) -> None:
    world(session_factory)
    browser = signed_in(client, session_factory, role=role)
    refused = browser.post_form(path, fields)
    assert refused.status_code == 403  # type: ignore[attr-defined]
    assert "this needs one of: admin" in refused.text  # type: ignore[attr-defined]
    with session_factory() as session:
        (payments,) = team_flows.list_teams(session)
    assert (payments.name, payments.members, payments.schedules) == (
        "payments",
        ("ann",),
        ("office",),
    )


@pytest.mark.parametrize(("path", "fields"), TEAM_CHANGES)
def test_every_team_change_needs_the_csrf_token(
    client: TestClient, session_factory: sessionmaker[Session], path: str, fields: dict[str, str]
) -> None:
    world(session_factory)
    signed_in(client, session_factory, role="admin")
    refused = client.post(path, data=fields, follow_redirects=False)
    assert refused.status_code == 403 and "security token" in refused.text
    with session_factory() as session:
        assert [t.name for t in team_flows.list_teams(session)] == ["payments"]


def test_an_admin_manages_teams_members_and_ownership(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    world(session_factory)
    browser = signed_in(client, session_factory, role="admin")
    for path, fields in [
        ("/settings/teams", {"name": "search"}),
        ("/settings/teams/members", {"team": "search", "user": "bob"}),
        (
            "/settings/teams/own",
            {"team": "search", "kind": "escalation_policy", "name": "checkout"},
        ),
        ("/settings/teams/own", {"team": "search", "kind": "service", "name": "checkout"}),
        ("/settings/teams/own", {"team": "search", "kind": "schedule", "name": "always"}),
        ("/settings/teams/release", {"team": "payments", "kind": "schedule", "name": "office"}),
        ("/settings/teams/members/remove", {"team": "payments", "user": "ann"}),
    ]:
        done = browser.post_form(path, fields)
        assert done.status_code == 303, (path, done.text)  # type: ignore[attr-defined]
        assert done.headers["location"] == "/settings/teams#teams"  # type: ignore[attr-defined]
    with session_factory() as session:
        payments, search = team_flows.list_teams(session)
    assert (payments.members, payments.services, payments.schedules) == ((), (), ())
    assert search.members == ("bob",)
    assert search.services == ("checkout",)  # taken over from payments
    assert (search.schedules, search.escalation_policies) == (("always",), ("checkout",))
    assert browser.post_form("/settings/teams/delete", {"team": "search"}).status_code == 303  # type: ignore[attr-defined]
    with session_factory() as session:
        assert [t.name for t in team_flows.list_teams(session)] == ["payments"]
        assert team_flows.owner_of(session, schedule="always") is None


@pytest.mark.parametrize(
    ("path", "fields", "status", "words"),
    [
        ("/settings/teams", {"name": "Bad Name"}, 422, "name:"),
        ("/settings/teams", {"name": "payments"}, 409, "exists"),
        ("/settings/teams", {"name": ""}, 422, "name: required"),
        ("/settings/teams/members", {"team": "payments", "user": "nobody"}, 404, "no user"),
        ("/settings/teams/members", {"team": "nope", "user": "bob"}, 404, "no team"),
        ("/settings/teams/own", {"team": "payments", "kind": "slo", "name": "x"}, 422, "kind:"),
        ("/settings/teams/own", {"team": "payments", "kind": "schedule", "name": "x"}, 404, "x"),
        (
            "/settings/teams/release",
            {"team": "payments", "kind": "schedule", "name": "always"},
            404,
            "does not own",
        ),
        ("/settings/teams/delete", {"team": "nope"}, 404, "no team"),
    ],
)
def test_bad_team_changes_are_refused_naming_the_field(
    client: TestClient,
    session_factory: sessionmaker[Session],
    path: str,
    fields: dict[str, str],
    status: int,
    words: str,
) -> None:
    world(session_factory)
    browser = signed_in(client, session_factory, role="admin")
    refused = browser.post_form(path, fields)
    assert refused.status_code == status, refused.text  # type: ignore[attr-defined]
    assert words in refused.text  # type: ignore[attr-defined]
