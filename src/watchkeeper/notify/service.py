"""Use cases of the outbox: enqueue, cancel, list, show and retry notifications."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from email.utils import parseaddr
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.orm import Session

from watchkeeper.core.escalation import CHANNEL_KINDS
from watchkeeper.messages import did_you_mean
from watchkeeper.notify import repository, wakeup
from watchkeeper.notify.exceptions import (
    InvalidNotification,
    NotificationNotFound,
    NotRetryable,
)
from watchkeeper.notify.message import Message
from watchkeeper.notify.models import Notification, NotificationStatus

# The channel kinds escalation targets may name (core keeps the one list: it imports nothing).
CHANNELS = CHANNEL_KINDS
MAX_KEY_LENGTH = 200
MAX_ADDRESS_LENGTH = 2000


def validate_address(channel: str, address: str) -> None:
    """Raise InvalidNotification unless ``address`` suits ``channel``."""
    if channel not in CHANNELS:
        raise InvalidNotification(
            f"channel {channel!r} is not one of {', '.join(CHANNELS)}"
            + did_you_mean(channel, CHANNELS)
        )
    if not address.strip() or len(address) > MAX_ADDRESS_LENGTH:
        raise InvalidNotification(
            f"address: must be 1 to {MAX_ADDRESS_LENGTH} characters for channel {channel}"
        )
    if channel in ("slack", "webhook"):
        parts = urlsplit(address)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise InvalidNotification(
                f"address: a {channel} address is an http(s) URL, not {address[:100]!r}"
            )
    elif channel == "email":
        _, mailbox = parseaddr(address)
        local, at, domain = mailbox.partition("@")
        if not (local and at and domain) or any(c in address for c in "\r\n"):
            raise InvalidNotification(
                f"address: {address[:100]!r} is not an email address (name@example.com)"
            )


def parse_channel_spec(spec: str) -> tuple[str, str]:
    """A target spec like ``slack:https://…`` or ``email:a@b`` as a checked (channel, address)."""
    channel, separator, address = spec.partition(":")
    if not separator:
        raise InvalidNotification(
            f"channel spec {spec[:100]!r} is not CHANNEL:ADDRESS (e.g. slack:https://hooks…)"
        )
    validate_address(channel, address)
    return channel, address


def enqueue(
    session: Session,
    *,
    channel: str,
    address: str,
    message: Message,
    idempotency_key: str,
    now: datetime,
    recipient: str | None = None,
    not_before: datetime | None = None,
) -> Notification:
    """Add a notification to the outbox in the caller's transaction (an existing key wins)."""
    if not idempotency_key or len(idempotency_key) > MAX_KEY_LENGTH:
        raise InvalidNotification(f"idempotency_key: must be 1 to {MAX_KEY_LENGTH} characters")
    existing = repository.get_by_key(session, idempotency_key)
    if existing is not None:
        return existing
    validate_address(channel, address)
    row = {
        "channel": channel,
        "address": address,
        "recipient": recipient,
        "kind": message.kind,
        "message": message.to_json(),
        "idempotency_key": idempotency_key,
        "status": NotificationStatus.PENDING.value,
        "attempts": 0,
        "next_attempt_at": max(now, not_before) if not_before is not None else now,
        "created_at": now,
        "alert_group_id": message.alert_group_id,
        "incident_id": message.incident_id,
    }
    # A concurrent enqueue of the same key is skipped by the insert itself (no savepoint, no
    # error): the caller's transaction is untouched and the stored row wins.
    repository.insert_many(session, [row])
    record = repository.get_by_key(session, idempotency_key)
    if record is None:  # pragma: no cover - the row was just inserted or already there
        raise InvalidNotification(f"idempotency_key: {idempotency_key!r} could not be stored")
    wakeup.after_commit(session)
    return record


@dataclass(frozen=True)
class Outgoing:
    """One notification to enqueue with :func:`enqueue_many`."""

    channel: str
    address: str
    message: Message
    idempotency_key: str
    recipient: str | None = None
    not_before: datetime | None = None


def enqueue_many(
    session: Session, items: Sequence[Outgoing], *, now: datetime, new_keys: bool = False
) -> int:
    """Add many notifications in the caller's transaction in a few statements (existing keys
    win, as in :func:`enqueue`); returns how many rows were inserted (with ``new_keys``, how
    many were written: the caller vouches that no key can be stored yet)."""
    valid: set[tuple[str, str]] = set()  # a tick sends to few distinct addresses
    for item in items:
        if not item.idempotency_key or len(item.idempotency_key) > MAX_KEY_LENGTH:
            raise InvalidNotification(f"idempotency_key: must be 1 to {MAX_KEY_LENGTH} characters")
        if (item.channel, item.address) not in valid:
            validate_address(item.channel, item.address)
            valid.add((item.channel, item.address))
    # Keys new by construction (they name a group opened in this transaction) skip the lookup;
    # the insert's ON CONFLICT DO NOTHING still keeps a stored row if the caller were wrong.
    existing = (
        set()
        if new_keys
        else repository.existing_keys(session, {item.idempotency_key for item in items})
    )
    rows: dict[str, dict[str, Any]] = {}
    # A person's channels share one message: its JSON document is built once.
    documents: dict[int, dict[str, Any]] = {}
    for item in items:
        if item.idempotency_key in existing or item.idempotency_key in rows:
            continue
        document = documents.get(id(item.message))
        if document is None:
            document = documents[id(item.message)] = item.message.to_json()
        rows[item.idempotency_key] = {
            "channel": item.channel,
            "address": item.address,
            "recipient": item.recipient,
            "kind": item.message.kind,
            "message": document,
            "idempotency_key": item.idempotency_key,
            "status": NotificationStatus.PENDING.value,
            "attempts": 0,
            "next_attempt_at": max(now, item.not_before) if item.not_before else now,
            "created_at": now,
            "alert_group_id": item.message.alert_group_id,
            "incident_id": item.message.incident_id,
        }
    if not rows:
        return 0
    repository.insert_many(session, list(rows.values()))
    wakeup.after_commit(session)
    return len(rows)


def record_delivered(session: Session, items: Sequence[tuple[Outgoing, datetime]]) -> None:
    """Store notifications already delivered at the given times (imported history, such as
    the demo's past pages): kept for the figures, never sent again; existing keys win."""
    rows = []
    for item, at in items:
        validate_address(item.channel, item.address)
        rows.append(
            {
                "channel": item.channel,
                "address": item.address,
                "recipient": item.recipient,
                "kind": item.message.kind,
                "message": item.message.to_json(),
                "idempotency_key": item.idempotency_key,
                "status": NotificationStatus.DELIVERED.value,
                "attempts": 1,
                "next_attempt_at": at,
                "created_at": at,
                "delivered_at": at,
                "alert_group_id": item.message.alert_group_id,
                "incident_id": item.message.incident_id,
            }
        )
    if rows:
        repository.insert_many(session, rows)


def cancel_pending(session: Session, *, alert_group_id: int, kinds: Collection[str]) -> int:
    """Cancel the group's not-yet-sent notifications of these kinds; returns how many."""
    return repository.cancel_pending(session, alert_group_id=alert_group_id, kinds=kinds)


def list_notifications(
    session: Session,
    *,
    status: str | None = None,
    alert_group_id: int | None = None,
    limit: int = 100,
) -> list[Notification]:
    """Notifications, newest first."""
    if status is not None and status not in set(NotificationStatus):
        names = [s.value for s in NotificationStatus]
        raise InvalidNotification(
            f"status: {status!r} is not one of {', '.join(names)}" + did_you_mean(status, names)
        )
    if limit < 1:
        raise InvalidNotification("limit: must be at least 1")
    return repository.list_recent(
        session, status=status, alert_group_id=alert_group_id, limit=limit
    )


def reached(
    session: Session, *, alert_group_id: int, kinds: Collection[str]
) -> list[tuple[str, str, str | None]]:
    """(channel, address, recipient) a group's notifications of ``kinds`` were delivered (or
    are being sent) to, each once."""
    statuses = (NotificationStatus.DELIVERED, NotificationStatus.SENDING)
    return repository.reached(
        session, alert_group_id=alert_group_id, kinds=kinds, statuses=statuses
    )


def get(session: Session, *, notification_id: int) -> Notification:
    """The notification with this id, or NotificationNotFound."""
    record = repository.get(session, notification_id)
    if record is None:
        raise NotificationNotFound(f"no notification with id {notification_id}")
    return record


def retry(session: Session, *, notification_id: int, now: datetime) -> Notification:
    """Send a failed notification again: back to pending, due now, attempts reset."""
    record = get(session, notification_id=notification_id)
    if record.status != NotificationStatus.FAILED:
        raise NotRetryable(
            f"notification {notification_id} is {record.status}; only a failed one can be retried"
        )
    record.status = NotificationStatus.PENDING
    record.attempts = 0
    record.next_attempt_at = now
    record.lease_until = None
    session.flush()
    wakeup.after_commit(session)
    return record


def counts(session: Session) -> dict[tuple[str, str], int]:
    """How many notifications each channel has in each status (for /metrics)."""
    return repository.counts(session)


def pages_sent(session: Session, *, since: datetime, until: datetime) -> list[tuple[str, datetime]]:
    """(recipient user, when) of every page to a user in ``[since, until)`` (cancelled ones,
    never sent, left out): the page-hours metrics read this."""
    return repository.sent_of_kind(session, kind="page", since=since, until=until)
