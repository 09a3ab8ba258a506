"""The alert pages: the list by state and page, a group's detail, and acting on it."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import cast

import pytest
from fastapi.testclient import TestClient
from httpx2 import Response
from sqlalchemy.orm import Session, sessionmaker

from tests.web.signing import Browser, signed_in
from watchkeeper.alerting import intake
from watchkeeper.alerting import service as alerting_service
from watchkeeper.alerting.exceptions import IntegrationNotFound
from watchkeeper.alerting.schemas import WebhookAlert
from watchkeeper.auth import audit
from watchkeeper.db import utcnow
from watchkeeper.incident import links
from watchkeeper.incident import service as incident_service

SCRIPT = "<script>alert(1)</script>"


def fire(
    session_factory: sessionmaker[Session],
    title: str,
    *,
    state: str = "firing",
    labels: dict[str, str] | None = None,
) -> int:
    """Open (or resolve) an alert group through the generic webhook intake; its id."""
    with session_factory() as session:
        try:
            source = alerting_service.get_integration(session, name="hooks")
        except IntegrationNotFound:
            source = alerting_service.create_integration(
                session, name="hooks", type="webhook", now=utcnow()
            )
        group = intake.ingest_webhook(
            session,
            integration=source,
            alert=WebhookAlert(
                title=title,
                dedup_key=title,
                state=state,
                labels=labels or {"service": "checkout"},
            ),
            now=utcnow(),
        )
        assert group is not None
        session.commit()
        return group.id


def post(browser: Browser, path: str, fields: dict[str, str] | None = None) -> Response:
    """A form POST with the session's CSRF token, redirects not followed."""
    return cast(Response, browser.post_form(path, fields))


def group_status(session_factory: sessionmaker[Session], group_id: int) -> tuple[str, str | None]:
    with session_factory() as session:
        group = alerting_service.get_group(session, group_id=group_id)
        return group.status, group.acknowledged_by


def listed(page: str) -> list[int]:
    return [int(found) for found in re.findall(r'<tr data-group="(\d+)">', page)]


# --- list ----------------------------------------------------------------------------------


def test_the_list_shows_groups_not_resolved_by_default(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    signed_in(client, session_factory, role="viewer")
    firing = fire(session_factory, "checkout errors")
    done = fire(session_factory, "disk full")
    fire(session_factory, "disk full", state="resolved")
    page = client.get("/alerts")
    assert page.status_code == 200
    assert listed(page.text) == [firing]
    assert "1 alert group" in page.text
    assert listed(client.get("/alerts?state=resolved").text) == [done]
    assert listed(client.get("/alerts?state=all").text) == [done, firing]
    assert listed(client.get("/alerts?state=acknowledged").text) == []


def test_the_list_is_paginated_by_fifty(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    signed_in(client, session_factory, role="viewer")
    ids = [fire(session_factory, f"alert {n}") for n in range(51)]
    first = client.get("/alerts")
    assert listed(first.text) == list(reversed(ids))[:50]
    assert "page 1 of 2" in first.text
    assert 'href="/alerts?state=open&amp;page=2"' in first.text
    second = client.get("/alerts?state=open&page=2")
    assert listed(second.text) == [ids[0]]
    beyond = client.get("/alerts?page=3")
    assert beyond.status_code == 200
    assert "go to the first page" in beyond.text


def test_an_empty_list_says_what_to_do(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    signed_in(client, session_factory, role="viewer")
    page = client.get("/alerts")
    assert page.status_code == 200
    assert "watchkeeper integration create NAME --type alertmanager" in page.text


@pytest.mark.parametrize(
    ("query", "field"), [("state=broken", "state:"), ("page=abc", "page:"), ("page=0", "page:")]
)
def test_bad_filters_are_an_html_422_naming_the_field(
    client: TestClient, session_factory: sessionmaker[Session], query: str, field: str
) -> None:
    signed_in(client, session_factory, role="viewer")
    response = client.get(f"/alerts?{query}")
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("text/html")
    assert field in response.text


def test_titles_and_labels_are_escaped(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    signed_in(client, session_factory, role="responder")
    group_id = fire(session_factory, SCRIPT, labels={"service": SCRIPT, "team": SCRIPT})
    for path in ("/alerts", f"/alerts/{group_id}"):
        page = client.get(path).text
        assert SCRIPT not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


# --- detail --------------------------------------------------------------------------------


def test_the_detail_shows_state_labels_alerts_and_log(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    signed_in(client, session_factory, role="viewer")
    group_id = fire(session_factory, "checkout errors", labels={"service": "checkout"})
    page = client.get(f"/alerts/{group_id}")
    assert page.status_code == 200
    assert 'id="group-title">checkout errors<' in page.text
    assert 'data-status="firing"' in page.text
    assert "<dt>service</dt><dd>checkout</dd>" in page.text
    assert "1 alert</h2>" in page.text
    assert "<strong>opened</strong>" in page.text
    # A viewer sees no buttons and is told why.
    assert 'id="ack-button"' not in page.text
    assert 'id="declare-button"' not in page.text
    assert "may look but not act" in page.text
    status = client.get(f"/alerts/{group_id}/status")
    assert status.status_code == 200
    assert 'hx-trigger="every 15s"' in status.text and 'data-status="firing"' in status.text


@pytest.mark.parametrize("wrong", ["999999", "abc", "99999999999999"])
def test_an_unknown_group_is_an_html_404(
    client: TestClient, session_factory: sessionmaker[Session], wrong: str
) -> None:
    signed_in(client, session_factory, role="viewer")
    for path in (f"/alerts/{wrong}", f"/alerts/{wrong}/status"):
        response = client.get(path)
        assert response.status_code == 404
        assert response.headers["content-type"].startswith("text/html")
        assert "no alert group" in response.text


# --- actions -------------------------------------------------------------------------------


def test_a_responder_acknowledges_and_resolves_as_themselves(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    browser = signed_in(client, session_factory, role="responder", name="ann")
    group_id = fire(session_factory, "checkout errors")
    page = client.get(f"/alerts/{group_id}").text
    assert 'id="ack-button"' in page and 'id="resolve-button"' in page
    response = post(browser, f"/alerts/{group_id}/ack")
    assert response.status_code == 303
    assert response.headers["location"] == f"/alerts/{group_id}"
    assert group_status(session_factory, group_id) == ("acknowledged", "ann")
    assert 'id="unack-button"' in client.get(f"/alerts/{group_id}").text
    post(browser, f"/alerts/{group_id}/resolve")
    assert group_status(session_factory, group_id)[0] == "resolved"
    with session_factory() as session:
        log = alerting_service.group_detail(session, group_id=group_id)["log"]
    assert [(e["kind"], e["actor"]) for e in log if e["actor"] == "ann"] == [
        ("acknowledged", "ann"),
        ("resolved", "ann"),
    ]
    # A resolved group offers no more actions.
    assert 'id="ack-button"' not in client.get(f"/alerts/{group_id}").text
    # The audit log has both changes as ann's, from the dashboard, with before and after.
    with session_factory() as session:
        events = audit.list_events(session, actor="ann", object_type="alert_group")
    assert [
        (e.actor_kind, (e.before or {}).get("status"), (e.after or {}).get("status"))
        for e in reversed(events)
    ] == [
        ("user", "firing", "acknowledged"),
        ("user", "acknowledged", "resolved"),
    ]


def test_htmx_gets_the_new_state_block_and_the_reason_when_it_does_not_apply(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    browser = signed_in(client, session_factory, role="responder")
    group_id = fire(session_factory, "checkout errors")
    headers = {"HX-Request": "true", "X-CSRF-Token": browser.csrf_token}
    acked = client.post(f"/alerts/{group_id}/ack", headers=headers)
    assert acked.status_code == 200
    assert acked.text.lstrip().startswith('<section id="group-state"')
    assert 'data-status="acknowledged"' in acked.text
    assert "<html" not in acked.text
    with session_factory() as session:
        alerting_service.resolve(session, group_id=group_id, actor="bob", now=utcnow())
        session.commit()
    refused = client.post(f"/alerts/{group_id}/ack", headers=headers)
    assert refused.status_code == 200
    assert 'id="action-error"' in refused.text
    assert "cannot be acknowledged" in refused.text
    assert 'data-status="resolved"' in refused.text


def test_silence_for_a_duration_with_a_comment(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    browser = signed_in(client, session_factory, role="responder", name="ann")
    group_id = fire(session_factory, "checkout errors")
    before = utcnow()
    response = post(
        browser, f"/alerts/{group_id}/silence", {"duration": "2h", "comment": "deploy in progress"}
    )
    assert response.status_code == 303
    with session_factory() as session:
        group = alerting_service.get_group(session, group_id=group_id)
        assert group.status == "silenced"
        assert group.silenced_until is not None
        assert before + timedelta(hours=2) <= group.silenced_until <= utcnow() + timedelta(hours=2)
        log = alerting_service.group_detail(session, group_id=group_id)["log"]
    assert log[-1]["kind"] == "silenced" and log[-1]["actor"] == "ann"
    assert log[-1]["message"].endswith(": deploy in progress")
    assert "deploy in progress" in client.get(f"/alerts/{group_id}").text


def test_a_bad_silence_duration_is_a_422_naming_the_field(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    browser = signed_in(client, session_factory, role="responder")
    group_id = fire(session_factory, "checkout errors")
    response = post(browser, f"/alerts/{group_id}/silence", {"duration": "soon"})
    assert response.status_code == 422
    assert "duration:" in response.text
    assert group_status(session_factory, group_id)[0] == "firing"


@pytest.mark.parametrize("action", ["ack", "unack", "resolve", "silence", "incident"])
def test_a_viewer_may_not_act(
    client: TestClient, session_factory: sessionmaker[Session], action: str
) -> None:
    browser = signed_in(client, session_factory, role="viewer")
    group_id = fire(session_factory, "checkout errors")
    response = post(browser, f"/alerts/{group_id}/{action}", {"duration": "1h"})
    assert response.status_code == 403
    assert "responder" in response.text
    assert group_status(session_factory, group_id) == ("firing", None)


@pytest.mark.parametrize("action", ["ack", "resolve", "incident"])
def test_a_post_without_the_csrf_token_is_refused(
    client: TestClient, session_factory: sessionmaker[Session], action: str
) -> None:
    signed_in(client, session_factory, role="responder")
    group_id = fire(session_factory, "checkout errors")
    response = client.post(
        f"/alerts/{group_id}/{action}", data={"severity": "SEV2"}, follow_redirects=False
    )
    assert response.status_code == 403
    assert group_status(session_factory, group_id) == ("firing", None)


def test_declaring_an_incident_from_the_group(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    browser = signed_in(client, session_factory, role="responder", name="ann")
    group_id = fire(session_factory, "checkout errors")
    page = client.get(f"/alerts/{group_id}").text
    assert 'id="declare-button"' in page
    assert 'name="commander" maxlength="200" value="ann"' in page  # the form offers the viewer
    response = post(
        browser, f"/alerts/{group_id}/incident", {"severity": "SEV2", "commander": "ann"}
    )
    assert response.status_code == 303
    location = response.headers["location"]
    incident_id = int(location.rsplit("/", 1)[1])
    with session_factory() as session:
        incident = incident_service.get(session, incident_id)
        assert (incident.title, incident.severity, incident.declared_by) == (
            "checkout errors",
            "SEV2",
            "ann",
        )
        assert links.alert_group_ids(session, incident_id) == [group_id]
        assert [(r.role, r.user_name) for r in incident_service.roles(session, incident_id)] == [
            ("commander", "ann")
        ]
    page = client.get(f"/alerts/{group_id}").text
    assert f'href="/incidents/{incident_id}"' in page
    assert 'id="declare-button"' not in page
    again = post(browser, f"/alerts/{group_id}/incident", {"severity": "SEV2"})
    assert again.status_code == 409


def test_declaring_needs_a_configured_severity(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    browser = signed_in(client, session_factory, role="responder")
    group_id = fire(session_factory, "checkout errors")
    response = post(browser, f"/alerts/{group_id}/incident", {"severity": ""})
    assert response.status_code == 422
    assert "severity:" in response.text
