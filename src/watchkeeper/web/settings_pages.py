"""Settings pages: users, API tokens and integrations (changes by admins only).

Every signed-in user sees what is not secret: users with their roles, and integrations by
name and type. API tokens and integration keys (an intake URL holds its key) are shown to
admins only, like the API does; a new token's secret is shown once, on the page answering
the form that created it, and never again.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from watchkeeper.alerting import service as alerting
from watchkeeper.auth import people
from watchkeeper.auth import service as tokens
from watchkeeper.auth.exceptions import InvalidTokenRequest
from watchkeeper.auth.people import USER_ROLES
from watchkeeper.auth.roles import Permission, Role
from watchkeeper.auth.sessions import SignedIn
from watchkeeper.core.duration import parse_duration
from watchkeeper.db import utcnow
from watchkeeper.oncall import service as oncall
from watchkeeper.web.access import (
    Viewer,
    may,
    page_permission,
    page_session,
    permitted_form,
    required_fields,
)
from watchkeeper.web.pager import Pager, page_number
from watchkeeper.web.templating import render

router = APIRouter(include_in_schema=False, tags=["web"])
Admin = Depends(page_permission(Permission.ADMIN))
TOKEN_ROLES = tuple(role.value for role in Role)


def _sections(signed_in: SignedIn) -> list[tuple[str, str]]:
    sections = [("/settings", "Users"), ("/settings/integrations", "Integrations")]
    if may(signed_in, Permission.ADMIN):
        sections.append(("/settings/tokens", "API tokens"))
    return sections


def settings_page(
    request: Request, signed_in: SignedIn, template: str, **context: Any
) -> HTMLResponse:
    """A settings page with the section links the viewer may follow."""
    return render(request, template, viewer=signed_in, sections=_sections(signed_in), **context)


def in_session(request: Request, work: Callable[[Session], Any]) -> Any:
    """``work`` done in the page's session (committed, with the viewer as the audit actor)."""
    with page_session(request) as session:
        return work(session)


async def admin_form(request: Request, signed_in: SignedIn, action: str) -> dict[str, str]:
    """The form's fields once the role (403 below admin) and the CSRF token are checked."""
    return await permitted_form(request, signed_in, Permission.ADMIN, action=action)


# -- users ---------------------------------------------------------------------------------


@router.get("/settings", response_class=HTMLResponse)
def users_page(request: Request, signed_in: Viewer, page: str | None = None) -> HTMLResponse:
    """Users and their roles; admins also create users and change roles."""
    number = page_number(page)
    users = in_session(request, lambda session: [p.user for p in people.list_users(session)])
    pager = Pager(number, len(users))
    return settings_page(
        request,
        signed_in,
        "settings_users.html",
        users=users[pager.offset : pager.offset + pager.size],
        pager=pager,
        roles=[role.value for role in USER_ROLES],
    )


@router.post("/settings/users")
async def create_user(request: Request, signed_in: Viewer) -> Response:
    """Create a user (admin); a password is set with ``watchkeeper user password``."""
    fields = await admin_form(request, signed_in, "create users")
    name, role = required_fields(fields, "name", "role")
    email = fields.get("email", "").strip() or None
    zone = fields.get("time_zone", "").strip() or "UTC"
    await run_in_threadpool(
        in_session,
        request,
        lambda session: people.create_user(
            session, name=name, role=role, email=email, time_zone=zone, now=utcnow()
        ),
    )
    return RedirectResponse("/settings#users", status_code=303)


@router.post("/settings/users/role")
async def change_role(request: Request, signed_in: Viewer) -> Response:
    """Give a user another role (admin); the last admin keeps theirs."""
    fields = await admin_form(request, signed_in, "change roles")
    name, role = required_fields(fields, "name", "role")
    await run_in_threadpool(
        in_session, request, lambda session: people.set_role(session, name=name, role=role)
    )
    return RedirectResponse("/settings#users", status_code=303)


# -- API tokens ----------------------------------------------------------------------------


@router.get("/settings/tokens", response_class=HTMLResponse)
def tokens_page(
    request: Request, signed_in: SignedIn = Admin, page: str | None = None
) -> HTMLResponse:
    """API tokens with role, state and last use (admin); never their secrets."""
    number = page_number(page)
    now = utcnow()

    def rows(session: Session) -> list[dict[str, Any]]:
        return [
            {"token": t, "state": tokens.state_of(t, now=now).value}
            for t in tokens.list_tokens(session)
        ]

    found = in_session(request, rows)
    pager = Pager(number, len(found))
    return settings_page(
        request,
        signed_in,
        "settings_tokens.html",
        rows=found[pager.offset : pager.offset + pager.size],
        pager=pager,
        roles=TOKEN_ROLES,
    )


def _lifetime(raw: str) -> timedelta | None:
    if not raw.strip():
        return None
    try:
        return parse_duration(raw.strip())
    except ValueError as exc:
        raise InvalidTokenRequest(f"expires_in: {exc}") from None


@router.post("/settings/tokens", response_class=HTMLResponse)
async def create_token(request: Request, signed_in: Viewer) -> HTMLResponse:
    """Create a token (admin) and show its secret this once."""
    fields = await admin_form(request, signed_in, "create API tokens")
    name, role = required_fields(fields, "name", "role")
    lifetime = _lifetime(fields.get("expires_in", ""))
    issued = await run_in_threadpool(
        in_session,
        request,
        lambda session: tokens.create(
            session, name=name, role=role, now=utcnow(), expires_in=lifetime
        ),
    )
    return settings_page(
        request,
        signed_in,
        "settings_token_created.html",
        issued=issued,
        api_url=request.app.state.settings.public_url.rstrip("/") + "/api/v1",
    )


@router.post("/settings/tokens/revoke")
async def revoke_token(request: Request, signed_in: Viewer) -> Response:
    """Revoke a token (admin): it stops authenticating at once."""
    fields = await admin_form(request, signed_in, "revoke API tokens")
    (name,) = required_fields(fields, "name")
    await run_in_threadpool(
        in_session, request, lambda session: tokens.revoke(session, name=name, now=utcnow())
    )
    return RedirectResponse("/settings/tokens", status_code=303)


# -- integrations --------------------------------------------------------------------------


@router.get("/settings/integrations", response_class=HTMLResponse)
def integrations_page(request: Request, signed_in: Viewer, page: str | None = None) -> HTMLResponse:
    """Alert sources; their keys and intake URLs to admins only."""
    number = page_number(page)
    base_url = request.app.state.settings.public_url
    secrets = may(signed_in, Permission.ADMIN)

    def rows(session: Session) -> tuple[list[dict[str, Any]], list[str]]:
        found = [
            {
                "integration": i,
                "url": alerting.url_of(i, base_url=base_url) if secrets else "",
            }
            for i in alerting.list_integrations(session)
            if i.type != "slo"  # the built-in source of SLO alerts has no intake
        ]
        policies = [p.name for p in oncall.list_policies(session)] if secrets else []
        return found, policies

    found, policies = in_session(request, rows)
    pager = Pager(number, len(found))
    return settings_page(
        request,
        signed_in,
        "settings_integrations.html",
        rows=found[pager.offset : pager.offset + pager.size],
        pager=pager,
        secrets=secrets,
        types=alerting.INTEGRATION_TYPES,
        policies=policies,
    )


@router.post("/settings/integrations")
async def create_integration(request: Request, signed_in: Viewer) -> Response:
    """Create an integration (admin); its key and intake URL are listed to admins."""
    fields = await admin_form(request, signed_in, "create integrations")
    name, kind = required_fields(fields, "name", "type")
    policy = fields.get("escalation_policy", "").strip() or None
    urgency = fields.get("default_urgency", "").strip() or "high"
    await run_in_threadpool(
        in_session,
        request,
        lambda session: alerting.create_integration(
            session,
            name=name,
            type=kind,
            now=utcnow(),
            escalation_policy=policy,
            default_urgency=urgency,
        ),
    )
    return RedirectResponse("/settings/integrations#integrations", status_code=303)
