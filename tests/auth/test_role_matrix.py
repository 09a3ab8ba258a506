"""Each role against one action of each permission on the API: allowed or 403, nothing else.

viewer reads; responder also acknowledges, resolves, silences and runs incidents; editor also
changes SLOs, schedules, policies and routing; admin also manages tokens and people; an ingest
token only sends events.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from watchkeeper.auth import service as auth_service
from watchkeeper.db import utcnow

ROLES = ("admin", "editor", "responder", "viewer", "ingest")
# (permission, method, path, JSON body)
ACTIONS: list[tuple[str, str, str, dict[str, Any] | None]] = [
    ("read", "GET", "/api/v1/slos", None),
    ("read", "GET", "/api/v1/incidents", None),
    ("respond", "POST", "/api/v1/incidents", {"title": "Checkout errors", "severity": "SEV3"}),
    ("respond", "POST", "/api/v1/silences", {"matchers": ["service=shop"], "duration": "1h"}),
    ("write", "PUT", "/api/v1/alert-routes", {"routes": []}),
    ("admin", "GET", "/api/v1/tokens", None),
    ("admin", "POST", "/api/v1/tokens", {"name": "made-by-test", "role": "viewer"}),
    ("ingest", "POST", "/api/v1/events", {"events": []}),
]
GRANTED = {
    "admin": {"read", "respond", "write", "admin", "ingest"},
    "editor": {"read", "respond", "write", "ingest"},
    "responder": {"read", "respond"},
    "viewer": {"read"},
    "ingest": {"ingest"},
}


def _headers(session_factory: sessionmaker[Session], role: str) -> dict[str, str]:
    with session_factory() as session:
        issued = auth_service.create(session, name=f"matrix-{role}", role=role, now=utcnow())
        session.commit()
    return {"Authorization": f"Bearer {issued.token}"}


@pytest.mark.parametrize("role", ROLES)
def test_each_role_may_do_exactly_what_it_is_granted(
    client: TestClient, session_factory: sessionmaker[Session], role: str
) -> None:
    headers = _headers(session_factory, role)
    for permission, method, path, body in ACTIONS:
        response = client.request(method, path, headers=headers, json=body)
        if permission in GRANTED[role]:
            assert response.status_code < 400, (role, method, path, response.text)
        else:
            assert response.status_code == 403, (role, method, path, response.text)
            assert response.json()["error"] == "RoleNotAllowed"
            assert role in response.json()["detail"]
