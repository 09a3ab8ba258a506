"""Roles and what each may do. Higher roles include everything lower roles may do."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    """Roles of users and tokens, from most to least powerful."""

    ADMIN = "admin"  # everything: users, tokens, integrations, teams, the audit log
    EDITOR = "editor"  # SLOs, schedules, policies, routing; and all a responder may do
    RESPONDER = "responder"  # acknowledge, resolve and silence alerts; run incidents; read
    VIEWER = "viewer"  # read only
    INGEST = "ingest"  # send SLI events only (for services and collectors; tokens only)


class Permission(StrEnum):
    """Actions checked by the API and the dashboard."""

    READ = "read"
    RESPOND = "respond"
    WRITE = "write"
    INGEST = "ingest"
    ADMIN = "admin"


GRANTS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset(Permission),
    Role.EDITOR: frozenset(
        {Permission.READ, Permission.RESPOND, Permission.WRITE, Permission.INGEST}
    ),
    Role.RESPONDER: frozenset({Permission.READ, Permission.RESPOND}),
    Role.VIEWER: frozenset({Permission.READ}),
    Role.INGEST: frozenset({Permission.INGEST}),
}


def allows(role: str, permission: Permission) -> bool:
    """Whether ``role`` (a stored role name) grants ``permission``; unknown roles grant nothing."""
    try:
        return permission in GRANTS[Role(role)]
    except ValueError:
        return False


def roles_granting(permission: Permission) -> list[Role]:
    """The roles granted ``permission``, most powerful first."""
    return [role for role in Role if permission in GRANTS[role]]


def sees_secrets(role: str) -> bool:
    """Whether a token of ``role`` may read secrets: contact URLs, signed action links."""
    return role == Role.ADMIN
