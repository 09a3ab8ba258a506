"""API tokens: creating, listing, revoking and checking them.

A token is shown once, at creation; only its SHA-256 digest is stored. It may expire (an
optional lifetime) and may be revoked; either way it stops authenticating at once (401). Its
last use is kept, to the minute, so unused tokens can be found and revoked.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy.orm import Session

from watchkeeper.auth import repository
from watchkeeper.auth.exceptions import (
    InvalidToken,
    InvalidTokenRequest,
    RoleNotAllowed,
    TokenNameTaken,
    TokenNotFound,
    UnknownRole,
)
from watchkeeper.auth.models import APIToken
from watchkeeper.auth.roles import GRANTS, Permission, Role

TOKEN_PREFIX = "wk_"
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@:-]{0,199}")
MAX_LIFETIME = timedelta(days=3660)  # ten years: longer is "never", which is the default
# last_used_at is refreshed at most this often, so reads do not write on every request.
_LAST_USED_GRANULARITY = timedelta(minutes=1)


class TokenState(StrEnum):
    """Whether a token still authenticates."""

    ACTIVE = "active"
    EXPIRED = "expired"
    REVOKED = "revoked"


@dataclass(frozen=True)
class IssuedToken:
    """A newly created token: the secret is shown once and never stored."""

    name: str
    role: Role
    token: str
    expires_at: datetime | None


def digest_of(token: str) -> str:
    """SHA-256 hex digest of a token (tokens carry 256 random bits, so no slow hash is needed)."""
    return hashlib.sha256(token.encode()).hexdigest()


def parse_role(role: str) -> Role:
    """A role by name, or UnknownRole listing the choices."""
    try:
        return Role(role)
    except ValueError:
        allowed = ", ".join(r.value for r in Role)
        raise UnknownRole(f"unknown role {role!r}; choose one of: {allowed}") from None


def state_of(token: APIToken, *, now: datetime) -> TokenState:
    """Active, expired or revoked at ``now``."""
    if token.revoked_at is not None:
        return TokenState.REVOKED
    if token.expires_at is not None and token.expires_at <= now:
        return TokenState.EXPIRED
    return TokenState.ACTIVE


def create(
    session: Session,
    *,
    name: str,
    role: str,
    now: datetime,
    expires_in: timedelta | None = None,
) -> IssuedToken:
    """Create a named token with ``role``, valid for ``expires_in`` (None: until revoked)."""
    parsed_role = parse_role(role)
    cleaned = name.strip()
    if not NAME_PATTERN.fullmatch(cleaned):
        raise InvalidTokenRequest(
            f"token name {name!r} is not valid: 1-200 letters, digits and . _ @ : -, "
            "starting with a letter or digit"
        )
    if expires_in is not None and not timedelta(0) < expires_in <= MAX_LIFETIME:
        raise InvalidTokenRequest(
            f"a token lifetime must be positive and at most {MAX_LIFETIME.days} days; "
            "leave it out for a token that lasts until revoked"
        )
    if repository.get_by_name(session, cleaned) is not None:
        raise TokenNameTaken(f"a token named {cleaned!r} already exists")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    expires_at = now + expires_in if expires_in is not None else None
    repository.add(
        session,
        APIToken(
            name=cleaned,
            role=parsed_role.value,
            digest=digest_of(secret),
            prefix=secret[:10],
            created_at=now,
            expires_at=expires_at,
        ),
    )
    return IssuedToken(name=cleaned, role=parsed_role, token=secret, expires_at=expires_at)


def list_tokens(session: Session) -> list[APIToken]:
    """Every token, oldest first (the secrets are not stored, so not listed)."""
    return repository.list_all(session)


def revoke(session: Session, *, name: str, now: datetime) -> tuple[APIToken, bool]:
    """Revoke a token by name; the flag is False when it was already revoked."""
    token = repository.get_by_name(session, name.strip())
    if token is None:
        raise TokenNotFound(f"no token named {name!r}")
    if token.revoked_at is not None:
        return token, False
    token.revoked_at = now
    session.flush()
    return token, True


def authenticate(
    session: Session, *, token: str, permission: Permission, now: datetime
) -> APIToken:
    """The token row for a presented secret, if valid and allowed ``permission``."""
    record = repository.get_by_digest(session, digest_of(token))
    if record is None:
        raise InvalidToken("the API token is not valid")
    state = state_of(record, now=now)
    if state is TokenState.REVOKED:
        raise InvalidToken(f"the API token {record.name!r} was revoked at {record.revoked_at}")
    if state is TokenState.EXPIRED:
        raise InvalidToken(f"the API token {record.name!r} expired at {record.expires_at}")
    if permission not in GRANTS[Role(record.role)]:
        raise RoleNotAllowed(
            f"a token with role {record.role!r} may not {permission.value}; "
            f"this needs one of: {', '.join(r.value for r in roles_with(permission))}"
        )
    if record.last_used_at is None or now - record.last_used_at > _LAST_USED_GRANULARITY:
        record.last_used_at = now
        session.flush()
    return record


def roles_with(permission: Permission) -> list[Role]:
    """The roles granted ``permission``, most powerful first."""
    return [role for role in Role if permission in GRANTS[role]]
