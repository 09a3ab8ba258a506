"""Roles and what each may do. Higher roles include everything lower roles may do."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    """Token roles, from most to least powerful."""

    ADMIN = "admin"  # everything, including token management
    EDITOR = "editor"  # apply and delete SLOs and policies, ingest events, read
    VIEWER = "viewer"  # read only
    INGEST = "ingest"  # send SLI events only (for services and collectors)


class Permission(StrEnum):
    """Actions checked by the API."""

    READ = "read"
    WRITE = "write"
    INGEST = "ingest"
    ADMIN = "admin"


GRANTS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset(Permission),
    Role.EDITOR: frozenset({Permission.READ, Permission.WRITE, Permission.INGEST}),
    Role.VIEWER: frozenset({Permission.READ}),
    Role.INGEST: frozenset({Permission.INGEST}),
}


def sees_secrets(role: str) -> bool:
    """Whether a token of ``role`` may read secrets: contact URLs, signed action links."""
    return role == Role.ADMIN
