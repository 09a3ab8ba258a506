"""Acknowledge, unacknowledge, resolve and silence: API and service, with escalation hooks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.alerting.conftest import MakeIntegration, am_alert, am_message
from tests.alerting.escalation_setup import make_team
from watchkeeper.alerting import escalation, incident_feed, intake, service
from watchkeeper.alerting.exceptions import InvalidAlertAction
from watchkeeper.alerting.schemas import AlertmanagerMessage

NOW = datetime(2026, 1, 1, 10, 0, tzinfo=UTC)


def _open(
    session: Session, *, labels: dict[str, str] | None = None, policy: str | None = None
) -> int:
    integration = service.create_integration(
        session, name="prom", type="alertmanager", escalation_policy=policy, now=NOW
    )
    message = AlertmanagerMessage.model_validate(am_message(am_alert("a1", **(labels or {}))))
    if labels:
        message.commonLabels.update(labels)
    group = intake.ingest_alertmanager(session, integration=integration, message=message, now=NOW)
    session.commit()  # a first escalation step runs as the transaction commits
    return group.id


def test_opening_starts_escalation_and_ack_stops_it(session: Session) -> None:
    make_team(session)
    group = service.get_group(session, group_id=_open(session, policy="shop"))
    # The first step ran at intake; the second is due after its 5 minutes.
    step_two = NOW + timedelta(minutes=5)
    assert (group.escalation_round, group.escalation_step, group.escalation_due_at) == (
        0,
        1,
        step_two,
    )
    service.acknowledge(session, group_id=group.id, actor="ann", now=NOW + timedelta(minutes=1))
    assert group.status == "acknowledged"
    assert group.acknowledged_by == "ann"
    assert group.escalation_due_at is None
    later = NOW + timedelta(minutes=2)
    service.unacknowledge(session, group_id=group.id, actor="ann", now=later)
    session.commit()
    assert (group.status, group.escalation_due_at) == ("firing", later + timedelta(minutes=5))
    service.resolve(session, group_id=group.id, actor="bob", now=later)
    assert (group.status, group.resolved_how, group.resolved_by) == ("resolved", "user", "bob")
    assert group.escalation_due_at is None
    with pytest.raises(InvalidAlertAction):
        service.acknowledge(session, group_id=group.id, actor="ann", now=later)
    kinds = [e["kind"] for e in service.group_detail(session, group_id=group.id)["log"]]
    # 1 January 2026 precedes the schedule's first turn: each step finds nobody on call.
    assert kinds == [
        "opened",
        "alert_firing",
        "not_paged",
        "escalated",
        "acknowledged",
        "unacknowledged",
        "not_paged",
        "escalated",
        "resolved",
    ]


def test_a_silenced_group_fires_again_when_its_silence_ends(session: Session) -> None:
    make_team(session)
    group = service.get_group(session, group_id=_open(session, policy="shop"))
    until = NOW + timedelta(hours=2)
    service.silence(session, group_id=group.id, until=until, actor="ann", now=NOW)
    assert (group.status, group.escalation_due_at) == ("silenced", None)
    assert service.expire_silences(session, now=until - timedelta(seconds=1)) == 0
    assert group.status == "silenced"
    assert service.expire_silences(session, now=until) == 1
    session.commit()
    assert (group.status, group.escalation_due_at) == ("firing", until + timedelta(minutes=5))


def test_acknowledging_a_silenced_group_twice_logs_it_once(session: Session) -> None:
    make_team(session)
    group = service.get_group(session, group_id=_open(session, policy="shop"))
    service.silence(
        session, group_id=group.id, until=NOW + timedelta(hours=1), actor="ann", now=NOW
    )
    for minute in (1, 2):
        later = NOW + timedelta(minutes=minute)
        service.acknowledge(session, group_id=group.id, actor=f"u{minute}", now=later)
    kinds = [e.kind for e in incident_feed.group_logs(session, group_ids=[group.id])]
    assert kinds.count("acknowledged") == 1
    assert (group.status, group.acknowledged_by) == ("silenced", "u1")


def test_escalation_stop_clears_the_timer(session: Session) -> None:
    group = service.get_group(session, group_id=_open(session))
    escalation.stop(session, group)
    assert group.escalation_due_at is None


def test_api_actions_need_a_write_token(
    client: TestClient,
    make_integration: MakeIntegration,
    admin_headers: dict[str, str],
    viewer_headers: dict[str, str],
) -> None:
    key = make_integration()
    client.post(f"/api/v1/integrations/{key}/alertmanager", json=am_message(am_alert("a1")))
    [group] = client.get("/api/v1/alert-groups", headers=viewer_headers).json()
    path = f"/api/v1/alert-groups/{group['id']}"
    assert client.post(f"{path}/ack", headers=viewer_headers).status_code == 403
    response = client.post(f"{path}/ack", headers=admin_headers)
    assert response.status_code == 200
    assert response.json()["status"] == "acknowledged"
    assert response.json()["acknowledged_by"].startswith("token:")
    response = client.post(f"{path}/silence", headers=admin_headers, json={"duration": "2h"})
    assert response.json()["status"] == "silenced"
    bad = client.post(f"{path}/silence", headers=admin_headers, json={"duration": "soon"})
    assert bad.status_code == 422 and "duration" in bad.json()["detail"]
    assert client.post(f"{path}/resolve", headers=admin_headers).json()["status"] == "resolved"
    listed = client.get("/api/v1/alert-groups?status=resolved", headers=viewer_headers).json()
    assert [g["id"] for g in listed] == [group["id"]]
    assert client.get("/api/v1/alert-groups?status=nope", headers=viewer_headers).status_code == 422
    assert client.post("/api/v1/alert-groups/999999/ack", headers=admin_headers).status_code == 404


def test_ids_and_durations_past_what_the_database_holds_are_refused(
    client: TestClient, make_integration: MakeIntegration, admin_headers: dict[str, str]
) -> None:
    huge = 10**20
    for method, path in [
        ("GET", f"/api/v1/alert-groups/{huge}"),
        ("POST", f"/api/v1/alert-groups/{huge}/ack"),
        ("DELETE", f"/api/v1/silences/{huge}"),
        ("GET", f"/api/v1/incidents/{huge}"),
        ("GET", f"/api/v1/notifications/{huge}"),
    ]:
        response = client.request(method, path, headers=admin_headers)
        assert response.status_code == 422, (path, response.text)
        assert "id" in response.json()["detail"]
    key = make_integration()
    client.post(f"/api/v1/integrations/{key}/alertmanager", json=am_message(am_alert("a1")))
    [group] = client.get("/api/v1/alert-groups", headers=admin_headers).json()
    too_long = client.post(
        f"/api/v1/alert-groups/{group['id']}/silence",
        json={"duration": "999999999d"},
        headers=admin_headers,
    )
    assert too_long.status_code == 422
    assert too_long.json()["detail"].startswith("duration:")
    for body in (
        {"matchers": ["a=b"], "duration": "999999999d"},
        {"matchers": ["a=b"], "starts_at": "9999-12-31T00:00:00Z", "duration": "2d"},
    ):
        response = client.post("/api/v1/silences", json=body, headers=admin_headers)
        assert response.status_code == 422 and "duration" in response.json()["detail"]
    assert client.get("/api/v1/silences", headers=admin_headers).json() == []
    [group] = client.get("/api/v1/alert-groups", headers=admin_headers).json()
    assert group["status"] == "firing"


@pytest.mark.parametrize("row_id", [0, -5, -(2**80)])
def test_ids_below_one_are_refused_naming_the_id(
    client: TestClient, admin_headers: dict[str, str], row_id: int
) -> None:
    # Below -2**63 (SQLite) or -2**31 (PostgreSQL) the driver overflowed: a 500.
    for method, path, name in [
        ("GET", f"/api/v1/alert-groups/{row_id}", "group_id"),
        ("POST", f"/api/v1/alert-groups/{row_id}/resolve", "group_id"),
        ("DELETE", f"/api/v1/silences/{row_id}", "silence_id"),
        ("GET", f"/api/v1/incidents/{row_id}", "incident_id"),
        ("POST", f"/api/v1/notifications/{row_id}/retry", "notification_id"),
    ]:
        response = client.request(method, path, headers=admin_headers)
        assert response.status_code == 422, (path, response.text)
        assert response.json()["detail"].startswith(f"path.{name}: "), response.text
