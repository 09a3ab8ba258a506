"""Delivering the outbox: claim due rows, send each outside any transaction, record the outcome.

At least once: each row is claimed just before it is sent (status ``sending`` with a lease)
in a short committed transaction, sent, then marked delivered, rescheduled with backoff, or
failed. A sender that dies between claim and record leaves the row ``sending``; once its lease
expires the next pass sends it again, so receivers get the idempotency key to drop repeats.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Collection, Mapping
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
    send_deadline: timedelta | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> DeliveryReport:
    """Send every due notification (up to ``limit``; only those of ``ids`` when given) once
    and record each outcome.

    Each row is claimed just before it is sent, so a lease covers one send, never a batch:
    ``now`` advances by the time this pass has taken (``clock``, in seconds). A send gets at
    most ``send_deadline`` (half the lease by default) before it counts as timed out.
    """
    draw = rng if rng is not None else random.Random()
    deadline = send_deadline if send_deadline is not None else lease / 2
    started = clock()

    def current() -> datetime:
        return now + timedelta(seconds=clock() - started)

    report = DeliveryReport()
    examined = 0
    while examined < limit:
        claimed_at = current()
        found, claimed = _claim(
            session_factory,
            now=claimed_at,
            limit=1,
            lease=lease,
            max_attempts=max_attempts,
            ids=ids,
        )
        if not found:
            break
        examined += found
        for delivery in claimed:
            outcome = _deliver_one(
                session_factory,
                delivery,
                notifiers=notifiers,
                lease_until=claimed_at + lease,
                deadline=deadline,
                current=current,
                max_attempts=max_attempts,
                backoff_base=backoff_base,
                backoff_cap=backoff_cap,
                draw=draw,
            )
            if outcome is not None:
                _log(outcome)
                report.outcomes.append(outcome)
    return report


def _deliver_one(
    session_factory: sessionmaker[Session],
    delivery: Delivery,
    *,
    notifiers: Mapping[str, Notifier],
    lease_until: datetime,
    deadline: timedelta,
    current: Callable[[], datetime],
    max_attempts: int,
    backoff_base: timedelta,
    backoff_cap: timedelta,
    draw: random.Random,
) -> Outcome | None:
    """Send one claimed row and record its outcome; None if the row is no longer ours."""
    if current() >= lease_until:
        # The claim itself took the whole lease: another sender may own the row already.
        log.warning("notification %s: lease ran out before sending", delivery.notification_id)
        return None
    error, retryable = _send(delivery, notifiers, deadline=deadline)
    now = current()
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
        outcome = Outcome(delivery.notification_id, delivery.channel, "pending", error, now + delay)
    else:
        if retryable:
            error = f"gave up after {delivery.attempt} attempts: {error}"
        values = {"status": NotificationStatus.FAILED, "lease_until": None, "last_error": error}
        outcome = Outcome(delivery.notification_id, delivery.channel, "failed", error)
    values["last_error"] = values["last_error"][:MAX_ERROR_LENGTH] if values["last_error"] else None
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
        return None
    return outcome


def _claim(
    session_factory: sessionmaker[Session],
    *,
    now: datetime,
    limit: int,
    lease: timedelta,
    max_attempts: int,
    ids: Collection[int] | None = None,
) -> tuple[int, list[Delivery]]:
    """Claim due rows in one short transaction, committed before anything is sent: (rows
    looked at, deliveries claimed)."""
    deliveries: list[Delivery] = []
    with session_scope(session_factory) as session:
        rows = repository.due(session, now=now, limit=limit, ids=ids)
        for row in rows:
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
    return len(rows), deliveries


def _send(
    delivery: Delivery, notifiers: Mapping[str, Notifier], *, deadline: timedelta
) -> tuple[str | None, bool]:
    """Send one delivery within ``deadline``: (None, _) on success, else (error, retryable)."""
    notifier = notifiers.get(delivery.channel)
    if notifier is None:
        return unconfigured_reason(delivery.channel), False
    # Per-call timeouts do not bound a whole send (a receiver trickling its answer resets the
    # read timeout; SMTP makes several calls), so the send runs in a thread we stop waiting
    # for at the deadline, well inside the lease. A send that finishes later is not recorded:
    # the row is retried, and receivers drop repeats by the idempotency key.
    result: list[tuple[str | None, bool]] = []
    stopped: list[BaseException] = []

    def run() -> None:
        try:
            result.append(_send_now(delivery, notifier))
        except BaseException as exc:  # handed to the caller's thread, raised there
            stopped.append(exc)

    sender = threading.Thread(
        target=run, name=f"notify-send-{delivery.notification_id}", daemon=True
    )
    sender.start()
    sender.join(deadline.total_seconds())
    if stopped:
        raise stopped[0]
    if not result:
        return f"no answer within {deadline.total_seconds():g} s", True
    return result[0]


def _send_now(delivery: Delivery, notifier: Notifier) -> tuple[str | None, bool]:
    """Call the notifier and classify what it raised."""
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
