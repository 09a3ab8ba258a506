"""Signed action links (acknowledge, resolve) carried by notifications.

A link's token is signed with itsdangerous and binds the group, the action, the recipient and
an expiry time: it cannot be reused for another group, action or person, nor after it expires.
Opening a link (GET) only shows a confirmation page, so mail scanners that follow links do not
act; the confirming POST performs the action as the recipient.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from itsdangerous import BadSignature, URLSafeSerializer

from watchkeeper.alerting.exceptions import InvalidActionLink
from watchkeeper.db import utcnow

ACTIONS = ("ack", "resolve", "unack")
_SALT = "watchkeeper.alerting.action-link"


@dataclass(frozen=True)
class ActionLink:
    """What a verified link allows: ``recipient`` may do ``action`` to ``group_id``."""

    group_id: int
    action: str
    recipient: str
    expires_at: datetime


def _serializer(secret: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret, salt=_SALT)


def sign(*, secret: str, group_id: int, action: str, recipient: str, expires_at: datetime) -> str:
    """The signed token of one action link."""
    if action not in ACTIONS:
        raise InvalidActionLink(f"action: {action!r} is not one of {', '.join(ACTIONS)}")
    document = {"g": group_id, "a": action, "r": recipient, "e": int(expires_at.timestamp())}
    token: str = _serializer(secret).dumps(document)
    return token


def action_url(
    *,
    secret: str,
    base_url: str,
    group_id: int,
    action: str,
    recipient: str,
    expires_in: timedelta,
    now: datetime | None = None,
) -> str:
    """The URL of a signed link letting ``recipient`` do ``action`` to a group until it expires."""
    expires_at = (now or utcnow()) + expires_in
    token = sign(
        secret=secret, group_id=group_id, action=action, recipient=recipient, expires_at=expires_at
    )
    return f"{base_url.rstrip('/')}/a/{token}"


def verify(token: str, *, secret: str, now: datetime) -> ActionLink:
    """The action a token allows, or InvalidActionLink when forged, malformed or expired."""
    try:
        document = _serializer(secret).loads(token)
    except BadSignature:
        raise InvalidActionLink("this action link is not valid") from None
    try:
        link = ActionLink(
            group_id=int(document["g"]),
            action=str(document["a"]),
            recipient=str(document["r"]),
            expires_at=datetime.fromtimestamp(int(document["e"]), UTC),
        )
    except (KeyError, TypeError, ValueError):
        raise InvalidActionLink("this action link is not valid") from None
    if link.action not in ACTIONS:
        raise InvalidActionLink("this action link is not valid")
    if link.expires_at <= now:
        raise InvalidActionLink(f"this action link expired at {link.expires_at.isoformat()}")
    return link
