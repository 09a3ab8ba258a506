"""Signed-in dashboard clients for page tests: a user of a role and their session cookie."""

from __future__ import annotations

import re
from dataclasses import dataclass

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from watchkeeper.auth import people, sessions
from watchkeeper.auth.sessions import SessionRules
from watchkeeper.db import utcnow
from watchkeeper.web.access import SESSION_COOKIE

PASSWORD = "a long enough test password"


@dataclass(frozen=True)
class Browser:
    """A test client holding a session cookie, and that session's CSRF token."""

    client: TestClient
    name: str
    csrf_token: str

    def post_form(self, path: str, fields: dict[str, str] | None = None) -> object:
        """POST a form with this session's CSRF token, not following redirects."""
        data = {"csrf_token": self.csrf_token, **(fields or {})}
        return self.client.post(path, data=data, follow_redirects=False)


def make_user(
    session_factory: sessionmaker[Session],
    name: str,
    role: str,
    *,
    password: str | None = None,
    time_zone: str = "UTC",
) -> None:
    """Create a user (with a dashboard password when given), committed."""
    with session_factory() as session:
        now = utcnow()
        people.create_user(session, name=name, role=role, now=now, time_zone=time_zone)
        if password is not None:
            sessions.set_password(session, name=name, password=password, now=now)
        session.commit()


def signed_in(
    client: TestClient, session_factory: sessionmaker[Session], *, role: str, name: str = ""
) -> Browser:
    """A new user of ``role`` with a session cookie set on ``client`` (no password needed)."""
    name = name or f"{role}-user"
    make_user(session_factory, name, role)
    with session_factory() as session:
        user = people.get_user(session, name=name)
        issued = sessions.open_session(
            session,
            user=user,
            address="testclient",
            user_agent="",
            now=utcnow(),
            rules=SessionRules(),
        )
        session.commit()
    client.cookies.set(SESSION_COOKIE, issued.secret)
    return Browser(client=client, name=name, csrf_token=issued.csrf_token)


def login_token(client: TestClient, path: str = "/login") -> str:
    """The double-submit token of a fresh sign-in form (its cookie is kept by the client)."""
    page = client.get(path)
    found = re.search(r'name="login_token" value="([^"]+)"', page.text)
    assert found is not None, page.text
    return found.group(1)
