"""Signed action links (acknowledge, resolve) carried by notifications.

A link's token binds the group, the action, the recipient and an expiry time, signed with an
itsdangerous HMAC signer: it cannot be reused for another group, action or person, nor after
it expires. The signed payload is compact (``group.action.expiry.recipient``, the recipient
base64url-encoded) and a :class:`LinkSigner` is prepared once per secret, so a worker tick
signs thousands of links cheaply. Opening a link (GET) only shows a confirmation page, so
mail scanners that follow links do not act; the confirming POST performs the action as the
recipient.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from itsdangerous import BadSignature, Signer
from sqlalchemy.orm import Session

from watchkeeper import reference_cache
from watchkeeper.alerting import repository
from watchkeeper.alerting.exceptions import InvalidActionLink
from watchkeeper.alerting.models import AlertingSecret
from watchkeeper.db import utcnow

# The row ``db upgrade`` (migration 0009) creates with a random signing key.
_LINK_SECRET = "action_links"


def link_secret(session: Session, *, configured: str | None, now: datetime) -> str:
    """The action-link signing key: the ``secret_key`` setting, else the one stored in the
    database at ``db upgrade`` (so every process and restart signs alike); made here only
    for a database the migration did not build."""
    if configured:
        return configured
    kept = reference_cache.read(session, "link_secret", lambda: _stored_secret(session))
    if kept is not None:
        return kept
    stored = repository.secret(session, _LINK_SECRET)
    if stored is None:
        stored = AlertingSecret(name=_LINK_SECRET, value=secrets.token_urlsafe(48), created_at=now)
        repository.add(session, stored)
    return stored.value


def _stored_secret(session: Session) -> str | None:
    stored = repository.secret(session, _LINK_SECRET)
    return None if stored is None else stored.value


ACTIONS = ("ack", "resolve", "unack")
_SALT = "watchkeeper.alerting.action-link"
_INVALID = "this action link is not valid"


@dataclass(frozen=True)
class ActionLink:
    """What a verified link allows: ``recipient`` may do ``action`` to ``group_id``."""

    group_id: int
    action: str
    recipient: str
    expires_at: datetime


class LinkSigner:
    """Signs and verifies action-link tokens with one secret (build once, sign many)."""

    def __init__(self, secret: str) -> None:
        # The salted key is derived once here, not by itsdangerous on every signature.
        key = hmac.new(secret.encode(), _SALT.encode(), hashlib.sha256).digest()
        self._signer = Signer(key, key_derivation="none", digest_method=hashlib.sha256)

    def sign(self, *, group_id: int, action: str, recipient: str, expires_at: datetime) -> str:
        """The signed token of one action link."""
        if action not in ACTIONS:
            raise InvalidActionLink(f"action: {action!r} is not one of {', '.join(ACTIONS)}")
        who = base64.urlsafe_b64encode(recipient.encode()).rstrip(b"=").decode()
        payload = f"{group_id}.{action}.{int(expires_at.timestamp())}.{who}"
        return self._signer.sign(payload).decode()

    def verify(self, token: str, *, now: datetime) -> ActionLink:
        """The action a token allows, or InvalidActionLink when forged, malformed or expired."""
        try:
            payload = self._signer.unsign(token).decode()
        except (BadSignature, UnicodeError):
            raise InvalidActionLink(_INVALID) from None
        try:
            group, action, expires, who = payload.split(".")
            recipient = base64.urlsafe_b64decode(who + "=" * (-len(who) % 4)).decode()
            link = ActionLink(
                group_id=int(group),
                action=action,
                recipient=recipient,
                expires_at=datetime.fromtimestamp(int(expires), UTC),
            )
        except (TypeError, ValueError, binascii.Error, OverflowError, OSError):
            raise InvalidActionLink(_INVALID) from None
        if link.action not in ACTIONS:
            raise InvalidActionLink(_INVALID)
        if link.expires_at <= now:
            raise InvalidActionLink(f"this action link expired at {link.expires_at.isoformat()}")
        return link


def sign(*, secret: str, group_id: int, action: str, recipient: str, expires_at: datetime) -> str:
    """The signed token of one action link."""
    return LinkSigner(secret).sign(
        group_id=group_id, action=action, recipient=recipient, expires_at=expires_at
    )


def action_url(
    *,
    secret: str | LinkSigner,
    base_url: str,
    group_id: int,
    action: str,
    recipient: str,
    expires_in: timedelta,
    now: datetime | None = None,
) -> str:
    """The URL of a signed link letting ``recipient`` do ``action`` to a group until it expires
    (``secret`` may be a prepared :class:`LinkSigner`)."""
    signer = secret if isinstance(secret, LinkSigner) else LinkSigner(secret)
    expires_at = (now or utcnow()) + expires_in
    token = signer.sign(
        group_id=group_id, action=action, recipient=recipient, expires_at=expires_at
    )
    return f"{base_url.rstrip('/')}/a/{token}"


def verify(token: str, *, secret: str, now: datetime) -> ActionLink:
    """The action a token allows, or InvalidActionLink when forged, malformed or expired."""
    return LinkSigner(secret).verify(token, now=now)
