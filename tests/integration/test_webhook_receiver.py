"""Webhook and Slack notifications against real HTTP receivers on loopback."""

from __future__ import annotations

import random
import threading
from datetime import timedelta

from pydantic import SecretStr
from sqlalchemy.orm import Session, sessionmaker

from tests.integration.receivers import Received, receiver
from tests.notify.fakes import AT, page
from watchkeeper.config import Settings
from watchkeeper.notify import service
from watchkeeper.notify.delivery import DeliveryReport, deliver_due
from watchkeeper.notify.models import Notification
from watchkeeper.notify.notifiers import notifiers

SECRET = "receiver-shared-secret"
LATER = timedelta(hours=1)


def _pass(factory: sessionmaker[Session], settings: Settings, now: object = AT) -> DeliveryReport:
    configured = settings.model_copy(
        update={"webhook_secret": SecretStr(SECRET), "notify_timeout_seconds": 0.5}
    )
    return deliver_due(
        factory,
        now=now,  # type: ignore[arg-type]
        notifiers=notifiers(configured),
        max_attempts=5,
        lease=timedelta(minutes=2),
        rng=random.Random(7),
    )


def _enqueue(session: Session, channel: str, url: str, key: str = "page-7-alice") -> int:
    row = service.enqueue(
        session,
        channel=channel,
        address=url,
        message=page(),
        idempotency_key=key,
        now=AT,
        recipient="alice",
    )
    session.commit()
    return row.id


def test_signed_webhook_is_verified_by_the_receiver(
    session: Session, session_factory: sessionmaker[Session], settings: Settings
) -> None:
    state = Received(secret=SECRET)
    with receiver(state) as url:
        _enqueue(session, "webhook", url)
        assert _pass(session_factory, settings).delivered == 1
    assert state.signatures_valid == [True]
    assert state.keys == ["page-7-alice"]
    body = state.bodies[0]
    assert body["event_id"] == "page-7-alice"
    assert body["title"] == page().title
    assert {"label": "Service", "value": "checkout"} in body["fields"]


def test_500_twice_then_200_is_delivered_on_the_third_attempt(
    session: Session, session_factory: sessionmaker[Session], settings: Settings
) -> None:
    state = Received(secret=SECRET, answers=[500, 500])
    with receiver(state) as url:
        row_id = _enqueue(session, "webhook", url)
        statuses = [
            _pass(session_factory, settings, now=AT + n * LATER).outcomes[0].status
            for n in range(3)
        ]
    assert statuses == ["pending", "pending", "delivered"]
    assert state.signatures_valid == [True, True, True]
    session.expire_all()
    row = session.get(Notification, row_id)
    assert row is not None and (row.status, row.attempts) == ("delivered", 3)


def test_a_400_fails_at_once_with_the_error_kept(
    session: Session, session_factory: sessionmaker[Session], settings: Settings
) -> None:
    state = Received(secret=SECRET, answers=[400])
    with receiver(state) as url:
        row_id = _enqueue(session, "webhook", url)
        assert _pass(session_factory, settings).failed == 1
    session.expire_all()
    row = session.get(Notification, row_id)
    assert row is not None
    assert (row.status, row.last_error) == ("failed", "the receiver answered HTTP 400: try later")


def test_a_receiver_that_times_out_is_retried_then_delivered(
    session: Session, session_factory: sessionmaker[Session], settings: Settings
) -> None:
    release = threading.Event()
    state = Received(secret=SECRET, release=release)
    with receiver(state) as url:
        _enqueue(session, "webhook", url)
        first = _pass(session_factory, settings)
        assert first.retrying == 1
        assert first.outcomes[0].error == "timed out: ReadTimeout"
        release.set()
        assert _pass(session_factory, settings, now=AT + LATER).delivered == 1
    assert state.keys == ["page-7-alice"]


def test_a_redelivery_carries_the_same_key_so_the_receiver_drops_it(
    session: Session, session_factory: sessionmaker[Session], settings: Settings
) -> None:
    state = Received(secret=SECRET)
    with receiver(state) as url:
        row_id = _enqueue(session, "webhook", url)
        assert _pass(session_factory, settings).delivered == 1
        # As if the worker died after the send but before recording it.
        row = session.get(Notification, row_id)
        assert row is not None
        row.status, row.lease_until = "sending", AT
        session.commit()
        assert _pass(session_factory, settings, now=AT + LATER).delivered == 1
    assert state.keys == ["page-7-alice"]
    assert state.duplicates == 1


def test_slack_style_receiver_gets_text_and_blocks(
    session: Session, session_factory: sessionmaker[Session], settings: Settings
) -> None:
    state = Received()
    with receiver(state) as url:
        _enqueue(session, "slack", url)
        assert _pass(session_factory, settings).delivered == 1
    (body,) = state.bodies
    assert body["text"].startswith(page().title)
    assert body["blocks"][0]["type"] == "header"
    assert any(
        e.get("url") == "https://runbooks.example/checkout"
        for block in body["blocks"]
        for e in block.get("elements", [])
    )
