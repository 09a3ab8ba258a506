"""Delivering the outbox: success, retries with backoff, permanent failures, crash recovery."""

from __future__ import annotations

import json
import random
import threading
from collections.abc import Callable
from datetime import timedelta

import httpx2
import pytest
from sqlalchemy.orm import Session, sessionmaker

from tests.notify.fakes import AT, RecordingNotifier, failing, page
from watchkeeper.config import Settings
from watchkeeper.notify import service
from watchkeeper.notify.delivery import DeliveryReport, deliver_due
from watchkeeper.notify.models import Notification
from watchkeeper.notify.notifiers import (
    IDEMPOTENCY_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    Notifier,
    notifiers,
    signature,
)

LEASE = timedelta(minutes=2)
CAP = timedelta(minutes=15)


def deliver(
    factory: sessionmaker[Session],
    registry: dict[str, Notifier] | object,
    *,
    now: object = AT,
    max_attempts: int = 5,
    clock: Callable[[], float] = lambda: 0.0,
) -> DeliveryReport:
    # A clock that stands still by default: outcomes are recorded at exactly ``now``.
    return deliver_due(
        factory,
        now=now,  # type: ignore[arg-type]
        notifiers=registry,  # type: ignore[arg-type]
        max_attempts=max_attempts,
        lease=LEASE,
        backoff_base=timedelta(seconds=5),
        backoff_cap=CAP,
        rng=random.Random(1),
        clock=clock,
    )


def add(session: Session, key: str = "k", channel: str = "console", address: str = "stdout") -> int:
    row = service.enqueue(
        session, channel=channel, address=address, message=page(), idempotency_key=key, now=AT
    )
    session.commit()
    return row.id


def reread(session: Session, notification_id: int) -> Notification:
    session.expire_all()
    row = session.get(Notification, notification_id)
    assert row is not None
    return row


def test_a_due_row_is_delivered_once(
    session: Session, session_factory: sessionmaker[Session]
) -> None:
    row_id = add(session)
    console = RecordingNotifier("console")
    report = deliver(session_factory, {"console": console})
    assert report.delivered == 1
    assert [d.idempotency_key for d in console.sent] == ["k"]
    assert console.sent[0].message == page()
    row = reread(session, row_id)
    assert (row.status, row.attempts, row.delivered_at, row.lease_until) == (
        "delivered",
        1,
        AT,
        None,
    )
    assert deliver(session_factory, {"console": console}, now=AT + CAP).outcomes == []
    assert len(console.sent) == 1


def test_a_row_not_yet_due_waits(session: Session, session_factory: sessionmaker[Session]) -> None:
    service.enqueue(
        session,
        channel="console",
        address="a",
        message=page(),
        idempotency_key="k",
        now=AT,
        not_before=AT + timedelta(minutes=1),
    )
    session.commit()
    console = RecordingNotifier("console")
    assert deliver(session_factory, {"console": console}).outcomes == []
    assert deliver(session_factory, {"console": console}, now=AT + timedelta(minutes=1)).delivered


def test_a_retryable_failure_is_retried_with_backoff_then_delivered(
    session: Session, session_factory: sessionmaker[Session]
) -> None:
    row_id = add(session)
    answers = iter([True, True, False])

    def flaky(_delivery: object) -> None:
        if next(answers):
            failing("the receiver answered HTTP 500", retryable=True)(_delivery)  # type: ignore[arg-type]

    console = RecordingNotifier("console", flaky)
    first = deliver(session_factory, {"console": console})
    assert first.retrying == 1
    retry_at = first.outcomes[0].next_attempt_at
    assert retry_at is not None and AT <= retry_at <= AT + timedelta(seconds=5)
    row = reread(session, row_id)
    assert (row.status, row.attempts, row.last_error) == (
        "pending",
        1,
        "the receiver answered HTTP 500",
    )
    assert row.next_attempt_at == retry_at
    second = deliver(session_factory, {"console": console}, now=retry_at)
    assert second.retrying == 1
    second_at = second.outcomes[0].next_attempt_at
    assert second_at is not None and second_at <= retry_at + timedelta(seconds=10)
    third = deliver(session_factory, {"console": console}, now=second_at)
    assert third.delivered == 1
    row = reread(session, row_id)
    assert (row.status, row.attempts, row.last_error) == ("delivered", 3, None)
    assert [d.attempt for d in console.sent] == [1, 2, 3]


def test_a_permanent_failure_fails_at_once_with_the_error(
    session: Session, session_factory: sessionmaker[Session]
) -> None:
    row_id = add(session)
    console = RecordingNotifier("console", failing("HTTP 400: bad payload", retryable=False))
    assert deliver(session_factory, {"console": console}).failed == 1
    row = reread(session, row_id)
    assert (row.status, row.attempts, row.last_error) == ("failed", 1, "HTTP 400: bad payload")
    assert deliver(session_factory, {"console": console}, now=AT + CAP).outcomes == []


def test_max_attempts_fails_the_row_and_keeps_the_error(
    session: Session, session_factory: sessionmaker[Session]
) -> None:
    row_id = add(session)
    console = RecordingNotifier("console", failing("timed out", retryable=True))
    now = AT
    for _ in range(3):
        report = deliver(session_factory, {"console": console}, now=now, max_attempts=3)
        now += CAP
    assert report.failed == 1
    row = reread(session, row_id)
    assert (row.status, row.attempts) == ("failed", 3)
    assert row.last_error == "gave up after 3 attempts: timed out"


def test_an_unconfigured_channel_fails_with_a_clear_error_and_others_carry_on(
    session: Session, session_factory: sessionmaker[Session]
) -> None:
    broken_id = add(session, "w", channel="webhook", address="https://hooks.example/x")
    crash_id = add(session, "s", channel="slack", address="https://hooks.example/s")
    fine_id = add(session, "c")

    def crash(_delivery: object) -> None:
        raise RuntimeError("bug in a notifier")

    console = RecordingNotifier("console")
    report = deliver(
        session_factory, {"console": console, "slack": RecordingNotifier("slack", crash)}
    )
    assert sorted(o.status for o in report.outcomes) == ["delivered", "failed", "pending"]
    broken = reread(session, broken_id)
    assert broken.status == "failed"
    assert broken.last_error is not None
    assert "WATCHKEEPER_WEBHOOK_SECRET" in broken.last_error
    crashed = reread(session, crash_id)
    assert crashed.status == "pending"
    assert crashed.last_error == "notifier error: RuntimeError: bug in a notifier"
    assert reread(session, fine_id).status == "delivered"


def test_a_row_left_sending_is_sent_again_after_its_lease(
    session: Session, session_factory: sessionmaker[Session]
) -> None:
    row_id = add(session)

    class Killed(BaseException):
        """Stands for SIGKILL between the claim and the outcome."""

    def die(_delivery: object) -> None:
        raise Killed

    with pytest.raises(Killed):
        deliver(session_factory, {"console": RecordingNotifier("console", die)})
    row = reread(session, row_id)
    assert (row.status, row.lease_until) == ("sending", AT + LEASE)

    console = RecordingNotifier("console")
    assert deliver(session_factory, {"console": console}, now=AT + LEASE / 2).outcomes == []
    assert deliver(session_factory, {"console": console}, now=AT + LEASE).delivered == 1
    row = reread(session, row_id)
    assert (row.status, row.attempts) == ("delivered", 2)
    assert [d.idempotency_key for d in console.sent] == ["k"]


def test_an_unreadable_stored_message_fails_alone(
    session: Session, session_factory: sessionmaker[Session]
) -> None:
    bad_id = add(session, "bad")
    good_id = add(session, "good")
    bad = reread(session, bad_id)
    bad.message = {"title": "no kind"}
    session.commit()
    report = deliver(session_factory, {"console": RecordingNotifier("console")})
    assert report.delivered == 1
    assert reread(session, good_id).status == "delivered"
    failed = reread(session, bad_id)
    assert failed.status == "failed"
    assert failed.last_error is not None and "unreadable stored message" in failed.last_error


def _settings(tmp_settings: Settings, **changes: object) -> Settings:
    return tmp_settings.model_copy(update=changes)


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        ([500, 500, 200], ["pending", "pending", "delivered"]),
        ([429, 200], ["pending", "delivered"]),
        ([400], ["failed"]),
        ([404], ["failed"]),
    ],
)
def test_webhook_over_mock_transport_classifies_answers(
    session: Session,
    session_factory: sessionmaker[Session],
    settings: Settings,
    answers: list[int],
    expected: list[str],
) -> None:
    from pydantic import SecretStr

    requests: list[httpx2.Request] = []
    remaining = iter(answers)

    def handler(request: httpx2.Request) -> httpx2.Response:
        requests.append(request)
        return httpx2.Response(next(remaining), text="nope")

    client = httpx2.Client(transport=httpx2.MockTransport(handler))
    registry = notifiers(
        _settings(settings, webhook_secret=SecretStr("s3cret")), http_client=client
    )
    row_id = add(session, "page-7", channel="webhook", address="https://hooks.example/wk")
    statuses = []
    now = AT
    for _ in answers:
        report = deliver(session_factory, dict(registry), now=now)
        statuses.append(report.outcomes[0].status)
        now += CAP
    assert statuses == expected
    request = requests[0]
    assert request.headers[IDEMPOTENCY_HEADER] == "page-7"
    timestamp = request.headers[TIMESTAMP_HEADER]
    assert request.headers[SIGNATURE_HEADER] == signature("s3cret", timestamp, request.content)
    assert json.loads(request.content)["event_id"] == "page-7"
    if expected[-1] == "failed":
        assert (
            reread(session, row_id).last_error == f"the receiver answered HTTP {answers[-1]}: nope"
        )


def test_a_webhook_timeout_is_retryable(
    session: Session, session_factory: sessionmaker[Session], settings: Settings
) -> None:
    from pydantic import SecretStr

    def handler(request: httpx2.Request) -> httpx2.Response:
        raise httpx2.ReadTimeout("slow", request=request)

    client = httpx2.Client(transport=httpx2.MockTransport(handler))
    registry = notifiers(_settings(settings, webhook_secret=SecretStr("x")), http_client=client)
    row_id = add(session, channel="webhook", address="https://hooks.example/wk")
    report = deliver(session_factory, dict(registry))
    assert report.retrying == 1
    assert reread(session, row_id).last_error == "timed out: ReadTimeout"


def test_registry_holds_only_configured_notifiers(settings: Settings) -> None:
    from pydantic import SecretStr

    assert set(notifiers(settings)) == {"console", "slack"}
    full = _settings(settings, webhook_secret=SecretStr("x"), smtp_host="127.0.0.1")
    assert set(notifiers(full)) == {"console", "slack", "webhook", "email"}


def test_a_row_whose_sender_died_on_the_last_attempt_fails(
    session: Session, session_factory: sessionmaker[Session]
) -> None:
    row_id = add(session)
    row = reread(session, row_id)
    row.status, row.attempts, row.lease_until = "sending", 3, AT
    row.last_error = "timed out"
    session.commit()
    console = RecordingNotifier("console")
    assert deliver(session_factory, {"console": console}, max_attempts=3).outcomes == []
    assert console.sent == []
    failed = reread(session, row_id)
    assert failed.status == "failed"
    assert failed.last_error == (
        "the sender stopped during attempt 3 of 3 (lease expired); last error: timed out"
    )


def test_worker_deliver_once_uses_the_settings_and_its_clock(
    session: Session, session_factory: sessionmaker[Session], settings: Settings
) -> None:
    import io

    from watchkeeper.worker import Worker

    add(session)
    stream = io.StringIO()
    worker = Worker(
        settings,
        session_factory,
        clock=lambda: AT,
        notifiers=notifiers(settings, console_stream=stream),
    )
    report = worker.deliver_once()
    assert report.delivered == 1
    assert worker.last_delivery is report
    assert page().title in stream.getvalue()
    assert "Runbook: https://runbooks.example/checkout" in stream.getvalue()
    default = Worker(settings, session_factory)
    assert set(default.notifiers) == {"console", "slack"}


def test_a_pass_slower_than_the_lease_never_sends_a_row_twice(
    session: Session, session_factory: sessionmaker[Session]
) -> None:
    keys = ["k1", "k2", "k3", "k4"]
    for key in keys:
        add(session, key)
    elapsed = [0.0]
    other = RecordingNotifier("console")
    other_ran: list[DeliveryReport] = []

    def slow(delivery: object) -> None:
        # Each send takes 90 s: the whole pass (360 s) is far past a 120 s lease.
        elapsed[0] += 90.0
        if not other_ran and elapsed[0] >= 180.0:
            # During the second send, 180 s after the pass began (past a lease taken at the
            # start), a second worker runs a pass of its own.
            other_ran.append(
                deliver(session_factory, {"console": other}, now=AT + timedelta(seconds=180))
            )

    first = RecordingNotifier("console", slow)
    deliver(session_factory, {"console": first}, clock=lambda: elapsed[0])
    sent = [d.idempotency_key for d in first.sent + other.sent]
    assert sorted(sent) == keys
    assert [d.idempotency_key for d in first.sent] == ["k1", "k2"]


def test_delivered_at_is_the_time_the_send_ended(
    session: Session, session_factory: sessionmaker[Session]
) -> None:
    row_id = add(session)
    elapsed = [0.0]

    def takes_seven_seconds(delivery: object) -> None:
        elapsed[0] += 7.0

    deliver(
        session_factory,
        {"console": RecordingNotifier("console", takes_seven_seconds)},
        clock=lambda: elapsed[0],
    )
    assert reread(session, row_id).delivered_at == AT + timedelta(seconds=7)


def test_a_send_past_its_deadline_is_retried(
    session: Session, session_factory: sessionmaker[Session]
) -> None:
    row_id = add(session)
    release = threading.Event()

    def hangs(delivery: object) -> None:
        release.wait(10)

    try:
        report = deliver_due(
            session_factory,
            now=AT,
            notifiers={"console": RecordingNotifier("console", hangs)},
            max_attempts=5,
            lease=LEASE,
            send_deadline=timedelta(milliseconds=50),
            rng=random.Random(1),
        )
    finally:
        release.set()
    assert report.retrying == 1
    row = reread(session, row_id)
    assert row.status == "pending"
    assert row.last_error == "no answer within 0.05 s"
