"""SQL of the notification outbox."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, and_, func, insert, or_, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from watchkeeper.notify.models import Notification, NotificationStatus


def get(session: Session, notification_id: int) -> Notification | None:
    """The notification with this id."""
    return session.get(Notification, notification_id)


def get_by_key(session: Session, idempotency_key: str) -> Notification | None:
    """The notification with this idempotency key."""
    return session.scalars(
        select(Notification).where(Notification.idempotency_key == idempotency_key)
    ).first()


def existing_keys(session: Session, keys: Collection[str]) -> set[str]:
    """Which of ``keys`` are idempotency keys of stored notifications."""
    found: set[str] = set()
    ordered = sorted(keys)
    for start in range(0, len(ordered), 500):
        chunk = ordered[start : start + 500]
        found.update(
            session.scalars(
                select(Notification.idempotency_key).where(Notification.idempotency_key.in_(chunk))
            )
        )
    return found


def insert_many(session: Session, rows: list[dict[str, Any]]) -> None:
    """Insert notification rows in one executemany (no ORM objects); a row whose idempotency
    key is already stored (perhaps by a concurrent transaction) is skipped."""
    if rows:
        # The table, not the class: a Core executemany skips the ORM's bulk bookkeeping.
        # (Multi-row VALUES via RETURNING was slower: psycopg parses each long statement.)
        # ON CONFLICT DO NOTHING rather than a savepoint: on SQLite's lazily begun transaction
        # a SAVEPOINT that is its first statement opens it, and RELEASE then commits it.
        session.execute(_insert_ignoring_taken_keys(session), rows)


def _insert_ignoring_taken_keys(session: Session) -> Any:
    """INSERT … ON CONFLICT (idempotency_key) DO NOTHING in the session's dialect."""
    table = cast(Table, Notification.__table__)
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql_insert(table).on_conflict_do_nothing(index_elements=["idempotency_key"])
    if dialect == "sqlite":
        return sqlite_insert(table).on_conflict_do_nothing(index_elements=["idempotency_key"])
    return insert(table)


def list_recent(
    session: Session, *, status: str | None, alert_group_id: int | None, limit: int
) -> list[Notification]:
    """Notifications, newest first, optionally of one status and one alert group."""
    query = select(Notification)
    if status is not None:
        query = query.where(Notification.status == status)
    if alert_group_id is not None:
        query = query.where(Notification.alert_group_id == alert_group_id)
    query = query.order_by(Notification.created_at.desc(), Notification.id.desc()).limit(limit)
    return list(session.scalars(query))


def reached(
    session: Session, *, alert_group_id: int, kinds: Collection[str], statuses: Collection[str]
) -> list[tuple[str, str, str | None]]:
    """(channel, address, recipient) of a group's notifications of ``kinds`` in ``statuses``,
    each once, oldest first (no limit: one row per address however many pages it got)."""
    query = (
        select(Notification.channel, Notification.address, Notification.recipient)
        .where(
            Notification.alert_group_id == alert_group_id,
            Notification.kind.in_(kinds),
            Notification.status.in_(statuses),
        )
        .group_by(Notification.channel, Notification.address, Notification.recipient)
        .order_by(func.min(Notification.id))
    )
    return [(row[0], row[1], row[2]) for row in session.execute(query)]


def due(
    session: Session, *, now: datetime, limit: int, ids: Collection[int] | None = None
) -> list[Notification]:
    """Rows to send now: pending and due, or sending with an expired lease (a dead sender);
    only the rows of ``ids`` when given.

    On PostgreSQL the rows are locked and rows another transaction holds are skipped.
    """
    query = (
        select(Notification)
        .where(
            or_(
                and_(
                    Notification.status == NotificationStatus.PENDING,
                    Notification.next_attempt_at <= now,
                ),
                and_(
                    Notification.status == NotificationStatus.SENDING,
                    Notification.lease_until <= now,
                ),
            )
        )
        .order_by(Notification.next_attempt_at, Notification.id)
        .limit(limit)
    )
    if ids is not None:
        query = query.where(Notification.id.in_(list(ids)))
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return list(session.scalars(query))


def claim(
    session: Session, *, notification_id: int, status: str, attempts: int, lease_until: datetime
) -> bool:
    """Mark a row as being sent if it is still as read (status and attempts); True if taken."""
    # The condition makes the claim safe without row locks too (SQLite, or a reader that
    # raced us): only one transaction can move a row from this (status, attempts).
    result = session.execute(
        update(Notification)
        .where(
            Notification.id == notification_id,
            Notification.status == status,
            Notification.attempts == attempts,
        )
        .values(status=NotificationStatus.SENDING, attempts=attempts + 1, lease_until=lease_until)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def record_outcome(
    session: Session, *, notification_id: int, attempts: int, values: dict[str, Any]
) -> bool:
    """Store the outcome of a send if the row is still this sender's claim."""
    result = session.execute(
        update(Notification)
        .where(
            Notification.id == notification_id,
            Notification.status == NotificationStatus.SENDING,
            Notification.attempts == attempts,
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def cancel_pending(session: Session, *, alert_group_id: int, kinds: Collection[str]) -> int:
    """Cancel the group's pending notifications of these message kinds; returns how many."""
    if not kinds:
        return 0
    result = session.execute(
        update(Notification)
        .where(
            Notification.alert_group_id == alert_group_id,
            Notification.status == NotificationStatus.PENDING,
            Notification.kind.in_(list(kinds)),
        )
        .values(status=NotificationStatus.CANCELLED, lease_until=None)
        .execution_options(synchronize_session=False)
    )
    session.expire_all()
    return int(result.rowcount)  # type: ignore[attr-defined]


def counts(session: Session) -> dict[tuple[str, str], int]:
    """Rows per (channel, status)."""
    query = select(Notification.channel, Notification.status, func.count()).group_by(
        Notification.channel, Notification.status
    )
    return {(channel, status): int(n) for channel, status, n in session.execute(query)}


def sent_of_kind(
    session: Session, *, kind: str, since: datetime, until: datetime
) -> list[tuple[str, datetime]]:
    """(recipient, when) of notifications of ``kind`` to a user, not cancelled, created in
    ``[since, until)``; when is the delivery time where there is one."""
    query = select(
        Notification.recipient, func.coalesce(Notification.delivered_at, Notification.created_at)
    ).where(
        Notification.kind == kind,
        Notification.recipient.is_not(None),
        Notification.status != NotificationStatus.CANCELLED.value,
        Notification.created_at >= since,
        Notification.created_at < until,
    )
    return [(str(recipient), at) for recipient, at in session.execute(query)]
