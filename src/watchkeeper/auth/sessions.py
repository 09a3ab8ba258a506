"""Dashboard sign-in: passwords, browser sessions and throttling of password guessing.

A browser holds a random 256-bit session value in an HttpOnly cookie; the database keeps only
its SHA-256 digest, so a copy of the database signs nobody in. Each sign-in makes a new value
(no session fixation: nothing a browser brought before signing in survives it). A session ends
at sign-out, after ``idle`` without a request, at ``lifetime`` after sign-in whatever happens,
when the user's password changes, and when the user is deleted.

A wrong password and an unknown user get the same answer and take the same time (an unknown
user's attempt verifies a decoy hash). Failures are counted per user name and per client
address over ``LimitRules.interval``; past either limit, sign-in answers 429 until the oldest
counted failure ages out, whether or not the password is right (OWASP Authentication Cheat
Sheet: "Login Throttling").
"""

from __future__ import annotations

import hashlib
import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from watchkeeper.auth import passwords, repository
from watchkeeper.auth.exceptions import SignInFailed, SignInThrottled, UserNotFound
from watchkeeper.auth.models import SignInFailure, User, UserCredential, WebSession
from watchkeeper.auth.people import get_user

_LAST_SEEN_GRANULARITY = timedelta(minutes=1)
_MAX_NAME = 64


@dataclass(frozen=True)
class SessionRules:
    """How long a browser session lasts."""

    lifetime: timedelta = timedelta(hours=12)
    idle: timedelta = timedelta(hours=2)


@dataclass(frozen=True)
class LimitRules:
    """How many failed sign-ins are allowed per name and per address within ``interval``."""

    per_name: int = 5
    per_address: int = 50
    interval: timedelta = timedelta(minutes=15)


@dataclass(frozen=True)
class IssuedSession:
    """A new browser session: ``secret`` goes into the cookie and is never stored."""

    secret: str
    csrf_token: str
    user: User
    expires_at: datetime


@dataclass(frozen=True)
class SignedIn:
    """The user behind a request's session cookie, and that session's CSRF token."""

    user: User
    csrf_token: str
    expires_at: datetime


def digest_of(secret: str) -> str:
    """SHA-256 hex digest of a session value (256 random bits: no slow hash needed)."""
    return hashlib.sha256(secret.encode()).hexdigest()


def set_password(session: Session, *, name: str, password: str, now: datetime) -> User:
    """Set a user's dashboard password; every session they have ends."""
    user = get_user(session, name=name)
    passwords.check_new(password)
    repository.put_credential(
        session,
        UserCredential(
            user_id=user.id, password_hash=passwords.hash_password(password), changed_at=now
        ),
    )
    repository.delete_user_sessions(session, user.id)
    return user


def has_password(session: Session, *, user: User) -> bool:
    """Whether the user can sign in to the dashboard."""
    return repository.get_credential(session, user.id) is not None


def _check_throttle(
    session: Session, *, name: str, address: str, now: datetime, limits: LimitRules
) -> None:
    since = now - limits.interval
    by_name, by_address, oldest_name, oldest_address = repository.sign_in_failures(
        session, name=name, address=address, since=since
    )
    blocked = [
        oldest + limits.interval
        for count, limit, oldest in (
            (by_name, limits.per_name, oldest_name),
            (by_address, limits.per_address, oldest_address),
        )
        if count >= limit and oldest is not None
    ]
    if blocked:
        retry_after = max(1, math.ceil((max(blocked) - now).total_seconds()))
        raise SignInThrottled(
            f"too many failed sign-ins; try again in {retry_after} s", retry_after=retry_after
        )


def sign_in(
    session: Session,
    *,
    name: str,
    password: str,
    address: str,
    user_agent: str,
    now: datetime,
    rules: SessionRules,
    limits: LimitRules,
) -> IssuedSession:
    """Check a name and password and open a new browser session.

    SignInThrottled past the failure limits; SignInFailed for a wrong name or password, which
    the caller records with :func:`record_failure` once this transaction has rolled back.
    """
    key = _name_key(name)
    address = address[:64]
    _check_throttle(session, name=key, address=address, now=now, limits=limits)
    try:
        user: User | None = get_user(session, name=key)
    except UserNotFound:
        user = None
    credential = repository.get_credential(session, user.id) if user is not None else None
    stored = credential.password_hash if credential is not None else passwords.decoy_hash()
    matches = passwords.verify(stored, password[: passwords.MAX_LENGTH])
    if user is None or credential is None or not matches:
        raise SignInFailed("wrong user name or password")
    if passwords.needs_rehash(credential.password_hash):
        credential.password_hash = passwords.hash_password(password)
    repository.clear_sign_in_failures(session, name=key, before=now - limits.interval)
    return open_session(
        session, user=user, address=address, user_agent=user_agent, now=now, rules=rules
    )


def open_session(
    session: Session,
    *,
    user: User,
    address: str,
    user_agent: str,
    now: datetime,
    rules: SessionRules,
) -> IssuedSession:
    """A new browser session for ``user``, whose credentials the caller has checked."""
    repository.delete_expired_sessions(session, now)
    secret = secrets.token_urlsafe(32)
    expires_at = now + min(rules.idle, rules.lifetime)
    row = repository.add_web_session(
        session,
        WebSession(
            digest=digest_of(secret),
            user_id=user.id,
            csrf_token=secrets.token_urlsafe(32),
            created_at=now,
            last_seen_at=now,
            expires_at=expires_at,
            address=address[:64],
            user_agent=user_agent[:200],
        ),
    )
    return IssuedSession(secret=secret, csrf_token=row.csrf_token, user=user, expires_at=expires_at)


def record_failure(session: Session, *, name: str, address: str, now: datetime) -> None:
    """Count a failed sign-in (in a transaction of its own: the failed one rolls back)."""
    repository.add_sign_in_failure(
        session, SignInFailure(name=_name_key(name), address=address[:64], at=now)
    )


def _name_key(name: str) -> str:
    return name.strip().lower()[:_MAX_NAME]


def current(
    session: Session, *, secret: str, now: datetime, rules: SessionRules
) -> SignedIn | None:
    """The signed-in user of a session value, or None when it is unknown or has ended."""
    if not secret or len(secret) > 256:
        return None
    row = repository.get_web_session(session, digest_of(secret))
    if row is None:
        return None
    web_session, user = row
    if web_session.expires_at <= now:
        repository.delete_web_session(session, web_session.digest)
        return None
    if now - web_session.last_seen_at >= _LAST_SEEN_GRANULARITY:
        web_session.last_seen_at = now
        web_session.expires_at = min(now + rules.idle, web_session.created_at + rules.lifetime)
        session.flush()
    return SignedIn(user=user, csrf_token=web_session.csrf_token, expires_at=web_session.expires_at)


def sign_out(session: Session, *, secret: str) -> None:
    """End the session of a session value (nothing happens for an unknown one)."""
    if secret and len(secret) <= 256:
        repository.delete_web_session(session, digest_of(secret))
