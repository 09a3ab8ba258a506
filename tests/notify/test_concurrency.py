"""Several delivery passes at once never send a row twice; the worker delivers on wake-up."""

from __future__ import annotations

import random
import threading
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import Engine

from tests.notify.fakes import AT, RecordingNotifier, page
from watchkeeper.config import Settings
from watchkeeper.db import make_session_factory, session_scope, utcnow
from watchkeeper.notify import service
from watchkeeper.notify.delivery import DeliveryReport, deliver_due
from watchkeeper.notify.notifiers import Delivery
from watchkeeper.worker import Worker

ROWS = 60


def test_two_passes_at_once_never_send_a_row_twice(committing_engine: Engine) -> None:
    factory = make_session_factory(committing_engine)
    with session_scope(factory) as session:
        for n in range(ROWS):
            service.enqueue(
                session,
                channel="console",
                address="a",
                message=page(group=n),
                idempotency_key=f"k{n}",
                now=AT,
            )
    lock = threading.Lock()
    sent: list[str] = []
    start = threading.Barrier(2)

    def record(delivery: Delivery) -> None:
        with lock:
            sent.append(delivery.idempotency_key)

    reports: list[DeliveryReport] = []

    def run() -> None:
        start.wait(timeout=10)
        reports.append(
            deliver_due(
                factory,
                now=AT,
                notifiers={"console": RecordingNotifier("console", record)},
                limit=ROWS,
                max_attempts=3,
                lease=timedelta(minutes=2),
                rng=random.Random(0),
            )
        )

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(reports) == 2
    assert sorted(sent) == sorted(f"k{n}" for n in range(ROWS))
    assert sum(report.delivered for report in reports) == ROWS
    with session_scope(factory) as session:
        assert {row.status for row in service.list_notifications(session, limit=ROWS)} == {
            "delivered"
        }


def test_the_worker_delivers_a_committed_notification_at_once(
    committing_engine: Engine, tmp_path: Path
) -> None:
    factory = make_session_factory(committing_engine)
    received = threading.Event()
    console = RecordingNotifier("console", lambda _delivery: received.set())
    # A poll far longer than the test: only the wake-up on commit can deliver in time.
    settings = Settings(
        data_dir=tmp_path,
        run_worker_in_process=False,
        outbox_poll_seconds=600,
        evaluation_interval_seconds=600,
    )
    worker = Worker(settings, factory, notifiers={"console": console})
    stop = threading.Event()
    thread = threading.Thread(target=worker.deliver_forever, args=(stop,), daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 5
        while worker.last_delivery is None and time.monotonic() < deadline:
            time.sleep(0.01)  # the loop's first (empty) pass has run
        enqueued = time.monotonic()
        with session_scope(factory) as session:
            service.enqueue(
                session,
                channel="console",
                address="a",
                message=page(),
                idempotency_key="now",
                now=utcnow(),
            )
        assert received.wait(timeout=2), "not delivered within 2 s of the commit"
        assert time.monotonic() - enqueued < 2
    finally:
        stop.set()
        worker.wake()
        thread.join(timeout=10)
    assert [d.idempotency_key for d in console.sent] == ["now"]
