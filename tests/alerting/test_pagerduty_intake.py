"""PagerDuty Events API v2 intake: trigger/acknowledge/resolve, PagerDuty's answers, changes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.alerting.conftest import MakeIntegration
from watchkeeper.alerting import intake, repository, service
from watchkeeper.alerting.models import ChangeEvent
from watchkeeper.alerting.schemas import ChangeEventIn

NOW = datetime(2026, 1, 1, 12, tzinfo=UTC)


def _trigger(key: str, **extra: Any) -> dict[str, Any]:
    return {
        "routing_key": key,
        "event_action": "trigger",
        "payload": {
            "summary": "disk full on db-1",
            "source": "db-1",
            "severity": "critical",
            "component": "postgres",
        },
        **extra,
    }


def _groups(client: TestClient, headers: dict[str, str]) -> list[dict[str, Any]]:
    groups: list[dict[str, Any]] = client.get("/api/v1/alert-groups", headers=headers).json()
    return groups


def test_trigger_answers_like_pagerduty_and_opens_a_group(
    client: TestClient, make_integration: MakeIntegration, viewer_headers: dict[str, str]
) -> None:
    key = make_integration("pd", "pagerduty")
    response = client.post("/v2/enqueue", json=_trigger(key, dedup_key="disk-db-1"))
    assert response.status_code == 202
    assert response.json() == {
        "status": "success",
        "message": "Event processed",
        "dedup_key": "disk-db-1",
    }
    [group] = _groups(client, viewer_headers)
    assert (group["status"], group["dedup_key"], group["service"]) == (
        "firing",
        "disk-db-1",
        "postgres",
    )
    assert group["severity"] == "critical"


def test_a_keyless_trigger_gets_a_dedup_key_and_its_replay_folds_into_it(
    client: TestClient, make_integration: MakeIntegration, viewer_headers: dict[str, str]
) -> None:
    key = make_integration("pd", "pagerduty")
    first = client.post("/v2/enqueue", json=_trigger(key)).json()["dedup_key"]
    again = client.post("/v2/enqueue", json=_trigger(key)).json()["dedup_key"]
    assert first == again and first
    [group] = _groups(client, viewer_headers)
    detail = client.get(f"/api/v1/alert-groups/{group['id']}", headers=viewer_headers).json()
    assert [e["kind"] for e in detail["log"]] == ["opened", "not_paged", "alert_firing"]


def test_acknowledge_and_resolve_follow_the_dedup_key(
    client: TestClient, make_integration: MakeIntegration, viewer_headers: dict[str, str]
) -> None:
    key = make_integration("pd", "pagerduty")
    client.post("/v2/enqueue", json=_trigger(key, dedup_key="k"))
    ack = {"routing_key": key, "event_action": "acknowledge", "dedup_key": "k"}
    assert client.post("/v2/enqueue", json=ack).status_code == 202
    assert _groups(client, viewer_headers)[0]["status"] == "acknowledged"
    resolve = {"routing_key": key, "event_action": "resolve", "dedup_key": "k"}
    for _ in range(2):  # a replayed resolve is a no-op
        assert client.post("/v2/enqueue", json=resolve).status_code == 202
    [group] = _groups(client, viewer_headers)
    assert (group["status"], group["resolved_how"]) == ("resolved", "source")
    detail = client.get(f"/api/v1/alert-groups/{group['id']}", headers=viewer_headers).json()
    assert [e["kind"] for e in detail["log"]].count("resolved") == 1
    # A trigger for the key after the resolve opens a new group, as PagerDuty opens a new
    # incident: the same bytes are what a sender sends when its alert fires again.
    client.post("/v2/enqueue", json=_trigger(key, dedup_key="k"))
    assert [g["status"] for g in _groups(client, viewer_headers)] == ["firing", "resolved"]


def test_acknowledge_or_resolve_of_an_unknown_dedup_key_is_accepted_and_does_nothing(
    client: TestClient, make_integration: MakeIntegration, viewer_headers: dict[str, str]
) -> None:
    key = make_integration("pd", "pagerduty")
    body = {"routing_key": key, "event_action": "resolve", "dedup_key": "nothing"}
    response = client.post("/v2/enqueue", json=body)
    assert response.status_code == 202
    assert response.json()["dedup_key"] == "nothing"
    assert _groups(client, viewer_headers) == []


def test_dedup_keys_are_scoped_to_the_routing_key(
    client: TestClient, make_integration: MakeIntegration, viewer_headers: dict[str, str]
) -> None:
    one, two = make_integration("one", "pagerduty"), make_integration("two", "pagerduty")
    client.post("/v2/enqueue", json=_trigger(one, dedup_key="same"))
    client.post("/v2/enqueue", json=_trigger(two, dedup_key="same"))
    assert sorted(g["integration"] for g in _groups(client, viewer_headers)) == ["one", "two"]


# A time UTC cannot hold, and text PostgreSQL cannot store.
t = "0001-01-01T00:00:00+14:00"
n = {"a": ["ok", "\u0000"]}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"event_action": "explode"}, "event_action"),
        ({"payload": {"summary": "x", "source": "y", "severity": "fatal"}}, "payload.severity"),
        ({"payload": None}, "payload"),
        ({"dedup_key": "x" * 256}, "dedup_key"),
        (
            {"payload": {"summary": "x", "source": "y", "severity": "info", "timestamp": t}},
            "payload.timestamp",
        ),
        ({"payload": {"summary": "x\u0000", "source": "y", "severity": "info"}}, "payload.summary"),
        (
            {"payload": {"summary": "x", "source": "y", "severity": "info", "custom_details": n}},
            "payload.custom_details.a.1",
        ),
    ],
)
def test_invalid_events_are_400_with_pagerdutys_shape(
    client: TestClient,
    make_integration: MakeIntegration,
    viewer_headers: dict[str, str],
    change: dict[str, Any],
    field: str,
) -> None:
    key = make_integration("pd", "pagerduty")
    response = client.post("/v2/enqueue", json={**_trigger(key), **change})
    assert response.status_code == 400
    body = response.json()
    assert (body["status"], body["message"]) == ("invalid event", "Event object is invalid")
    assert any(error.startswith(field) or field in error for error in body["errors"])
    assert _groups(client, viewer_headers) == []


def test_an_unknown_routing_key_is_404(client: TestClient) -> None:
    response = client.post("/v2/enqueue", json=_trigger("f" * 32))
    assert response.status_code == 404
    assert response.json()["status"] == "invalid event"


def test_the_path_form_checks_the_key_before_the_body(
    client: TestClient, make_integration: MakeIntegration, viewer_headers: dict[str, str]
) -> None:
    assert client.post(f"/integration/{'e' * 32}/enqueue", content=b"{bad").status_code == 404
    key = make_integration("pd", "pagerduty")
    body = _trigger(key, dedup_key="p")
    del body["routing_key"]
    for path in (f"/integration/{key}/enqueue", f"/api/v1/integrations/{key}/enqueue"):
        assert client.post(path, json=body).status_code == 202
    assert len(_groups(client, viewer_headers)) == 1


def test_change_events_go_to_the_change_timeline_once(
    client: TestClient, make_integration: MakeIntegration, viewer_headers: dict[str, str]
) -> None:
    key = make_integration("deploys", "pagerduty")
    change = {
        "routing_key": key,
        "payload": {
            "summary": "deploy v42",
            "timestamp": "2026-01-01T10:00:00Z",
            "source": "ci",
            "custom_details": {"service": "checkout"},
        },
        "links": [{"href": "https://ci/42", "text": "build"}],
    }
    for _ in range(2):
        response = client.post("/v2/change/enqueue", json=change)
        assert response.status_code == 202
        assert response.json()["status"] == "success"
    changes = client.get("/api/v1/changes?service=checkout", headers=viewer_headers).json()
    assert [c["summary"] for c in changes] == ["deploy v42"]
    later = client.get(
        "/api/v1/changes", params={"since": "2026-01-02T00:00:00Z"}, headers=viewer_headers
    ).json()
    assert later == []


def test_a_silence_on_the_component_as_service_silences_a_pagerduty_group(
    client: TestClient, make_integration: MakeIntegration, admin_headers: dict[str, str]
) -> None:
    key = make_integration("pd", "pagerduty")
    silence = {"matchers": ["service=postgres"], "duration": "1h"}
    assert client.post("/api/v1/silences", json=silence, headers=admin_headers).status_code == 201
    client.post("/v2/enqueue", json=_trigger(key, dedup_key="k"))
    assert _groups(client, admin_headers)[0]["status"] == "silenced"


def test_an_acknowledge_event_on_a_silenced_group_is_recorded_like_the_api_ack(
    client: TestClient,
    make_integration: MakeIntegration,
    viewer_headers: dict[str, str],
    admin_headers: dict[str, str],
) -> None:
    key = make_integration("pd", "pagerduty")
    silence = {"matchers": ["service=postgres"], "duration": "2h"}
    assert client.post("/api/v1/silences", json=silence, headers=admin_headers).status_code == 201
    client.post("/v2/enqueue", json=_trigger(key, dedup_key="k"))
    [group] = _groups(client, viewer_headers)
    assert group["status"] == "silenced"
    ack = {"routing_key": key, "event_action": "acknowledge", "dedup_key": "k"}
    for _ in range(2):  # a replay records nothing more
        assert client.post("/v2/enqueue", json=ack).status_code == 202
    detail = client.get(f"/api/v1/alert-groups/{group['id']}", headers=viewer_headers).json()
    assert detail["status"] == "silenced"  # the silence still holds it
    assert detail["acknowledged_by"] == "pd" and detail["acknowledged_at"] is not None
    assert [e["kind"] for e in detail["log"]].count("acknowledged") == 1


def test_a_manual_resolve_ends_the_group_s_alerts(
    client: TestClient,
    make_integration: MakeIntegration,
    viewer_headers: dict[str, str],
    admin_headers: dict[str, str],
) -> None:
    key = make_integration("pd", "pagerduty")
    client.post("/v2/enqueue", json=_trigger(key, dedup_key="k"))
    [group] = _groups(client, viewer_headers)
    url = f"/api/v1/alert-groups/{group['id']}"
    assert client.post(f"{url}/resolve", headers=admin_headers).status_code == 200
    [alert] = client.get(url, headers=viewer_headers).json()["alerts"]
    assert alert["status"] == "resolved" and alert["ends_at"] is not None


def test_a_change_event_stored_concurrently_is_read_back_not_a_500(
    session: Session, make_integration: MakeIntegration, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = make_integration("deploys", "pagerduty")
    integration = service.integration_for_key(session, key=key)
    event = ChangeEventIn.model_validate(
        {"routing_key": key, "payload": {"summary": "deploy v42", "source": "ci"}}
    )
    first = intake.ingest_change(session, integration=integration, event=event, now=NOW)
    # The second request looked before the first stored: its insert clashes on the digest.
    calls: list[str] = []
    real = repository.change_by_digest

    def late_look(db: Session, digest: str) -> ChangeEvent | None:
        calls.append(digest)
        return None if len(calls) == 1 else real(db, digest)

    monkeypatch.setattr(repository, "change_by_digest", late_look)
    second = intake.ingest_change(session, integration=integration, event=event, now=NOW)
    assert second.id == first.id and len(calls) == 2  # missed, clashed, read back
