"""API shapes of notifications."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel

from watchkeeper.notify.models import Notification


class NotificationRead(BaseModel):
    """A notification and its delivery state (URL addresses shown without path: secrets)."""

    id: int
    channel: str
    address: str
    recipient: str | None
    kind: str
    title: str
    status: str
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None
    alert_group_id: int | None
    incident_id: int | None
    idempotency_key: str


class NotificationDetail(NotificationRead):
    """A notification with its whole message."""

    message: dict[str, Any]


def shown_url(url: str) -> str:
    """A URL up to its host: paths and queries hold secrets (a Slack hook's token)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}/…" if parts.netloc else "…"


def shown_address(channel: str, address: str) -> str:
    """The address as shown: URL paths hold secrets (a Slack hook's token), so only the host."""
    if channel in ("slack", "webhook"):
        return shown_url(address)
    return address


def shown_channel_spec(spec: str) -> str:
    """A ``KIND:ADDRESS`` channel target with its address shown as :func:`shown_address`."""
    channel, separator, address = spec.partition(":")
    return f"{channel}{separator}{shown_address(channel, address)}" if separator else spec


def notification_read(record: Notification) -> NotificationRead:
    """A row as the API lists it."""
    return NotificationRead(**_fields(record))


def notification_detail(record: Notification, *, secrets: bool) -> NotificationDetail:
    """A row as the API shows it alone; without ``secrets`` its links are shown only up to the
    host (a recipient's signed Acknowledge/Resolve URLs act on the group for anyone)."""
    message = dict(record.message)
    if not secrets:
        message["links"] = [
            [label, shown_url(str(url))] for label, url in record.message.get("links", ())
        ]
    return NotificationDetail(**_fields(record), message=message)


def _fields(record: Notification) -> dict[str, Any]:
    return {
        "id": record.id,
        "channel": record.channel,
        "address": shown_address(record.channel, record.address),
        "recipient": record.recipient,
        "kind": record.kind,
        "title": str(record.message.get("title", "")),
        "status": record.status,
        "attempts": record.attempts,
        "next_attempt_at": record.next_attempt_at,
        "last_error": record.last_error,
        "created_at": record.created_at,
        "delivered_at": record.delivered_at,
        "alert_group_id": record.alert_group_id,
        "incident_id": record.incident_id,
        "idempotency_key": record.idempotency_key,
    }
