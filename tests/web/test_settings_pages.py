"""Settings pages: users, API tokens, integrations; changes by admins only, with CSRF."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tests.web.signing import make_user, signed_in
from watchkeeper.alerting import service as alerting
from watchkeeper.auth import people
from watchkeeper.auth import service as tokens
from watchkeeper.db import utcnow

BELOW_ADMIN = ["viewer", "responder", "editor"]
XSS = "<script>alert(1)</script>"

# (path, form fields) of every change form on the settings pages
CHANGES = [
    ("/settings/users", {"name": "newbie", "role": "viewer"}),
    ("/settings/users/role", {"name": "ann", "role": "admin"}),
    ("/settings/tokens", {"name": "ci", "role": "viewer"}),
    ("/settings/tokens/revoke", {"name": "old"}),
    ("/settings/integrations", {"name": "prom", "type": "alertmanager"}),
]


def world(session_factory: sessionmaker[Session]) -> str:
    """A user ann, a token old and an integration am; returns the integration's key."""
    make_user(session_factory, "ann", "editor")
    with session_factory() as session:
        tokens.create(session, name="old", role="viewer", now=utcnow())
        key = alerting.create_integration(session, name="am", type="alertmanager", now=utcnow()).key
        session.commit()
    return key


@pytest.mark.parametrize("role", ["viewer", "responder", "editor", "admin"])
def test_users_and_integrations_pages_open_for_every_role(
    client: TestClient, session_factory: sessionmaker[Session], role: str
) -> None:
    key = world(session_factory)
    signed_in(client, session_factory, role=role)
    users = client.get("/settings")
    assert users.status_code == 200
    assert 'data-user="ann"' in users.text
    integrations = client.get("/settings/integrations")
    assert integrations.status_code == 200 and 'data-integration="am"' in integrations.text
    admin = role == "admin"
    # Keys (and intake URLs, which hold them) are for admins only.
    assert (key in integrations.text) is admin
    assert ("/api/v1/integrations/" in integrations.text) is admin
    assert ("Create a user" in users.text) is admin
    assert ("Change role" in users.text) is admin
    assert ('href="/settings/tokens"' in users.text) is admin


@pytest.mark.parametrize("role", BELOW_ADMIN)
def test_tokens_page_is_for_admins(
    client: TestClient, session_factory: sessionmaker[Session], role: str
) -> None:
    world(session_factory)
    signed_in(client, session_factory, role=role)
    page = client.get("/settings/tokens")
    assert page.status_code == 403
    assert "admin" in page.text and "old" not in page.text


@pytest.mark.parametrize("role", BELOW_ADMIN)
@pytest.mark.parametrize(("path", "fields"), CHANGES)
def test_every_change_is_refused_below_admin(
    client: TestClient,
    session_factory: sessionmaker[Session],
    role: str,
    path: str,
    fields: dict[str, str],
) -> None:
    world(session_factory)
    browser = signed_in(client, session_factory, role=role)
    refused = browser.post_form(path, fields)
    assert refused.status_code == 403  # type: ignore[attr-defined]
    assert "this needs one of: admin" in refused.text  # type: ignore[attr-defined]
    with session_factory() as session:
        assert people.get_user(session, name="ann").role == "editor"
        assert [t.name for t in tokens.list_tokens(session)] == ["old"]
        assert tokens.list_tokens(session)[0].revoked_at is None
        assert [i.name for i in alerting.list_integrations(session) if i.type != "slo"] == ["am"]
        assert "newbie" not in people.all_user_names(session)


@pytest.mark.parametrize(("path", "fields"), CHANGES)
def test_every_change_needs_the_csrf_token(
    client: TestClient, session_factory: sessionmaker[Session], path: str, fields: dict[str, str]
) -> None:
    world(session_factory)
    signed_in(client, session_factory, role="admin")
    refused = client.post(path, data={**fields, "csrf_token": "forged"}, follow_redirects=False)
    assert refused.status_code == 403 and "security token" in refused.text


def test_an_admin_creates_users_and_changes_roles(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    world(session_factory)
    browser = signed_in(client, session_factory, role="admin")
    done = browser.post_form(
        "/settings/users",
        {"name": "kim", "role": "responder", "email": "kim@example.com", "time_zone": "Asia/Seoul"},
    )
    assert done.status_code == 303  # type: ignore[attr-defined]
    changed = browser.post_form("/settings/users/role", {"name": "ann", "role": "viewer"})
    assert changed.status_code == 303  # type: ignore[attr-defined]
    with session_factory() as session:
        kim = people.get_user(session, name="kim")
        assert (kim.role, kim.time_zone, kim.email) == (
            "responder",
            "Asia/Seoul",
            "kim@example.com",
        )
        assert people.get_user(session, name="ann").role == "viewer"
    row = re.search(r'data-user="kim">(.*?)</tr>', client.get("/settings").text, re.S)
    assert row is not None and "<option selected>responder</option>" in row.group(1)


@pytest.mark.parametrize(
    ("fields", "status", "words"),
    [
        ({"name": "Bad Name", "role": "viewer"}, 422, "name:"),
        ({"name": "ann", "role": "viewer"}, 409, "exists"),
        ({"name": "kim", "role": "boss"}, 422, "role:"),
        ({"name": "kim", "role": "viewer", "time_zone": "Mars/Base"}, 422, "time_zone:"),
        ({"name": "", "role": "viewer"}, 422, "name: required"),
    ],
)
def test_bad_users_are_refused_naming_the_field(
    client: TestClient,
    session_factory: sessionmaker[Session],
    fields: dict[str, str],
    status: int,
    words: str,
) -> None:
    world(session_factory)
    browser = signed_in(client, session_factory, role="admin")
    refused = browser.post_form("/settings/users", fields)
    assert refused.status_code == status  # type: ignore[attr-defined]
    assert words in refused.text  # type: ignore[attr-defined]


def test_the_last_admin_keeps_the_role(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    browser = signed_in(client, session_factory, role="admin", name="boss")
    refused = browser.post_form("/settings/users/role", {"name": "boss", "role": "viewer"})
    assert refused.status_code == 409  # type: ignore[attr-defined]
    assert "only admin" in refused.text  # type: ignore[attr-defined]


def test_a_new_tokens_secret_is_shown_once(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    world(session_factory)
    browser = signed_in(client, session_factory, role="admin")
    created = browser.post_form(
        "/settings/tokens", {"name": "ci", "role": "editor", "expires_in": "90d"}
    )
    assert created.status_code == 200  # type: ignore[attr-defined]
    assert created.headers["cache-control"] == "no-store"  # type: ignore[attr-defined]
    found = re.search(r'id="token-secret">(wk_[^<]+)<', created.text)  # type: ignore[attr-defined]
    assert found is not None
    secret = found.group(1)
    # The secret works against the API, and no page shows it again.
    assert (
        client.get("/api/v1/slos", headers={"Authorization": f"Bearer {secret}"}).status_code == 200
    )
    listing = client.get("/settings/tokens").text
    assert secret not in listing and 'data-token="ci"' in listing
    assert secret[:10] in listing  # the prefix, to recognise it


def test_bad_tokens_are_refused_naming_the_field(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    world(session_factory)
    browser = signed_in(client, session_factory, role="admin")
    taken = browser.post_form("/settings/tokens", {"name": "old", "role": "viewer"})
    assert taken.status_code == 409  # type: ignore[attr-defined]
    lifetime = browser.post_form(
        "/settings/tokens", {"name": "x", "role": "viewer", "expires_in": "soon"}
    )
    assert lifetime.status_code == 422 and "expires_in:" in lifetime.text  # type: ignore[attr-defined]


def test_an_admin_revokes_a_token(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    world(session_factory)
    browser = signed_in(client, session_factory, role="admin")
    assert "Revoke" in client.get("/settings/tokens").text
    done = browser.post_form("/settings/tokens/revoke", {"name": "old"})
    assert done.status_code == 303  # type: ignore[attr-defined]
    with session_factory() as session:
        assert tokens.list_tokens(session)[0].revoked_at is not None
    row = re.search(r'data-token="old">(.*?)</tr>', client.get("/settings/tokens").text, re.S)
    assert row is not None and "revoked" in row.group(1) and "Revoke" not in row.group(1)
    missing = browser.post_form("/settings/tokens/revoke", {"name": "nope"})
    assert missing.status_code == 404  # type: ignore[attr-defined]


def test_an_admin_creates_an_integration_and_sees_its_intake_url(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    world(session_factory)
    browser = signed_in(client, session_factory, role="admin")
    done = browser.post_form(
        "/settings/integrations", {"name": "pd", "type": "pagerduty", "default_urgency": "low"}
    )
    assert done.status_code == 303  # type: ignore[attr-defined]
    with session_factory() as session:
        created = alerting.get_integration(session, name="pd")
        assert created.default_urgency == "low"
    page = client.get("/settings/integrations").text
    assert created.key in page and "/v2/enqueue" in page
    bad = browser.post_form("/settings/integrations", {"name": "x", "type": "nagios"})
    assert bad.status_code == 422 and "type:" in bad.text  # type: ignore[attr-defined]


def test_empty_lists_say_what_to_do(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    signed_in(client, session_factory, role="admin")
    assert "No API tokens yet: create one below" in client.get("/settings/tokens").text
    assert "No integrations yet: create one below" in client.get("/settings/integrations").text


def test_names_are_escaped(client: TestClient, session_factory: sessionmaker[Session]) -> None:
    # Token and integration names refuse markup; the escaping is checked on the one free text
    # a settings page echoes: a refused name in the error message.
    browser = signed_in(client, session_factory, role="admin")
    refused = browser.post_form("/settings/tokens", {"name": XSS, "role": "viewer"})
    assert refused.status_code == 422  # type: ignore[attr-defined]
    assert XSS not in refused.text  # type: ignore[attr-defined]
    assert "&lt;script&gt;" in refused.text  # type: ignore[attr-defined]


def test_users_are_paginated(client: TestClient, session_factory: sessionmaker[Session]) -> None:
    with session_factory() as session:
        for number in range(60):
            people.create_user(session, name=f"user-{number:02d}", role="viewer", now=utcnow())
        session.commit()
    signed_in(client, session_factory, role="viewer", name="zed")
    first = client.get("/settings").text
    assert first.count("data-user=") == 50 and "page 1 of 2" in first
    second = client.get("/settings?page=2").text
    assert second.count("data-user=") == 11 and 'data-user="zed"' in second
    assert client.get("/settings?page=0").status_code == 422
