"""Delivering the outbox: claim due rows, send each outside any transaction, record the outcome.

At least once: a row is claimed (status ``sending`` with a lease) in a short committed
transaction, sent, then marked delivered, rescheduled with backoff, or failed. A sender that
dies between claim and record leaves the row ``sending``; once its lease expires the next
pass sends it again, so receivers get the idempotency key to drop repeats.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from watchkeeper.core.backoff import full_jitter
from watchkeeper.db import session_scope
from watchkeeper.notify import repository
from watchkeeper.notify.exceptions import DeliveryError
from watchkeeper.notify.message import Message
from watchkeeper.notify.models import NotificationStatus
from watchkeeper.notify.notifiers import Delivery, Notifier, unconfigured_reason

log = logging.getLogger("watchkeeper.notify")

MAX_ERROR_LENGTH = 2000


@dataclass(frozen=True)
class Outcome:
    """What happened to one claimed notification."""

    notification_id: int
    channel: str
    status: str  # delivered, pending (retry scheduled) or failed
    error: str | None = None
    next_attempt_at: datetime | None = None


@dataclass
class DeliveryReport:
    """The outcomes of one delivery pass."""

    outcomes: list[Outcome] = field(default_factory=list)

    def count(self, status: str) -> int:
        """How many claimed notifications ended in ``status``."""
        return sum(1 for outcome in self.outcomes if outcome.status == status)

    @property
    def delivered(self) -> int:
        """Notifications handed over in this pass."""
        return self.count(NotificationStatus.DELIVERED)

    @property
    def retrying(self) -> int:
        """Notifications that failed this time and are scheduled again."""
        return self.count(NotificationStatus.PENDING)

    @property
    def failed(self) -> int:
        """Notifications that failed for good in this pass."""
        return self.count(NotificationStatus.FAILED)


def deliver_due(
    session_factory: sessionmaker[Session],
    *,
    now: datetime,
    notifiers: Mapping[str, Notifier],
    limit: int = 100,
    max_attempts: int,
    lease: timedelta,
    backoff_base: timedelta = timedelta(seconds=5),
    backoff_cap: timedelta = timedelta(minutes=15),
    rng: random.Random | None = None,
    ids: Collection[int] | None = None,
) -> DeliveryReport:
    """Send every due notification (up to ``limit``; only those of ``ids`` when given) once
    and record each outcome."""
    draw = rng if rng is not None else random.Random()
    claimed = _claim(
        session_factory, now=now, limit=limit, lease=lease, max_attempts=max_attempts, ids=ids
    )
    report = DeliveryReport()
    for delivery in claimed:
        error, retryable = _send(delivery, notifiers)
        values: dict[str, Any]
        if error is None:
            values = {
                "status": NotificationStatus.DELIVERED,
                "delivered_at": now,
                "lease_until": None,
                "last_error": None,
            }
            outcome = Outcome(delivery.notification_id, delivery.channel, "delivered")
        elif retryable and delivery.attempt < max_attempts:
            delay = full_jitter(
                delivery.attempt, base=backoff_base, cap=backoff_cap, draw=draw.random()
            )
            values = {
                "status": NotificationStatus.PENDING,
                "next_attempt_at": now + delay,
                "lease_until": None,
                "last_error": error,
            }
            outcome = Outcome(
                delivery.notification_id, delivery.channel, "pending", error, now + delay
            )
        else:
            if retryable:
                error = f"gave up after {delivery.attempt} attempts: {error}"
            values = {"status": NotificationStatus.FAILED, "lease_until": None, "last_error": error}
            outcome = Outcome(delivery.notification_id, delivery.channel, "failed", error)
        values["last_error"] = (
            values["last_error"][:MAX_ERROR_LENGTH] if values["last_error"] else None
        )
        with session_scope(session_factory) as session:
            kept = repository.record_outcome(
                session,
                notification_id=delivery.notification_id,
                attempts=delivery.attempt,
                values=values,
            )
        if not kept:
            # Our lease ran out and another sender took the row over: its outcome counts.
            log.warning("notification %s was taken over during sending", delivery.notification_id)
            continue
        _log(outcome)
        report.outcomes.append(outcome)
    return report


def _claim(
    session_factory: sessionmaker[Session],
    *,
    now: datetime,
    limit: int,
    lease: timedelta,
    max_attempts: int,
    ids: Collection[int] | None = None,
) -> list[Delivery]:
    """Claim due rows in one short transaction, committed before anything is sent."""
    deliveries: list[Delivery] = []
    with session_scope(session_factory) as session:
        for row in repository.due(session, now=now, limit=limit, ids=ids):
            if row.status == NotificationStatus.SENDING and row.attempts >= max_attempts:
                # Its sender died during the last allowed attempt (perhaps the message itself
                # kills senders): failed, rather than sent again without end.
                repository.record_outcome(
                    session,
                    notification_id=row.id,
                    attempts=row.attempts,
                    values={
                        "status": NotificationStatus.FAILED,
                        "lease_until": None,
                        "last_error": f"the sender stopped during attempt {row.attempts} of "
                        f"{max_attempts} (lease expired); last error: {row.last_error or 'none'}",
                    },
                )
                continue
            taken = repository.claim(
                session,
                notification_id=row.id,
                status=row.status,
                attempts=row.attempts,
                lease_until=now + lease,
            )
            if not taken:
                continue
            try:
                message = Message.from_json(row.message)
            except (KeyError, TypeError, ValueError) as exc:
                # One unreadable row is failed and shown; the others are sent.
                repository.record_outcome(
                    session,
                    notification_id=row.id,
                    attempts=row.attempts + 1,
                    values={
                        "status": NotificationStatus.FAILED,
                        "lease_until": None,
                        "last_error": f"unreadable stored message: {type(exc).__name__}: {exc}",
                    },
                )
                continue
            deliveries.append(
                Delivery(
                    notification_id=row.id,
                    channel=row.channel,
                    address=row.address,
                    message=message,
                    idempotency_key=row.idempotency_key,
                    created_at=row.created_at,
                    attempt=row.attempts + 1,
                    recipient=row.recipient,
                )
            )
    return deliveries


def _send(delivery: Delivery, notifiers: Mapping[str, Notifier]) -> tuple[str | None, bool]:
    """Send one delivery: (None, _) on success, else (error, retryable)."""
    notifier = notifiers.get(delivery.channel)
    if notifier is None:
        return unconfigured_reason(delivery.channel), False
    try:
        notifier.send(delivery)
    except DeliveryError as exc:
        return exc.message, exc.retryable
    except Exception as exc:  # a defect in one notifier must not stop the others
        log.exception("notifier %s raised", delivery.channel)
        return f"notifier error: {type(exc).__name__}: {exc}", True
    return None, False


def _log(outcome: Outcome) -> None:
    if outcome.status == "delivered":
        log.info("notification %s delivered by %s", outcome.notification_id, outcome.channel)
    elif outcome.status == "pending":
        log.warning(
            "notification %s (%s) failed, retry at %s: %s",
            outcome.notification_id,
            outcome.channel,
            outcome.next_attempt_at,
            outcome.error,
        )
    else:
        log.error(
            "notification %s (%s) failed: %s",
            outcome.notification_id,
            outcome.channel,
            outcome.error,
        )
