"""The generic webhook: firing and resolved by dedup key, idempotent."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.alerting.conftest import MakeIntegration


def test_webhook_fires_and_resolves_idempotently(
    client: TestClient, make_integration: MakeIntegration, viewer_headers: dict[str, str]
) -> None:
    key = make_integration("hook", "webhook")
    url = f"/api/v1/integrations/{key}/webhook"
    alert = {
        "title": "queue backlog",
        "message": "10k jobs waiting",
        "dedup_key": "backlog",
        "severity": "warning",
        "labels": {"service": "jobs"},
        "link": "https://runbooks/backlog",
    }
    for _ in range(2):
        response = client.post(url, json=alert)
        assert response.status_code == 202
        assert response.json()["dedup_key"] == "backlog"
    [group] = client.get("/api/v1/alert-groups", headers=viewer_headers).json()
    assert (group["status"], group["service"], group["severity"]) == ("firing", "jobs", "warning")
    detail = client.get(f"/api/v1/alert-groups/{group['id']}", headers=viewer_headers).json()
    assert [e["kind"] for e in detail["log"]] == ["opened", "not_paged", "alert_firing"]
    for _ in range(2):
        assert client.post(url, json={**alert, "state": "resolved"}).status_code == 202
    [group] = client.get("/api/v1/alert-groups", headers=viewer_headers).json()
    assert group["status"] == "resolved"
    # Firing again after the resolve opens a new group (PagerDuty's rule for dedup keys).
    client.post(url, json=alert)
    groups = client.get("/api/v1/alert-groups", headers=viewer_headers).json()
    assert [g["status"] for g in groups] == ["firing", "resolved"]


def test_webhook_refuses_unknown_fields_naming_them(
    client: TestClient, make_integration: MakeIntegration
) -> None:
    key = make_integration("hook", "webhook")
    response = client.post(
        f"/api/v1/integrations/{key}/webhook", json={"title": "x", "state": "burning"}
    )
    assert response.status_code == 422
    assert "state" in response.json()["detail"]


def test_a_key_works_only_on_its_own_type_s_endpoints(
    client: TestClient, make_integration: MakeIntegration
) -> None:
    keys = {kind: make_integration(kind, kind) for kind in ("alertmanager", "pagerduty", "webhook")}
    webhook = {"title": "queue backlog"}
    pd = {"event_action": "trigger", "payload": {"summary": "s", "source": "x", "severity": "info"}}
    change = {"payload": {"summary": "deploy"}}
    for kind, key in keys.items():
        answers = {
            "alertmanager": client.post(
                f"/api/v1/integrations/{key}/alertmanager",
                json={"groupKey": "k", "status": "firing", "alerts": []},
            ),
            "webhook": client.post(f"/api/v1/integrations/{key}/webhook", json=webhook),
            "pagerduty": client.post("/v2/enqueue", json={**pd, "routing_key": key}),
        }
        keyed = client.post(f"/integration/{key}/enqueue", json=pd)
        changed = client.post("/v2/change/enqueue", json={**change, "routing_key": key})
        for endpoint, response in answers.items():
            # The own type's endpoint accepts the key; every other answers as for no key.
            assert (response.status_code == 404) == (endpoint != kind), (kind, response.text)
            assert response.status_code < 300 or endpoint != kind, response.text
        assert (keyed.status_code == 404) == (kind != "pagerduty"), keyed.text
        assert (changed.status_code == 404) == (kind != "pagerduty"), changed.text
