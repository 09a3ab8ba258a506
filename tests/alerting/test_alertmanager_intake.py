"""Alertmanager webhook v4 intake: groups by groupKey, alerts by fingerprint, idempotent."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.alerting.conftest import MakeIntegration, am_alert, am_message
from watchkeeper.alerting import service
from watchkeeper.db import utcnow


def _groups(client: TestClient, headers: dict[str, str]) -> list[dict[str, Any]]:
    response = client.get("/api/v1/alert-groups", headers=headers)
    assert response.status_code == 200, response.text
    groups: list[dict[str, Any]] = response.json()
    return groups


def _detail(client: TestClient, headers: dict[str, str], group_id: int) -> dict[str, Any]:
    response = client.get(f"/api/v1/alert-groups/{group_id}", headers=headers)
    assert response.status_code == 200, response.text
    detail: dict[str, Any] = response.json()
    return detail


def test_a_notification_opens_a_group_with_its_alerts(
    client: TestClient, make_integration: MakeIntegration, viewer_headers: dict[str, str]
) -> None:
    key = make_integration()
    url = f"/api/v1/integrations/{key}/alertmanager"
    response = client.post(url, json=am_message(am_alert("a1"), am_alert("a2", pod="p2")))
    assert response.status_code == 200, response.text
    [group] = _groups(client, viewer_headers)
    assert group["status"] == "firing"
    assert group["integration"] == "prom"
    assert group["service"] == "checkout"
    assert group["title"] == "errors are high"
    assert group["alerts_firing"] == 2
    detail = _detail(client, viewer_headers, group["id"])
    assert sorted(a["fingerprint"] for a in detail["alerts"]) == ["a1", "a2"]
    # The zero endsAt of a firing alert is no end at all.
    assert all(a["ends_at"] is None for a in detail["alerts"])
    # No escalation policy is routed here: the log says nobody was paged, and why.
    assert [e["kind"] for e in detail["log"]] == [
        "opened",
        "not_paged",
        "alert_firing",
        "alert_firing",
    ]


def test_replaying_a_notification_changes_nothing(
    client: TestClient, make_integration: MakeIntegration, viewer_headers: dict[str, str]
) -> None:
    key = make_integration()
    url = f"/api/v1/integrations/{key}/alertmanager"
    body = am_message(am_alert("a1"))
    assert client.post(url, json=body).status_code == 200
    first = _detail(client, viewer_headers, _groups(client, viewer_headers)[0]["id"])
    assert client.post(url, json=body).status_code == 200
    [group] = _groups(client, viewer_headers)
    again = _detail(client, viewer_headers, group["id"])
    assert again == first


def test_the_group_resolves_when_every_alert_resolves_and_shrinking_resolves_nothing(
    client: TestClient, make_integration: MakeIntegration, viewer_headers: dict[str, str]
) -> None:
    key = make_integration()
    url = f"/api/v1/integrations/{key}/alertmanager"
    client.post(url, json=am_message(am_alert("a1"), am_alert("a2")))
    resolved_a1 = am_alert("a1", "resolved", ends_at="2026-01-01T10:05:00Z")
    client.post(url, json=am_message(resolved_a1, am_alert("a2")))
    # a1 drops out of the next notification: its absence resolves nothing new.
    client.post(url, json=am_message(am_alert("a2")))
    [group] = _groups(client, viewer_headers)
    assert group["status"] == "firing"
    assert (group["alerts_firing"], group["alerts_total"]) == (1, 2)
    resolved_a2 = am_alert("a2", "resolved", ends_at="2026-01-01T10:06:00Z")
    client.post(url, json=am_message(resolved_a2))
    [group] = _groups(client, viewer_headers)
    assert group["status"] == "resolved"
    assert group["resolved_how"] == "source"
    # The first notification again after the group resolved cannot be told from the alerts
    # firing again with their old start (Prometheus re-sending what Alertmanager timed out):
    # it opens a new group rather than risk a lost page.
    client.post(url, json=am_message(am_alert("a1"), am_alert("a2")))
    assert [g["status"] for g in _groups(client, viewer_headers)] == ["firing", "resolved"]


def test_a_truncated_notification_does_not_resolve_a_group_that_still_fires(
    client: TestClient, make_integration: MakeIntegration, viewer_headers: dict[str, str]
) -> None:
    key = make_integration()
    url = f"/api/v1/integrations/{key}/alertmanager"
    client.post(url, json=am_message(am_alert("a1")))
    # a1 resolved; the alerts still firing were cut by max_alerts, the group still fires.
    resolved = am_alert("a1", "resolved", ends_at="2026-01-01T10:05:00Z")
    body = {**am_message(resolved, truncated=3), "status": "firing"}
    assert client.post(url, json=body).status_code == 200
    [group] = _groups(client, viewer_headers)
    assert group["status"] == "firing"
    # Once Alertmanager says the whole group resolved, it resolves.
    client.post(url, json=am_message(resolved, truncated=3))
    [group] = _groups(client, viewer_headers)
    assert group["status"] == "resolved"


def test_a_new_firing_after_resolution_opens_a_new_group(
    client: TestClient, make_integration: MakeIntegration, viewer_headers: dict[str, str]
) -> None:
    key = make_integration()
    url = f"/api/v1/integrations/{key}/alertmanager"
    client.post(url, json=am_message(am_alert("a1")))
    client.post(url, json=am_message(am_alert("a1", "resolved", ends_at="2026-01-01T10:05:00Z")))
    client.post(url, json=am_message(am_alert("a1", starts_at="2026-01-01T11:00:00Z")))
    groups = _groups(client, viewer_headers)
    assert [g["status"] for g in groups] == ["firing", "resolved"]
    assert groups[0]["dedup_key"] == groups[1]["dedup_key"]


def test_a_resolved_alert_never_seen_firing_is_stored_without_paging(
    client: TestClient, make_integration: MakeIntegration, viewer_headers: dict[str, str]
) -> None:
    key = make_integration()
    url = f"/api/v1/integrations/{key}/alertmanager"
    body = am_message(am_alert("a9", "resolved", ends_at="2026-01-01T10:05:00Z"))
    assert client.post(url, json=body).status_code == 200
    assert client.post(url, json=body).status_code == 200
    [group] = _groups(client, viewer_headers)
    assert group["status"] == "resolved"
    detail = _detail(client, viewer_headers, group["id"])
    assert [a["status"] for a in detail["alerts"]] == ["resolved"]
    assert "opened" not in [e["kind"] for e in detail["log"]]


def test_truncated_alerts_are_recorded(
    client: TestClient, make_integration: MakeIntegration, viewer_headers: dict[str, str]
) -> None:
    key = make_integration()
    client.post(
        f"/api/v1/integrations/{key}/alertmanager", json=am_message(am_alert("a1"), truncated=7)
    )
    assert _groups(client, viewer_headers)[0]["truncated_alerts"] == 7


def test_an_unknown_key_is_404_before_the_body_is_read(client: TestClient) -> None:
    for key in ("0" * 32, "not-a-key"):
        response = client.post(f"/api/v1/integrations/{key}/alertmanager", content=b"{not json")
        assert response.status_code == 404
        assert response.json()["detail"] == "no such integration"


def test_bad_bodies_name_the_field_and_store_nothing(
    client: TestClient, make_integration: MakeIntegration, viewer_headers: dict[str, str]
) -> None:
    key = make_integration()
    url = f"/api/v1/integrations/{key}/alertmanager"
    body = am_message(am_alert("a1"), {"status": "burning", "labels": {}})
    response = client.post(url, json=body)
    assert response.status_code == 422
    assert "alerts.1.status" in response.json()["detail"]
    assert client.post(url, content=b"{not json").status_code == 422
    assert _groups(client, viewer_headers) == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (am_message(am_alert("a1", starts_at="0001-01-01T00:00:00+05:00")), "alerts.0.startsAt"),
        (am_message(am_alert("a1", ends_at="9999-12-31T23:59:59-05:00")), "alerts.0.endsAt"),
        (am_message(am_alert("a1"), truncated=10**30), "truncatedAlerts"),
        (am_message(am_alert("a1"), am_alert("a2"), am_alert("a1")), "alerts.2.fingerprint"),
        (am_message(am_alert("a1", service="\u0000")), "alerts.0.labels.service"),
    ],
)
def test_hostile_bodies_are_422_naming_the_field_and_store_nothing(
    client: TestClient,
    make_integration: MakeIntegration,
    viewer_headers: dict[str, str],
    body: dict[str, Any],
    field: str,
) -> None:
    key = make_integration()
    response = client.post(f"/api/v1/integrations/{key}/alertmanager", json=body)
    assert response.status_code == 422
    assert field in response.json()["detail"]
    assert _groups(client, viewer_headers) == []


def test_a_time_without_a_zone_is_utc(
    client: TestClient, make_integration: MakeIntegration, viewer_headers: dict[str, str]
) -> None:
    key = make_integration()
    body = am_message(am_alert("a1", starts_at="2026-01-01T10:00:00"))
    assert client.post(f"/api/v1/integrations/{key}/alertmanager", json=body).status_code == 200
    [group] = _groups(client, viewer_headers)
    [alert] = _detail(client, viewer_headers, group["id"])["alerts"]
    assert alert["starts_at"].startswith("2026-01-01T10:00:00")


def test_an_oversize_body_is_413(client: TestClient, make_integration: MakeIntegration) -> None:
    key = make_integration()
    limit = client.app.state.settings.max_alert_body_bytes  # type: ignore[attr-defined]
    response = client.post(f"/api/v1/integrations/{key}/alertmanager", content=b" " * (limit + 1))
    assert response.status_code == 413


def test_a_disabled_key_is_the_same_404_as_an_unknown_one(
    client: TestClient, make_integration: MakeIntegration, session_factory: Any
) -> None:
    key = make_integration()
    with session_factory() as session:
        service.set_disabled(session, name="prom", disabled=True, now=utcnow())
        session.commit()
    response = client.post(f"/api/v1/integrations/{key}/alertmanager", json=am_message())
    assert response.status_code == 404
    assert response.json()["detail"] == "no such integration"


def test_a_resend_after_a_replay_still_applies_its_change(
    client: TestClient, make_integration: MakeIntegration, viewer_headers: dict[str, str]
) -> None:
    key = make_integration()
    url = f"/api/v1/integrations/{key}/alertmanager"
    firing = am_message(am_alert("a1"), am_alert("a2", pod="p2"))
    assert client.post(url, json=firing).status_code == 200
    assert client.post(url, json=firing).status_code == 200  # a replay: answered from its digest
    resolved = am_message(am_alert("a1"), am_alert("a2", pod="p2", status="resolved"))
    assert client.post(url, json=resolved).status_code == 200
    [group] = _groups(client, viewer_headers)
    assert group["alerts_firing"] == 1
    log = [e["kind"] for e in _detail(client, viewer_headers, group["id"])["log"]]
    assert log == ["opened", "not_paged", "alert_firing", "alert_firing", "alert_resolved"]


@pytest.mark.parametrize(
    ("labels", "service_name", "severity"),
    [
        ({"watchkeeper_service": "cart", "severity": "page"}, "cart", "page"),
        ({"sloth_service": "cart", "sloth_severity": "ticket"}, "cart", "ticket"),
        ({"service": "web", "sloth_service": "cart", "severity": "warning"}, "web", "warning"),
        ({}, None, None),
    ],
)
def test_generated_slo_alerts_name_their_service_and_severity(
    client: TestClient,
    make_integration: MakeIntegration,
    viewer_headers: dict[str, str],
    labels: dict[str, str],
    service_name: str | None,
    severity: str | None,
) -> None:
    key = make_integration()
    body = am_message(am_alert("a1"))
    body["commonLabels"] = {"alertname": "HighErrors", **labels}
    response = client.post(f"/api/v1/integrations/{key}/alertmanager", json=body)
    assert response.status_code == 200, response.text
    [group] = _groups(client, viewer_headers)
    assert (group["service"], group["severity"]) == (service_name, severity)
