"""Enqueueing into the outbox: validation, idempotency, cancellation, listing and retry."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from tests.notify.fakes import AT, page
from watchkeeper.db import make_session_factory
from watchkeeper.notify import service
from watchkeeper.notify.exceptions import (
    InvalidNotification,
    NotificationNotFound,
    NotRetryable,
)
from watchkeeper.notify.message import Message
from watchkeeper.notify.models import NotificationStatus


def test_enqueue_adds_a_pending_row_due_now(session: Session) -> None:
    row = service.enqueue(
        session,
        channel="console",
        address="stdout",
        message=page(),
        idempotency_key="page-7-alice-1",
        now=AT,
        recipient="alice",
    )
    assert row.id is not None
    assert row.status == NotificationStatus.PENDING
    assert row.next_attempt_at == AT
    assert row.attempts == 0
    assert row.kind == "page"
    assert row.alert_group_id == 7
    assert Message.from_json(row.message) == page()


def test_the_same_key_returns_the_existing_row_unchanged(session: Session) -> None:
    first = service.enqueue(
        session, channel="console", address="a", message=page(), idempotency_key="k", now=AT
    )
    again = service.enqueue(
        session,
        channel="slack",
        address="https://hooks.example/x",
        message=page("other"),
        idempotency_key="k",
        now=AT + timedelta(minutes=1),
    )
    assert again.id == first.id
    assert again.channel == "console"
    assert service.list_notifications(session) == [first]


def test_not_before_delays_the_first_attempt(session: Session) -> None:
    later = AT + timedelta(minutes=5)
    row = service.enqueue(
        session,
        channel="console",
        address="a",
        message=page(),
        idempotency_key="k",
        now=AT,
        not_before=later,
    )
    assert row.next_attempt_at == later


@pytest.mark.parametrize(
    ("channel", "address", "expected"),
    [
        ("pager", "x", "channel 'pager'"),
        ("slak", "https://hooks.example", "did you mean 'slack'"),
        ("slack", "hooks.example/x", "address: a slack address is an http"),
        ("webhook", "ftp://example.com/x", "address: a webhook address"),
        ("email", "alice", "address: 'alice' is not an email"),
        ("email", "alice@example.com\r\nBcc: x@y", "not an email"),
        ("console", " ", "address: must be"),
    ],
)
def test_bad_channel_or_address_is_refused(
    session: Session, channel: str, address: str, expected: str
) -> None:
    with pytest.raises(InvalidNotification, match=expected):
        service.enqueue(
            session, channel=channel, address=address, message=page(), idempotency_key="k", now=AT
        )
    assert service.list_notifications(session) == []


def test_cancel_pending_cancels_only_that_groups_pending_pages(session: Session) -> None:
    def add(key: str, message: Message) -> None:
        service.enqueue(
            session, channel="console", address="a", message=message, idempotency_key=key, now=AT
        )

    add("p7", page(group=7))
    add("p8", page(group=8))
    add("r7", Message("resolved", "resolved", "", alert_group_id=7))
    sent = service.enqueue(
        session, channel="console", address="a", message=page(group=7), idempotency_key="s7", now=AT
    )
    sent.status = NotificationStatus.DELIVERED
    session.flush()

    assert service.cancel_pending(session, alert_group_id=7, kinds=["page", "reminder"]) == 1
    statuses = {
        row.idempotency_key: row.status for row in service.list_notifications(session, limit=10)
    }
    assert statuses == {"p7": "cancelled", "p8": "pending", "r7": "pending", "s7": "delivered"}


def test_list_filters_and_orders_newest_first(session: Session) -> None:
    for minute in range(3):
        service.enqueue(
            session,
            channel="console",
            address="a",
            message=page(group=minute),
            idempotency_key=f"k{minute}",
            now=AT + timedelta(minutes=minute),
        )
    keys = [row.idempotency_key for row in service.list_notifications(session, limit=2)]
    assert keys == ["k2", "k1"]
    only = service.list_notifications(session, alert_group_id=0)
    assert [row.idempotency_key for row in only] == ["k0"]
    assert service.list_notifications(session, status="failed") == []
    with pytest.raises(InvalidNotification, match=r"status: 'faild'.*did you mean 'failed'"):
        service.list_notifications(session, status="faild")


def test_retry_moves_a_failed_row_back_to_pending(session: Session) -> None:
    row = service.enqueue(
        session, channel="console", address="a", message=page(), idempotency_key="k", now=AT
    )
    with pytest.raises(NotRetryable, match="is pending"):
        service.retry(session, notification_id=row.id, now=AT)
    row.status = NotificationStatus.FAILED
    row.attempts = 10
    row.last_error = "HTTP 400"
    session.flush()
    later = AT + timedelta(hours=1)
    retried = service.retry(session, notification_id=row.id, now=later)
    assert (retried.status, retried.attempts, retried.next_attempt_at) == ("pending", 0, later)
    with pytest.raises(NotificationNotFound):
        service.retry(session, notification_id=row.id + 1000, now=AT)


def test_a_key_taken_concurrently_returns_the_winners_row(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    winner = service.enqueue(
        session, channel="console", address="a", message=page(), idempotency_key="k", now=AT
    )
    other = service.enqueue(
        session, channel="console", address="a", message=page(), idempotency_key="o", now=AT
    )
    session.commit()
    real_get = service.repository.get_by_key
    calls: list[str] = []

    def missed_once(db: Session, key: str) -> object:
        calls.append(key)
        # The first look misses, as if the winner committed just after it.
        return None if len(calls) == 1 else real_get(db, key)

    monkeypatch.setattr(service.repository, "get_by_key", missed_once)
    again = service.enqueue(
        session, channel="console", address="b", message=page(), idempotency_key="k", now=AT
    )
    assert again.id == winner.id
    assert again.address == "a"
    # The caller's transaction survives the clash: its earlier work is still there.
    assert session.get(type(other), other.id) is other
    session.commit()
    assert len(service.list_notifications(session)) == 2


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("slack:https://hooks.example/T0/B0/x", ("slack", "https://hooks.example/T0/B0/x")),
        ("email:alice@example.com", ("email", "alice@example.com")),
        ("console:ops", ("console", "ops")),
    ],
)
def test_channel_specs(spec: str, expected: tuple[str, str]) -> None:
    assert service.parse_channel_spec(spec) == expected


@pytest.mark.parametrize(
    ("spec", "message"),
    [("slack", "not CHANNEL:ADDRESS"), ("sms:123", "channel 'sms'"), ("email:bob", "bob")],
)
def test_bad_channel_specs(spec: str, message: str) -> None:
    with pytest.raises(InvalidNotification, match=message):
        service.parse_channel_spec(spec)


def test_enqueue_many_inserts_new_keys_once_and_keeps_existing_rows(session: Session) -> None:
    first = service.enqueue(
        session, channel="console", address="a", message=page(), idempotency_key="k1", now=AT
    )
    items = [
        service.Outgoing("console", "b", page("changed"), "k1"),  # the existing row wins
        service.Outgoing(
            "email", "ann@example.com", page(), "k2", "ann", AT + timedelta(minutes=3)
        ),
        service.Outgoing("email", "ann@example.com", page(), "k2", "ann"),  # same key: once
    ]
    assert service.enqueue_many(session, items, now=AT) == 1
    rows = {n.idempotency_key: n for n in service.list_notifications(session)}
    assert sorted(rows) == ["k1", "k2"]
    assert rows["k1"].id == first.id and rows["k1"].address == "a"
    assert (rows["k2"].recipient, rows["k2"].next_attempt_at) == ("ann", AT + timedelta(minutes=3))
    assert rows["k2"].status == NotificationStatus.PENDING and rows["k2"].alert_group_id == 7
    assert service.enqueue_many(session, items, now=AT) == 0  # a replay inserts nothing
    with pytest.raises(InvalidNotification, match="email address"):
        service.enqueue_many(session, [service.Outgoing("email", "nope", page(), "k3")], now=AT)


def test_an_enqueue_rolled_back_with_its_transaction_is_gone(committing_engine: Engine) -> None:
    factory = make_session_factory(committing_engine)
    with factory() as session:
        # The transaction's first write: nothing else opened it before the enqueue.
        service.enqueue(
            session, channel="console", address="a", message=page(), idempotency_key="k", now=AT
        )
        session.rollback()
    with factory() as session:
        assert service.list_notifications(session) == []
