"""``/api/v1/tokens``: admins list, create and revoke tokens; nobody else may."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient

TOKENS = "/api/v1/tokens"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_an_admin_creates_lists_and_revokes_a_token(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    created = client.post(
        TOKENS, json={"name": "ci", "role": "ingest", "expires_in": "90d"}, headers=admin_headers
    )
    assert created.status_code == 201
    issued = created.json()
    assert issued["token"].startswith("wk_") and issued["role"] == "ingest"
    expires = datetime.fromisoformat(issued["expires_at"])
    assert (
        timedelta(days=89, hours=23) < expires - datetime.now(expires.tzinfo) <= timedelta(days=90)
    )
    # The new token works for its role (an empty batch is a valid one).
    accepted = client.post("/api/v1/events", json=[], headers=bearer(issued["token"]))
    assert accepted.status_code == 200

    listed = {t["name"]: t for t in client.get(TOKENS, headers=admin_headers).json()}
    assert listed["ci"]["state"] == "active"
    assert listed["ci"]["prefix"] == issued["token"][:10]
    assert listed["ci"]["last_used_at"] is not None
    assert "token" not in listed["ci"] and "digest" not in listed["ci"]

    assert client.delete(f"{TOKENS}/ci", headers=admin_headers).status_code == 204
    refused = client.post("/api/v1/events", json=[], headers=bearer(issued["token"]))
    assert refused.status_code == 401
    assert "was revoked" in refused.json()["detail"]
    listed = {t["name"]: t for t in client.get(TOKENS, headers=admin_headers).json()}
    assert listed["ci"]["state"] == "revoked"
    assert client.delete(f"{TOKENS}/ci", headers=admin_headers).status_code == 204


@pytest.mark.parametrize("role", ["viewer", "editor", "ingest"])
def test_only_admins_manage_tokens(
    client: TestClient, admin_headers: dict[str, str], role: str
) -> None:
    issued = client.post(TOKENS, json={"name": f"as-{role}", "role": role}, headers=admin_headers)
    headers = bearer(issued.json()["token"])
    assert client.get(TOKENS, headers=headers).status_code == 403
    body = {"name": "sneaky", "role": "admin"}
    assert client.post(TOKENS, json=body, headers=headers).status_code == 403
    assert client.delete(f"{TOKENS}/as-{role}", headers=headers).status_code == 403


def test_the_token_is_checked_before_the_body(client: TestClient) -> None:
    response = client.post(TOKENS, content="{not json")
    assert response.status_code == 401


@pytest.mark.parametrize(
    ("body", "status", "detail"),
    [
        ({"name": "x", "role": "root"}, 422, "role: Input should be"),
        ({"name": "x"}, 422, "role: Field required"),
        ({"name": "x", "role": "viewer", "expires_in": "soon"}, 422, "expires_in:"),
        ({"name": "x", "role": "viewer", "expires_in": "9999999999999d"}, 422, "expires_in:"),
        ({"name": "x", "role": "viewer", "ttl": "1d"}, 422, "ttl: Extra inputs"),
        ({"name": "bad name", "role": "viewer"}, 422, "is not valid"),
    ],
)
def test_bad_token_requests_name_the_field(
    client: TestClient,
    admin_headers: dict[str, str],
    body: dict[str, str],
    status: int,
    detail: str,
) -> None:
    response = client.post(TOKENS, json=body, headers=admin_headers)
    assert response.status_code == status
    assert detail in response.json()["detail"]


def test_a_taken_name_is_409_and_an_unknown_one_404(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    body = {"name": "twice", "role": "viewer"}
    assert client.post(TOKENS, json=body, headers=admin_headers).status_code == 201
    again = client.post(TOKENS, json=body, headers=admin_headers)
    assert again.status_code == 409 and again.json()["error"] == "TokenNameTaken"
    missing = client.delete(f"{TOKENS}/nobody", headers=admin_headers)
    assert missing.status_code == 404 and missing.json()["error"] == "TokenNotFound"
