"""Email pages through a real SMTP server (aiosmtpd) on loopback."""

from __future__ import annotations

import email
import random
from datetime import timedelta
from email.message import EmailMessage
from email.policy import default
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from tests.live_server import free_port
from tests.notify.fakes import AT, page
from watchkeeper.config import Settings
from watchkeeper.notify import service
from watchkeeper.notify.delivery import deliver_due
from watchkeeper.notify.notifiers import notifiers

controller_module = pytest.importorskip("aiosmtpd.controller")


class Inbox:
    """An aiosmtpd handler keeping every message with its envelope."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], EmailMessage]] = []

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(envelope.content, policy=default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append((list(envelope.rcpt_tos), parsed))
        return "250 OK"


def test_an_email_page_reaches_the_smtp_server(
    session: Session, session_factory: sessionmaker[Session], settings: Settings
) -> None:
    inbox = Inbox()
    port = free_port()
    controller = controller_module.Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        configured = settings.model_copy(
            update={
                "smtp_host": "127.0.0.1",
                "smtp_port": port,
                "smtp_from": "watchkeeper@example.com",
                "notify_timeout_seconds": 5.0,
            }
        )
        service.enqueue(
            session,
            channel="email",
            address="alice@example.com",
            message=page(),
            idempotency_key="page-7-alice-email",
            now=AT,
            recipient="alice",
        )
        session.commit()
        report = deliver_due(
            session_factory,
            now=AT,
            notifiers=notifiers(configured),
            max_attempts=3,
            lease=timedelta(minutes=2),
            rng=random.Random(1),
        )
    finally:
        controller.stop()
    assert report.delivered == 1
    ((recipients, message),) = inbox.messages
    assert recipients == ["alice@example.com"]
    assert message["Subject"] == page().title
    assert message["From"] == "watchkeeper@example.com"
    plain = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert plain is not None and html is not None
    text = plain.get_content()
    assert "Service : checkout" in text
    assert "Runbook: https://runbooks.example/checkout" in text
    assert "https://runbooks.example/checkout" in html.get_content()


def test_an_unreachable_smtp_server_is_retried(
    session: Session, session_factory: sessionmaker[Session], settings: Settings
) -> None:
    configured = settings.model_copy(
        update={"smtp_host": "127.0.0.1", "smtp_port": free_port(), "notify_timeout_seconds": 2.0}
    )
    service.enqueue(
        session,
        channel="email",
        address="alice@example.com",
        message=page(),
        idempotency_key="k",
        now=AT,
    )
    session.commit()
    report = deliver_due(
        session_factory,
        now=AT,
        notifiers=notifiers(configured),
        max_attempts=3,
        lease=timedelta(minutes=2),
        rng=random.Random(1),
    )
    assert report.retrying == 1
    error = report.outcomes[0].error
    assert error is not None and error.startswith("cannot send through 127.0.0.1:")
