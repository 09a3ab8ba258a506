"""Every intake at the largest values its schema accepts is stored (SQLite and PostgreSQL):
derived text longer than its column is cut, a long Alertmanager groupKey is kept by digest."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.alerting.conftest import MakeIntegration, am_alert, am_message

# Multi-byte characters: a column's length counts characters, an index's limit counts bytes.
_LONG = "é" * 5000


def _groups(client: TestClient, headers: dict[str, str]) -> list[dict[str, Any]]:
    groups: list[dict[str, Any]] = client.get("/api/v1/alert-groups", headers=headers).json()
    return groups


def test_alertmanager_at_its_maximum_sizes_is_stored(
    client: TestClient, make_integration: MakeIntegration, viewer_headers: dict[str, str]
) -> None:
    key = make_integration()
    url = f"/api/v1/integrations/{key}/alertmanager"
    labels = {"service": _LONG, "severity": _LONG}
    body = am_message(am_alert("a" * 200, **labels), group_key="k" * 999 + "1")
    body["commonLabels"] = {**body["commonLabels"], **labels}
    other = {**body, "groupKey": "k" * 999 + "2"}
    for message in (body, body, other):
        response = client.post(url, json=message)
        assert response.status_code == 200, response.text
    groups = _groups(client, viewer_headers)
    # Two keys sharing a 999-character prefix stay two groups; a replay opens none.
    assert len(groups) == 2
    assert all(g["service"].startswith("éé") and len(g["service"]) == 200 for g in groups)
    resolved = am_message(am_alert("a" * 200, "resolved", **labels), group_key="k" * 999 + "1")
    assert client.post(url, json=resolved).status_code == 200
    assert sorted(g["status"] for g in _groups(client, viewer_headers)) == ["firing", "resolved"]


def test_pagerduty_trigger_and_change_at_their_maximum_sizes_are_stored(
    client: TestClient, make_integration: MakeIntegration, viewer_headers: dict[str, str]
) -> None:
    key = make_integration("pd", "pagerduty")
    payload = {
        "summary": "s" * 1024,
        "source": "é" * 1024,
        "severity": "critical",
        "component": "é" * 1024,
        "group": "g" * 1024,
        "class": "c" * 1024,
    }
    event = {
        "routing_key": key,
        "event_action": "trigger",
        "dedup_key": "d" * 255,
        "payload": payload,
        "client": "c" * 1024,
    }
    response = client.post("/v2/enqueue", json=event)
    assert response.status_code == 202, response.text
    [group] = _groups(client, viewer_headers)
    assert len(group["service"]) == 200
    change = {
        "routing_key": key,
        "payload": {"summary": "s" * 1024, "source": "é" * 1024, "custom_details": {}},
    }
    response = client.post("/v2/change/enqueue", json=change)
    assert response.status_code == 202, response.text
    [stored] = client.get("/api/v1/changes", headers=viewer_headers).json()
    assert len(stored["service"]) == 200


def test_webhook_at_its_maximum_sizes_is_stored(
    client: TestClient, make_integration: MakeIntegration, viewer_headers: dict[str, str]
) -> None:
    key = make_integration("hook", "webhook")
    url = f"/api/v1/integrations/{key}/webhook"
    alert = {
        "title": "t" * 1024,
        "message": "m" * 65_536,
        "dedup_key": "d" * 255,
        "severity": "é" * 40,
        "labels": {"service": _LONG},
        "link": "l" * 4000,
    }
    response = client.post(url, json=alert)
    assert response.status_code == 202, response.text
    [group] = _groups(client, viewer_headers)
    assert group["severity"] == "é" * 40
    assert len(group["service"]) == 200
