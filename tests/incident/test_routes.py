"""The incident API: declare and run an incident over HTTP; metrics on the API and /metrics."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Connection, event
from sqlalchemy.orm import Session, sessionmaker

from watchkeeper.alerting import service as alerting_service
from watchkeeper.alerting.exceptions import IntegrationNotFound
from watchkeeper.db import utcnow
from watchkeeper.incident import declaration, service

BASE = "/api/v1/incidents"


def webhook_group(
    client: TestClient,
    session_factory: sessionmaker[Session],
    title: str,
    *,
    service: str = "checkout",
) -> int:
    """Open an alert group through the generic webhook intake; returns its id."""
    with session_factory() as session:
        try:
            key = alerting_service.get_integration(session, name="hooks").key
        except IntegrationNotFound:
            key = alerting_service.create_integration(
                session, name="hooks", type="webhook", now=utcnow()
            ).key
        session.commit()
    sent = client.post(
        f"/api/v1/integrations/{key}/webhook",
        json={"title": title, "dedup_key": title, "labels": {"service": service}},
    )
    assert sent.status_code < 300, sent.text
    with session_factory() as session:
        (group,) = [
            g for g in alerting_service.list_groups(session, limit=1000) if g.dedup_key == title
        ]
        return group.id


def test_declare_and_run_an_incident(
    client: TestClient, admin_headers: dict[str, str], session_factory: sessionmaker[Session]
) -> None:
    group_id = webhook_group(client, session_factory, "checkout errors")
    created = client.post(
        BASE,
        json={
            "title": "Checkout 500s",
            "severity": "SEV2",
            "service": "checkout",
            "commander": "bob",
        },
        headers=admin_headers,
    )
    assert created.status_code == 201, created.text
    body = created.json()
    incident_id = body["id"]
    assert (body["status"], body["severity"]) == ("investigating", "SEV2")
    assert body["roles"][0]["role"] == "commander"
    assert body["declared_by"].startswith("token:admin-")
    url = f"{BASE}/{incident_id}"
    assert client.post(f"{url}/ack", headers=admin_headers).json()["acknowledged_at"]
    status = client.post(f"{url}/status", json={"status": "identified"}, headers=admin_headers)
    assert status.json()["status"] == "identified"
    severity = client.post(f"{url}/severity", json={"severity": "sev1"}, headers=admin_headers)
    assert severity.json()["severity"] == "SEV1"
    role = client.post(
        f"{url}/roles", json={"role": "scribe", "user": "carol"}, headers=admin_headers
    )
    assert {(r["role"], r["user"]) for r in role.json()["roles"]} == {
        ("commander", "bob"),
        ("scribe", "carol"),
    }
    note = client.post(f"{url}/notes", json={"text": "rolled back"}, headers=admin_headers)
    assert (note.status_code, note.json()["kind"]) == (201, "note")
    links = client.post(f"{url}/links", json={"alert_group_ids": [group_id]}, headers=admin_headers)
    assert links.json()["alert_group_ids"] == [group_id]
    unknown = client.post(
        f"{url}/links", json={"alert_group_ids": [999_999]}, headers=admin_headers
    )
    assert unknown.status_code == 404 and "999999" in unknown.json()["detail"]
    resolved = client.post(f"{url}/resolve", json={"note": "fixed"}, headers=admin_headers)
    assert resolved.json()["status"] == "resolved"
    shown = client.get(url, headers=admin_headers).json()
    own = [e for e in shown["timeline"] if e["source"] == "incident"]
    merged = [e for e in shown["timeline"] if e["source"] == "alert_group"]
    # The linked group's log (opened, fired) is merged in at read time, sorted by time.
    assert merged and all(e["details"]["alert_group_id"] == group_id for e in merged)
    assert [e["at"] for e in shown["timeline"]] == sorted(e["at"] for e in shown["timeline"])
    assert [e["kind"] for e in own] == [
        "declared",
        "role",
        "acknowledged",
        "status",
        "severity",
        "role",
        "note",
        "alert",
        "resolved",
    ]
    listed = client.get(BASE, params={"status": "resolved"}, headers=admin_headers).json()
    assert [i["id"] for i in listed] == [incident_id]
    again = client.post(f"{url}/status", json={"status": "monitoring"}, headers=admin_headers)
    assert again.status_code == 409
    assert again.json()["error"] == "InvalidTransition"
    reopened = client.post(f"{url}/reopen", json={}, headers=admin_headers)
    assert reopened.json()["status"] == "investigating"


def test_errors(
    client: TestClient, admin_headers: dict[str, str], viewer_headers: dict[str, str]
) -> None:
    bad = client.post(BASE, json={"title": "t", "severity": "SEV9"}, headers=admin_headers)
    assert bad.status_code == 422
    assert bad.json()["error"] == "UnknownSeverity" and "did you mean" in bad.json()["detail"]
    missing = client.post(BASE, json={"severity": "SEV1"}, headers=admin_headers)
    assert (missing.status_code, missing.json()["error"]) == (422, "InvalidInput")
    assert "title" in missing.json()["detail"]
    assert client.get(f"{BASE}/424242", headers=admin_headers).status_code == 404
    naive = client.post(
        BASE,
        json={"title": "t", "severity": "SEV1", "started_at": "2026-01-01T10:00:00"},
        headers=admin_headers,
    )
    assert naive.status_code == 422 and "started_at" in naive.json()["detail"]
    huge = client.get(f"{BASE}/99999999999999999999999", headers=admin_headers)
    assert huge.status_code == 422 and "incident_id" in huge.json()["detail"]
    huge_group = client.post(
        f"/api/v1/alert-groups/{2**31}/incident", json={"severity": "SEV1"}, headers=admin_headers
    )
    assert huge_group.status_code == 422 and "group_id" in huge_group.json()["detail"]
    # Viewers read but do not change; no token is refused before the body is read.
    assert client.get(BASE, headers=viewer_headers).status_code == 200
    assert (
        client.post(
            BASE, json={"title": "t", "severity": "SEV1"}, headers=viewer_headers
        ).status_code
        == 403
    )
    assert (
        client.post(BASE, content=b"{", headers={"content-type": "application/json"}).status_code
        == 401
    )
    role = client.post(BASE, json={"title": "t", "severity": "SEV1"}, headers=admin_headers).json()
    wrong = client.post(
        f"{BASE}/{role['id']}/roles", json={"role": "boss", "user": "x"}, headers=admin_headers
    )
    assert wrong.status_code == 422 and "role" in wrong.json()["detail"]
    period = client.get(f"{BASE}/metrics", params={"since": "soon"}, headers=viewer_headers)
    assert period.status_code == 422 and "since" in period.json()["detail"]


def test_severities_and_metrics(
    client: TestClient, viewer_headers: dict[str, str], session_factory: sessionmaker[Session]
) -> None:
    now = utcnow()
    with session_factory() as session:
        first = declaration.declare(
            session,
            title="a",
            severity="SEV1",
            actor="a",
            now=now - timedelta(hours=3),
            service="api",
        )
        service.acknowledge(
            session,
            incident_id=first.id,
            actor="a",
            now=now - timedelta(hours=3) + timedelta(minutes=4),
        )
        service.resolve(session, incident_id=first.id, actor="a", now=now - timedelta(hours=1))
        declaration.declare(
            session,
            title="b",
            severity="SEV2",
            actor="a",
            now=now - timedelta(minutes=5),
            service="api",
        )
        session.commit()
    severities = client.get(f"{BASE}/severities", headers=viewer_headers).json()
    assert severities[0] == {
        "name": "SEV1",
        "rank": 1,
        "description": severities[0]["description"],
        "response_target": "5m",
        "response_target_seconds": 300.0,
        "resolution_target": "4h",
        "resolution_target_seconds": 14400.0,
    }
    report = client.get(f"{BASE}/metrics", params={"since": "1d"}, headers=viewer_headers).json()
    assert report["overall"]["count"] == 2 and report["open_now"] == 1
    assert report["overall"]["mtta_seconds"] == 240.0
    assert report["overall"]["mttr_seconds"] == 7200.0
    assert [g["severity"] for g in report["by_severity"]] == ["SEV1", "SEV2"]
    text = client.get("/metrics").text
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }
    api_sev2 = (("service", "api"), ("severity", "SEV2"))
    api_sev1 = (("service", "api"), ("severity", "SEV1"))
    assert samples[("watchkeeper_incidents_open", api_sev2)] == 1.0
    assert samples[("watchkeeper_incidents_open", api_sev1)] == 0.0
    assert samples[("watchkeeper_incident_mtta_seconds", api_sev1)] == 240.0
    assert samples[("watchkeeper_incident_mttr_seconds", api_sev1)] == 7200.0
    assert samples[("watchkeeper_incident_metrics_window_seconds", ())] == 30 * 86400.0


def test_declare_from_an_alert_group(
    client: TestClient,
    admin_headers: dict[str, str],
    viewer_headers: dict[str, str],
    session_factory: sessionmaker[Session],
) -> None:
    group_id = webhook_group(client, session_factory, "payments failing", service="payments")
    url = f"/api/v1/alert-groups/{group_id}/incident"
    assert client.post(url, json={"severity": "SEV2"}, headers=viewer_headers).status_code == 403
    missing = client.post(url, json={}, headers=admin_headers)
    assert missing.status_code == 422 and "severity" in missing.json()["detail"]
    created = client.post(url, json={"severity": "sev2", "commander": "ann"}, headers=admin_headers)
    assert created.status_code == 201, created.text
    body = created.json()
    assert (body["title"], body["service"], body["severity"]) == (
        "payments failing",
        "payments",
        "SEV2",
    )
    assert body["alert_group_ids"] == [group_id]
    assert body["roles"][0]["user"] == "ann"
    again = client.post(url, json={"severity": "SEV1"}, headers=admin_headers)
    assert again.status_code == 409
    assert again.json()["incident_id"] == body["id"]
    assert f"#{body['id']}" in again.json()["detail"]
    gone = client.post(
        "/api/v1/alert-groups/999999/incident", json={"severity": "SEV1"}, headers=admin_headers
    )
    assert gone.status_code == 404 and "999999" in gone.json()["detail"]


def test_group_ids_past_what_an_id_holds_are_refused_naming_the_field(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    # They went to the database as they were: an overflow there, answered 500.
    incident = client.post(BASE, json={"title": "t", "severity": "SEV2"}, headers=admin_headers)
    for ids in ([2**31], [2**80], [0]):
        declared = client.post(
            BASE,
            json={"title": "t", "severity": "SEV2", "alert_group_ids": ids},
            headers=admin_headers,
        )
        linked = client.post(
            f"{BASE}/{incident.json()['id']}/links",
            json={"alert_group_ids": ids},
            headers=admin_headers,
        )
        for response in (declared, linked):
            assert response.status_code == 422, response.text
            assert response.json()["detail"].startswith("alert_group_ids.0: ")
    assert len(client.get(BASE, headers=admin_headers).json()) == 1


def test_a_group_or_slo_named_many_times_is_checked_and_linked_once(
    client: TestClient,
    admin_headers: dict[str, str],
    session_factory: sessionmaker[Session],
    connection: Connection,
    api_slo: str,
) -> None:
    # A thousand copies of one id were each looked up and compared again: seconds per request.
    group_id = webhook_group(client, session_factory, "disk full")
    incident = client.post(BASE, json={"title": "t", "severity": "SEV2"}, headers=admin_headers)
    url = f"{BASE}/{incident.json()['id']}/links"
    body = {"alert_group_ids": [group_id] * 1000, "slo_keys": [api_slo] * 100}
    statements: list[object] = []
    event.listen(connection, "before_cursor_execute", lambda *args: statements.append(args))
    linked = client.post(url, json=body, headers=admin_headers)
    assert linked.status_code == 200, linked.text
    assert (linked.json()["alert_group_ids"], linked.json()["slo_keys"]) == ([group_id], [api_slo])
    assert len(statements) < 100
    texts = [entry["text"] for entry in linked.json()["timeline"]]
    assert texts.count(f"alert group #{group_id} linked") == 1
    assert texts.count(f"SLO {api_slo} linked") == 1
    declared = client.post(
        BASE,
        json={"title": "u", "severity": "SEV2", "slo_keys": [api_slo] * 100},
        headers=admin_headers,
    )
    assert declared.status_code == 201 and declared.json()["slo_keys"] == [api_slo]
