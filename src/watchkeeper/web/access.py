"""Who is looking at a dashboard page, what they may do, and checked form posts.

Every page but the sign-in page needs a session: without one the browser is sent to
``/login`` (with the page it wanted as ``next``). State changes are POSTs carrying the
session's CSRF token, in the form (``csrf_token``) or, for htmx requests, in the
``X-CSRF-Token`` header; the same role checks as the API decide what a user may do.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Annotated
from urllib.parse import parse_qsl, quote

from fastapi import Depends, Request
from sqlalchemy.orm import Session, sessionmaker

from watchkeeper.auth import audit, sessions
from watchkeeper.auth.audit import Actor, ActorKind
from watchkeeper.auth.roles import Permission, allows, roles_granting
from watchkeeper.auth.sessions import LimitRules, SessionRules, SignedIn
from watchkeeper.config import Settings
from watchkeeper.db import session_scope, utcnow
from watchkeeper.errors import Forbidden, InvalidInput
from watchkeeper.limits import read_body

SESSION_COOKIE = "wk_session"
FORM_TYPE = "application/x-www-form-urlencoded"
MAX_FORM_FIELDS = 200


class SignInRequired(Exception):
    """No valid session: the browser is sent to the sign-in page."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


class PageForbidden(Forbidden):
    """The signed-in user's role may not do this."""


class CSRFFailed(Forbidden):
    """A state-changing request without this session's CSRF token."""


def session_rules(settings: Settings) -> SessionRules:
    """How long dashboard sessions last, from the settings."""
    return SessionRules(
        lifetime=timedelta(hours=settings.session_lifetime_hours),
        idle=timedelta(minutes=settings.session_idle_minutes),
    )


def sign_in_limits(settings: Settings) -> LimitRules:
    """How failed sign-ins are throttled, from the settings."""
    return LimitRules(
        per_name=settings.sign_in_max_failures,
        per_address=settings.sign_in_max_failures_per_address,
        interval=timedelta(minutes=settings.sign_in_window_minutes),
    )


def client_address(request: Request) -> str:
    """The client's address as the server saw it (behind a proxy: uvicorn's --proxy-headers)."""
    return request.client.host if request.client is not None else "unknown"


def safe_next(path: str | None) -> str:
    """A local path to return to after sign-in; anything else (another site) becomes ``/``."""
    if not path or not path.startswith("/") or path.startswith("//") or "\\" in path:
        return "/"
    return path


def optional_viewer(request: Request) -> SignedIn | None:
    """The signed-in user of the request's session cookie, if any."""
    secret = request.cookies.get(SESSION_COOKIE, "")
    if not secret:
        return None
    factory: sessionmaker[Session] = request.app.state.session_factory
    settings: Settings = request.app.state.settings
    with session_scope(factory) as session:
        viewer = sessions.current(
            session, secret=secret, now=utcnow(), rules=session_rules(settings)
        )
    if viewer is not None:
        request.state.viewer = viewer
    return viewer


@contextmanager
def page_session(request: Request) -> Iterator[Session]:
    """A unit of work for a page, committed at the end; its changes go into the audit log as
    the signed-in user's."""
    with session_scope(request.app.state.session_factory) as session:
        signed_in: SignedIn | None = getattr(request.state, "viewer", None)
        if signed_in is not None:
            audit.bind_actor(session, Actor(ActorKind.USER.value, signed_in.user.name))
        yield session


def viewer(request: Request) -> SignedIn:
    """The signed-in user, or SignInRequired (a redirect to the sign-in page)."""
    found = optional_viewer(request)
    if found is None:
        wanted = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise SignInRequired(wanted)
    return found


def may(signed_in: SignedIn, permission: Permission) -> bool:
    """Whether the signed-in user's role grants ``permission``."""
    return allows(signed_in.user.role, permission)


def ensure(signed_in: SignedIn, permission: Permission, *, action: str) -> None:
    """PageForbidden unless the user's role grants ``permission``, naming who may."""
    if not may(signed_in, permission):
        needed = ", ".join(role.value for role in roles_granting(permission))
        raise PageForbidden(
            f"your role ({signed_in.user.role}) may not {action}; this needs one of: {needed}"
        )


def page_permission(permission: Permission) -> Callable[[Request], SignedIn]:
    """A dependency: the signed-in user, who must hold ``permission`` (403 otherwise)."""

    def dependency(request: Request) -> SignedIn:
        signed_in = viewer(request)
        ensure(signed_in, permission, action=f"{permission.value} here")
        return signed_in

    return dependency


Viewer = Annotated[SignedIn, Depends(viewer)]


async def checked_form(request: Request, signed_in: SignedIn) -> dict[str, str]:
    """The POSTed form's fields once its CSRF token matches the session's (403 otherwise).

    Read within the body limit; repeated fields keep their last value.
    """
    if not _same_origin(request):
        raise CSRFFailed("the request came from another site; reload the page and try again")
    fields = await read_form(request)
    presented = request.headers.get("x-csrf-token") or fields.get("csrf_token", "")
    if not presented or not secrets.compare_digest(presented, signed_in.csrf_token):
        raise CSRFFailed("the form's security token is missing or stale; reload the page")
    return fields


async def permitted_form(
    request: Request, signed_in: SignedIn, permission: Permission, *, action: str
) -> dict[str, str]:
    """A POSTed form's fields once the role (403 otherwise) and the CSRF token are checked."""
    ensure(signed_in, permission, action=action)
    return await checked_form(request, signed_in)


def required_fields(fields: dict[str, str], *names: str) -> list[str]:
    """The named form fields, stripped, in order; InvalidInput naming the first one missing."""
    values = []
    for name in names:
        value = fields.get(name, "").strip()
        if not value:
            raise InvalidInput(f"{name}: required")
        values.append(value)
    return values


async def read_form(request: Request) -> dict[str, str]:
    """A URL-encoded form body as a dict (422 for any other content type or bad encoding)."""
    body = await read_body(request)
    if not body:
        return {}
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != FORM_TYPE:
        raise InvalidInput(f"send the form as {FORM_TYPE}")
    try:
        pairs = parse_qsl(
            body.decode("utf-8"),
            keep_blank_values=True,
            strict_parsing=False,
            max_num_fields=MAX_FORM_FIELDS,
        )
    except (UnicodeDecodeError, ValueError) as exc:
        raise InvalidInput(f"the form could not be read: {exc}") from None
    return dict(pairs)


def _same_origin(request: Request) -> bool:
    # Defence in depth beside the token: browsers send Origin on POSTs; when present it must
    # be this server (SameSite=Lax already keeps the cookie off cross-site POSTs).
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        return origin is None
    host = request.headers.get("host", "")
    return origin.split("://", 1)[-1] == host


def login_redirect(next_path: str) -> str:
    """The sign-in URL that returns to ``next_path`` afterwards."""
    target = safe_next(next_path)
    return "/login" if target == "/" else f"/login?next={quote(target, safe='/')}"
