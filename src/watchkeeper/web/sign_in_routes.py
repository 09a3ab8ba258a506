"""Signing in and out of the dashboard: ``/login`` and ``/logout``."""

from __future__ import annotations

import secrets

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from watchkeeper.auth import sessions
from watchkeeper.auth.exceptions import SignInFailed, SignInThrottled
from watchkeeper.config import Settings
from watchkeeper.db import session_scope, utcnow
from watchkeeper.web.access import (
    SESSION_COOKIE,
    CSRFFailed,
    Viewer,
    checked_form,
    client_address,
    optional_viewer,
    read_form,
    safe_next,
    session_rules,
    sign_in_limits,
)
from watchkeeper.web.templating import render

router = APIRouter(include_in_schema=False, tags=["web"])

# Double-submit token of the sign-in form: there is no session yet to hold a CSRF token, so
# the form and a cookie carry the same random value and must agree.
LOGIN_COOKIE = "wk_login"


def secure_cookies(request: Request) -> bool:
    """Whether cookies get the Secure flag: the setting, else whether this request is HTTPS."""
    settings: Settings = request.app.state.settings
    if settings.cookie_secure is not None:
        return settings.cookie_secure
    return request.url.scheme == "https"


def _login_page(
    request: Request, *, next_path: str, name: str = "", error: str = "", status_code: int = 200
) -> HTMLResponse:
    token = secrets.token_urlsafe(24)
    response = render(
        request,
        "login.html",
        viewer=None,
        status_code=status_code,
        login_token=token,
        next_path=next_path,
        name=name,
        error=error,
    )
    response.set_cookie(
        LOGIN_COOKIE,
        token,
        max_age=3600,
        path="/login",
        httponly=True,
        samesite="strict",
        secure=secure_cookies(request),
    )
    return response


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str | None = None) -> Response:
    """The sign-in form (a signed-in browser goes straight on)."""
    target = safe_next(next)
    if optional_viewer(request) is not None:
        return RedirectResponse(target, status_code=303)
    return _login_page(request, next_path=target)


@router.post("/login", response_class=HTMLResponse)
async def login(request: Request) -> Response:
    """Check the name and password; on success a new session cookie and a redirect."""
    fields = await read_form(request)
    # Hashing a password takes a fifth of a second of CPU: off the event loop, as is the SQL.
    return await run_in_threadpool(_sign_in, request, fields)


def _sign_in(request: Request, fields: dict[str, str]) -> Response:
    target = safe_next(fields.get("next"))
    name = fields.get("name", "")[:64]
    cookie = request.cookies.get(LOGIN_COOKIE, "")
    presented = fields.get("login_token", "")
    if not cookie or not presented or not secrets.compare_digest(cookie, presented):
        raise CSRFFailed("the sign-in form expired; reload the page and sign in again")
    settings: Settings = request.app.state.settings
    factory = request.app.state.session_factory
    address = client_address(request)
    try:
        with session_scope(factory) as session:
            issued = sessions.sign_in(
                session,
                name=name,
                password=fields.get("password", ""),
                address=address,
                user_agent=request.headers.get("user-agent", ""),
                now=utcnow(),
                rules=session_rules(settings),
                limits=sign_in_limits(settings),
            )
    except SignInFailed as exc:
        with session_scope(factory) as session:
            sessions.record_failure(session, name=name, address=address, now=utcnow())
        return _login_page(request, next_path=target, name=name, error=exc.detail, status_code=401)
    except SignInThrottled as exc:
        page = _login_page(request, next_path=target, name=name, error=exc.detail, status_code=429)
        page.headers["Retry-After"] = str(exc.retry_after)
        return page
    response = RedirectResponse(target, status_code=303)
    # A new value at every sign-in (no fixation); no max_age: it ends with the browser too.
    response.set_cookie(
        SESSION_COOKIE,
        issued.secret,
        httponly=True,
        samesite="lax",
        secure=secure_cookies(request),
        path="/",
    )
    response.delete_cookie(LOGIN_COOKIE, path="/login")
    return response


@router.get("/logout", response_class=HTMLResponse)
def logout_page(request: Request, signed_in: Viewer) -> HTMLResponse:
    """A page with the sign-out button (signing out is a POST, like every change)."""
    return render(request, "logout.html", viewer=signed_in)


@router.post("/logout")
async def logout(request: Request, signed_in: Viewer) -> Response:
    """End this browser's session and forget its cookie."""
    await checked_form(request, signed_in)
    await run_in_threadpool(_sign_out, request)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


def _sign_out(request: Request) -> None:
    with session_scope(request.app.state.session_factory) as session:
        sessions.sign_out(session, secret=request.cookies.get(SESSION_COOKIE, ""))
