"""``/api/v1/audit`` (admins only) and ``/api/v1/teams`` (read: any reader; change: admins)."""

from __future__ import annotations

import pytest
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient

from watchkeeper.auth import teams
from watchkeeper.auth.audit import Actor
from watchkeeper.db import utcnow
from watchkeeper.dependencies import SessionDep

AUDIT = "/api/v1/audit"
TEAMS = "/api/v1/teams"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def token_of(client: TestClient, admin_headers: dict[str, str], name: str, role: str) -> str:
    response = client.post(
        "/api/v1/tokens", json={"name": name, "role": role}, headers=admin_headers
    )
    assert response.status_code == 201
    token: str = response.json()["token"]
    return token


def test_changes_through_the_api_are_recorded_as_the_token(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    token_of(client, admin_headers, "ci", "viewer")
    assert client.post(TEAMS, json={"name": "payments"}, headers=admin_headers).status_code == 201
    assert client.delete("/api/v1/tokens/ci", headers=admin_headers).status_code == 204

    page = client.get(AUDIT, headers=admin_headers).json()
    summaries = [event["summary"] for event in page["events"]]
    assert summaries[:3] == [
        "updated token ci: revoked_at",
        "created team payments",
        "created token ci",
    ]
    actors = {(e["actor"]["kind"], e["actor"]["name"].split("-")[0]) for e in page["events"][:3]}
    assert actors == {("token", "admin")}
    created = page["events"][2]
    assert created["action"] == "create" and created["after"]["digest"] == "***"
    assert page["next_before_id"] is None

    first = client.get(AUDIT, params={"limit": 1}, headers=admin_headers).json()
    assert [e["summary"] for e in first["events"]] == ["updated token ci: revoked_at"]
    second = client.get(
        AUDIT, params={"limit": 1, "before_id": first["next_before_id"]}, headers=admin_headers
    ).json()
    assert [e["summary"] for e in second["events"]] == ["created team payments"]
    only_teams = client.get(AUDIT, params={"type": "team"}, headers=admin_headers).json()
    assert [e["summary"] for e in only_teams["events"]] == ["created team payments"]
    future = client.get(AUDIT, params={"since": "2999-01-01T00:00:00Z"}, headers=admin_headers)
    assert future.json()["events"] == []


@pytest.mark.parametrize("role", ["viewer", "editor", "ingest"])
def test_only_admins_read_the_audit_log(
    client: TestClient, admin_headers: dict[str, str], role: str
) -> None:
    headers = bearer(token_of(client, admin_headers, f"as-{role}", role))
    response = client.get(AUDIT, headers=headers)
    assert response.status_code == 403
    assert response.json()["error"] == "RoleNotAllowed"
    assert client.get(AUDIT).status_code == 401


@pytest.mark.parametrize(
    ("params", "detail"),
    [
        ({"since": "yesterday"}, "since:"),
        ({"until": "99999999999999999999"}, "until:"),
        ({"type": "nope"}, "type: 'nope' is not one of"),
        ({"limit": "0"}, "limit:"),
        ({"since": "2026-01-02T00:00:00Z", "until": "2026-01-01T00:00:00Z"}, "since:"),
    ],
)
def test_bad_audit_queries_name_the_field(
    client: TestClient, admin_headers: dict[str, str], params: dict[str, str], detail: str
) -> None:
    response = client.get(AUDIT, params=params, headers=admin_headers)
    assert response.status_code == 422
    assert detail in response.json()["detail"]


def test_teams_api(
    client: TestClient, admin_headers: dict[str, str], viewer_headers: dict[str, str]
) -> None:
    body = {"name": "ann", "role": "editor", "time_zone": "UTC"}
    assert client.post("/api/v1/users", json=body, headers=admin_headers).status_code == 201
    assert client.post(TEAMS, json={"name": "payments"}, headers=admin_headers).status_code == 201
    again = client.post(TEAMS, json={"name": "payments"}, headers=admin_headers)
    assert again.status_code == 409 and again.json()["error"] == "TeamNameTaken"
    member = client.put(f"{TEAMS}/payments/members/ann", headers=admin_headers)
    assert member.status_code == 200 and member.json()["members"] == ["ann"]
    owned = client.put(f"{TEAMS}/payments/services/checkout", headers=admin_headers)
    assert owned.status_code == 200 and owned.json()["services"] == ["checkout"]
    missing = client.put(f"{TEAMS}/payments/schedules/nope", headers=admin_headers)
    assert missing.status_code == 404 and missing.json()["error"] == "ScheduleNotFound"
    assert client.put(f"{TEAMS}/payments/printers/x", headers=admin_headers).status_code == 422

    listed = client.get(TEAMS, headers=viewer_headers)
    assert listed.status_code == 200
    assert listed.json() == [
        {
            "name": "payments",
            "created_at": listed.json()[0]["created_at"],
            "members": ["ann"],
            "services": ["checkout"],
            "schedules": [],
            "escalation_policies": [],
        }
    ]
    assert client.get(f"{TEAMS}/paymints", headers=viewer_headers).status_code == 404
    # Readers may not change teams.
    assert client.post(TEAMS, json={"name": "x"}, headers=viewer_headers).status_code == 403
    assert client.put(f"{TEAMS}/payments/members/ann", headers=viewer_headers).status_code == 403
    assert client.delete(f"{TEAMS}/payments", headers=viewer_headers).status_code == 403

    released = client.delete(f"{TEAMS}/payments/services/checkout", headers=admin_headers)
    assert released.status_code == 200 and released.json()["services"] == []
    not_owned = client.delete(f"{TEAMS}/payments/services/checkout", headers=admin_headers)
    assert not_owned.status_code == 404
    left = client.delete(f"{TEAMS}/payments/members/ann", headers=admin_headers)
    assert left.json()["members"] == []
    assert client.delete(f"{TEAMS}/payments", headers=admin_headers).status_code == 204
    assert client.get(TEAMS, headers=viewer_headers).json() == []


def test_an_adapter_names_the_actor_on_request_state(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    # The dashboard's contract: set request.state.actor; the request's session records it.
    app: FastAPI = client.app  # type: ignore[assignment]

    def sign_in_and_create(request: Request, session: SessionDep) -> dict[str, str]:
        request.state.actor = Actor("user", "ann")
        teams.create_team(session, name="from-dashboard", now=utcnow())
        return {}

    app.add_api_route("/test/dashboard-change", sign_in_and_create, methods=["POST"])
    assert client.post("/test/dashboard-change").status_code == 200
    (event,) = client.get(AUDIT, params={"type": "team"}, headers=admin_headers).json()["events"]
    assert event["actor"] == {"kind": "user", "name": "ann"}
    assert event["summary"] == "created team from-dashboard"
