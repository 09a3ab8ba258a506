"""The incident pages: the list by status, severity and page; an incident's detail and the
changes responders make on it."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any, cast

import pytest
from fastapi.testclient import TestClient
from httpx2 import Response
from sqlalchemy.orm import Session, sessionmaker

from tests.policy import traffic
from tests.web.signing import Browser, make_user, signed_in
from tests.web.test_alert_pages import SCRIPT, fire
from watchkeeper.db import utcnow
from watchkeeper.events import service as events_service
from watchkeeper.flows import specs as spec_flows
from watchkeeper.incident import declaration
from watchkeeper.incident import service as incident_service
from watchkeeper.specs import load_text


def declare(
    session_factory: sessionmaker[Session],
    title: str,
    *,
    severity: str = "SEV2",
    resolved: bool = False,
    **options: Any,
) -> int:
    """Declare an incident (committed); its id."""
    with session_factory() as session:
        now = utcnow()
        incident = declaration.declare(
            session,
            title=title,
            severity=severity,
            actor="bob",
            now=now,
            **options,
        )
        if resolved:
            incident_service.resolve(session, incident_id=incident.id, actor="bob", now=now)
        session.commit()
        return incident.id


def listed(page: str) -> list[int]:
    return [int(found) for found in re.findall(r'<tr data-incident="(\d+)">', page)]


def post(browser: Browser, path: str, fields: dict[str, str] | None = None) -> Response:
    """A form POST with the session's CSRF token, redirects not followed."""
    return cast(Response, browser.post_form(path, fields))


# --- list ----------------------------------------------------------------------------------


def test_the_list_shows_open_incidents_and_filters(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    signed_in(client, session_factory, role="viewer")
    sev1 = declare(session_factory, "Checkout down", severity="SEV1")
    sev3 = declare(session_factory, "Slow search", severity="SEV3")
    done = declare(session_factory, "Old outage", resolved=True)
    page = client.get("/incidents")
    assert page.status_code == 200
    assert listed(page.text) == [sev3, sev1]
    assert "2 incidents" in page.text
    assert listed(client.get("/incidents?severity=SEV1").text) == [sev1]
    assert listed(client.get("/incidents?status=resolved").text) == [done]
    assert listed(client.get("/incidents?status=all").text) == [done, sev3, sev1]
    assert listed(client.get("/incidents?status=identified").text) == []


def test_the_list_is_paginated_by_fifty(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    signed_in(client, session_factory, role="viewer")
    ids = [declare(session_factory, f"incident {n}") for n in range(51)]
    first = client.get("/incidents?severity=SEV2")
    assert listed(first.text) == list(reversed(ids))[:50]
    assert "page 1 of 2" in first.text
    assert 'href="/incidents?status=open&amp;severity=SEV2&amp;page=2"' in first.text
    assert listed(client.get("/incidents?severity=SEV2&page=2").text) == [ids[0]]


def test_an_empty_list_says_what_to_do(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    signed_in(client, session_factory, role="viewer")
    page = client.get("/incidents")
    assert page.status_code == 200
    assert "No open incidents" in page.text
    assert "watchkeeper incident declare --severity SEV2" in page.text


@pytest.mark.parametrize(
    ("query", "field"),
    [("status=broken", "status:"), ("severity=SEV9", "severity:"), ("page=-1", "page:")],
)
def test_bad_filters_are_an_html_422_naming_the_field(
    client: TestClient, session_factory: sessionmaker[Session], query: str, field: str
) -> None:
    signed_in(client, session_factory, role="viewer")
    response = client.get(f"/incidents?{query}")
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("text/html")
    assert field in response.text


def test_titles_are_escaped(client: TestClient, session_factory: sessionmaker[Session]) -> None:
    browser = signed_in(client, session_factory, role="responder")
    incident_id = declare(session_factory, SCRIPT, service="checkout")
    post(browser, f"/incidents/{incident_id}/notes", {"text": SCRIPT})
    for path in ("/incidents", f"/incidents/{incident_id}"):
        page = client.get(path).text
        assert SCRIPT not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


# --- detail --------------------------------------------------------------------------------


def test_the_detail_shows_roles_links_budget_and_timeline(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    signed_in(client, session_factory, role="viewer")
    now = utcnow()
    with session_factory() as session:
        spec_flows.apply(session, spec_set=load_text(traffic.SPEC), now=now)
        events_service.ingest(session, traffic.rows("fast", now), now=now)
        session.commit()
    group_id = fire(session_factory, "api errors", labels={"service": "api"})
    incident_id = declare(
        session_factory,
        "API errors",
        service="api",
        commander="ann",
        alert_group_ids=[group_id],
        slo_keys=["api/availability"],
        started_at=now - timedelta(hours=2),
    )
    page = client.get(f"/incidents/{incident_id}")
    assert page.status_code == 200
    assert 'id="incident-status">investigating<' in page.text
    assert "<dt>commander</dt><dd>ann</dd>" in page.text
    assert f'href="/alerts/{group_id}"' in page.text
    # 70 bad events in a 30-day window of 10,000 with a 1 % budget: 70 % of it burned.
    budget = re.search(r'<tr data-slo="api/availability">(.*?)</tr>', page.text, re.S)
    assert budget is not None
    assert "70.00 %" in budget.group(1)
    assert "70 bad of 1000" in budget.group(1)
    assert 'data-kind="declared"' in page.text
    # Viewers see no forms.
    assert 'id="note-form"' not in page.text and 'id="status-form"' not in page.text


def test_without_slos_the_budget_says_so(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    signed_in(client, session_factory, role="viewer")
    incident_id = declare(session_factory, "Slow search")
    page = client.get(f"/incidents/{incident_id}").text
    assert 'id="no-slos"' in page
    assert "Nobody holds a role yet" in page


@pytest.mark.parametrize("wrong", ["424242", "x1", "99999999999999"])
def test_an_unknown_incident_is_an_html_404(
    client: TestClient, session_factory: sessionmaker[Session], wrong: str
) -> None:
    signed_in(client, session_factory, role="viewer")
    response = client.get(f"/incidents/{wrong}")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "no incident" in response.text


# --- changes -------------------------------------------------------------------------------


def test_a_responder_runs_the_incident(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    browser = signed_in(client, session_factory, role="responder", name="ann")
    make_user(session_factory, "carl", "responder")
    incident_id = declare(session_factory, "Checkout down")
    base = f"/incidents/{incident_id}"
    page = client.get(base).text
    for form in ("note-form", "status-form", "severity-form", "role-form", "incident-ack-button"):
        assert f'id="{form}"' in page
    steps = [
        ("ack", {}, "state"),
        ("notes", {"text": "rolled back the deploy"}, "timeline"),
        ("roles", {"role": "commander", "user": "carl"}, "roles"),
        ("severity", {"severity": "SEV1"}, "state"),
        ("status", {"status": "identified", "note": "bad config"}, "state"),
        ("status", {"status": "resolved"}, "state"),
    ]
    for path, fields, anchor in steps:
        response = post(browser, f"{base}/{path}", fields)
        assert response.status_code == 303, response.text
        assert response.headers["location"] == f"{base}#{anchor}"
    with session_factory() as session:
        incident = incident_service.get(session, incident_id)
        assert (incident.status, incident.severity, incident.acknowledged_by) == (
            "resolved",
            "SEV1",
            "ann",
        )
        timeline = incident_service.timeline(session, incident_id)
    mine = [(e.kind, e.text) for e in timeline if e.actor == "ann"]
    assert mine == [
        ("acknowledged", "acknowledged by ann"),
        ("note", "rolled back the deploy"),
        ("role", "carl is commander"),
        ("severity", "severity SEV2 → SEV1"),
        ("status", "status investigating → identified: bad config"),
        ("resolved", "resolved by ann"),
    ]
    page = client.get(base).text
    assert "<dt>commander</dt><dd>carl</dd>" in page
    assert 'id="reopen-form"' in page and 'id="status-form"' not in page
    assert post(browser, f"{base}/reopen", {"note": "back again"}).status_code == 303
    with session_factory() as session:
        assert incident_service.get(session, incident_id).status == "investigating"


def test_a_change_the_lifecycle_refuses_is_an_html_error(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    browser = signed_in(client, session_factory, role="responder")
    incident_id = declare(session_factory, "Checkout down")
    response = post(browser, f"/incidents/{incident_id}/reopen")
    assert response.status_code == 409
    assert "only a resolved incident can be reopened" in response.text
    empty = post(browser, f"/incidents/{incident_id}/notes", {"text": "  "})
    assert empty.status_code == 422
    assert "text: must not be empty" in empty.text
    role = post(browser, f"/incidents/{incident_id}/roles", {"role": "boss", "user": "x"})
    assert role.status_code == 422 and "role:" in role.text


@pytest.mark.parametrize("action", ["notes", "roles", "severity", "status", "ack", "reopen"])
def test_a_viewer_may_not_change_an_incident(
    client: TestClient, session_factory: sessionmaker[Session], action: str
) -> None:
    browser = signed_in(client, session_factory, role="viewer")
    incident_id = declare(session_factory, "Checkout down")
    fields = {"text": "x", "role": "scribe", "user": "x", "severity": "SEV1", "status": "resolved"}
    response = post(browser, f"/incidents/{incident_id}/{action}", fields)
    assert response.status_code == 403
    assert "responder" in response.text
    with session_factory() as session:
        assert [e.kind for e in incident_service.timeline(session, incident_id)] == ["declared"]


@pytest.mark.parametrize("action", ["notes", "status", "ack"])
def test_a_post_without_the_csrf_token_is_refused(
    client: TestClient, session_factory: sessionmaker[Session], action: str
) -> None:
    signed_in(client, session_factory, role="responder")
    incident_id = declare(session_factory, "Checkout down")
    response = client.post(
        f"/incidents/{incident_id}/{action}",
        data={"text": "x", "status": "resolved"},
        follow_redirects=False,
    )
    assert response.status_code == 403
    with session_factory() as session:
        assert [e.kind for e in incident_service.timeline(session, incident_id)] == ["declared"]
