"""Signing in and out: cookies, redirects, CSRF, throttling, roles on pages."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from tests.web.signing import PASSWORD, login_token, make_user, signed_in
from watchkeeper.auth.models import WebSession
from watchkeeper.web.access import SESSION_COOKIE

PAGES = ["/", "/logout"]


def sign_in(client: TestClient, name: str, password: str, next_path: str = "/") -> object:
    token = login_token(client)
    return client.post(
        "/login",
        data={"login_token": token, "name": name, "password": password, "next": next_path},
        follow_redirects=False,
    )


@pytest.mark.parametrize("path", PAGES)
def test_pages_without_a_session_redirect_to_login(client: TestClient, path: str) -> None:
    response = client.get(path, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login")


def test_next_is_kept_and_only_local(client: TestClient) -> None:
    response = client.get("/logout?x=1", follow_redirects=False)
    assert response.headers["location"] == "/login?next=/logout%3Fx%3D1"
    page = client.get("/login?next=//evil.example/").text
    assert 'name="next" value="/"' in page


def test_the_login_page_is_a_form_with_a_password_field(client: TestClient) -> None:
    response = client.get("/login")
    assert response.status_code == 200
    assert 'type="password"' in response.text
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie


def test_sign_in_sets_a_new_http_only_cookie_and_sign_out_ends_it(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    make_user(session_factory, "alex", "responder", password=PASSWORD)
    client.cookies.set(SESSION_COOKIE, "planted-by-an-attacker")
    response = sign_in(client, "Alex", PASSWORD, next_path="/logout")
    assert response.status_code == 303
    assert response.headers["location"] == "/logout"
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie
    found = re.search(rf"{SESSION_COOKIE}=([^;]+);", cookie)
    assert found is not None
    secret = found.group(1)
    assert secret != "planted-by-an-attacker"  # no session fixation
    client.cookies.clear()
    client.cookies.set(SESSION_COOKIE, secret)
    page = client.get("/")
    assert page.status_code == 200
    assert "alex · responder" in page.text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert csrf is not None
    # Signing out needs the CSRF token.
    refused = client.post("/logout", data={"csrf_token": "wrong"}, follow_redirects=False)
    assert refused.status_code == 403
    assert "security token" in refused.text
    done = client.post("/logout", data={"csrf_token": csrf.group(1)}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/login"
    client.cookies.set(SESSION_COOKIE, secret)  # a copied cookie no longer works either
    assert client.get("/", follow_redirects=False).status_code == 303


def test_wrong_password_and_unknown_user_get_the_same_answer(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    make_user(session_factory, "alex", "responder", password=PASSWORD)
    wrong = sign_in(client, "alex", "not the password at all")
    unknown = sign_in(client, "nobody", "not the password at all")
    assert wrong.status_code == unknown.status_code == 401
    for response in (wrong, unknown):
        assert "wrong user name or password" in response.text
    assert SESSION_COOKIE not in client.cookies


def test_a_user_without_a_password_cannot_sign_in(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    make_user(session_factory, "sam", "viewer")
    assert sign_in(client, "sam", "").status_code == 401


def test_the_sign_in_form_needs_its_token(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    make_user(session_factory, "alex", "responder", password=PASSWORD)
    response = client.post(
        "/login", data={"login_token": "forged", "name": "alex", "password": PASSWORD}
    )
    assert response.status_code == 403
    assert SESSION_COOKIE not in client.cookies


def test_failed_sign_ins_are_throttled_even_with_the_right_password(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    make_user(session_factory, "alex", "responder", password=PASSWORD)
    codes = [sign_in(client, "alex", f"guess number {i}").status_code for i in range(5)]
    assert codes == [401] * 5
    blocked = sign_in(client, "alex", PASSWORD)
    assert blocked.status_code == 429
    assert int(blocked.headers["retry-after"]) > 0
    assert "too many failed sign-ins" in blocked.text
    assert SESSION_COOKIE not in client.cookies


def test_a_viewer_session_gets_403_on_a_state_change_and_sessions_are_counted(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    browser = signed_in(client, session_factory, role="viewer")
    assert client.get("/").status_code == 200
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(WebSession)) == 1
    assert browser.csrf_token


def test_page_errors_are_html(client: TestClient, session_factory: sessionmaker[Session]) -> None:
    signed_in(client, session_factory, role="viewer")
    response = client.post("/logout", data={}, follow_redirects=False)
    assert response.status_code == 403
    assert response.headers["content-type"].startswith("text/html")
    assert 'id="error-banner"' in response.text
