"""Creating and checking API tokens."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from watchkeeper.auth import repository
from watchkeeper.auth.exceptions import (
    InvalidToken,
    RoleNotAllowed,
    TokenNameTaken,
    UnknownRole,
)
from watchkeeper.auth.models import APIToken
from watchkeeper.auth.roles import GRANTS, Permission, Role

TOKEN_PREFIX = "wk_"
# last_used_at is refreshed at most this often, so reads do not write on every request.
_LAST_USED_GRANULARITY = timedelta(minutes=1)


@dataclass(frozen=True)
class IssuedToken:
    """A newly created token: the secret is shown once and never stored."""

    name: str
    role: Role
    token: str


def digest_of(token: str) -> str:
    """SHA-256 hex digest of a token (tokens carry 256 random bits, so no slow hash is needed)."""
    return hashlib.sha256(token.encode()).hexdigest()


def create(session: Session, *, name: str, role: str, now: datetime) -> IssuedToken:
    """Create a named token with ``role``; the secret is returned once."""
    try:
        parsed_role = Role(role)
    except ValueError:
        allowed = ", ".join(r.value for r in Role)
        raise UnknownRole(f"unknown role {role!r}; choose one of: {allowed}") from None
    cleaned = name.strip()
    if not cleaned:
        raise UnknownRole("token name must not be empty")
    if repository.get_by_name(session, cleaned) is not None:
        raise TokenNameTaken(f"a token named {cleaned!r} already exists")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    repository.add(
        session,
        APIToken(
            name=cleaned,
            role=parsed_role.value,
            digest=digest_of(secret),
            prefix=secret[:10],
            created_at=now,
            revoked=False,
        ),
    )
    return IssuedToken(name=cleaned, role=parsed_role, token=secret)


def authenticate(
    session: Session, *, token: str, permission: Permission, now: datetime
) -> APIToken:
    """The token row for a presented secret, if valid and allowed ``permission``."""
    record = repository.get_by_digest(session, digest_of(token))
    if record is None or record.revoked:
        raise InvalidToken("the API token is not valid")
    if permission not in GRANTS[Role(record.role)]:
        raise RoleNotAllowed(f"a token with role {record.role!r} may not {permission.value}")
    if record.last_used_at is None or now - record.last_used_at > _LAST_USED_GRANULARITY:
        record.last_used_at = now
        session.flush()
    return record
