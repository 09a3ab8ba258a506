"""Fault test: SIGKILL a real `watchkeeper worker` mid-send; the page arrives after restart."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy.orm import Session

from tests.cli_runner import in_database, upgraded
from tests.integration.receivers import Received, receiver
from tests.notify.fakes import page
from watchkeeper.db import utcnow
from watchkeeper.notify import service
from watchkeeper.notify.models import Notification

SECRET = "crash-test-secret"


def _worker(data_dir: Path) -> subprocess.Popen[bytes]:
    environment = {
        **os.environ,
        "WATCHKEEPER_DATA_DIR": str(data_dir),
        "WATCHKEEPER_DATABASE_URL": "",
        "WATCHKEEPER_WEBHOOK_SECRET": SECRET,
        "WATCHKEEPER_NOTIFY_LEASE_SECONDS": "1",
        "WATCHKEEPER_NOTIFY_TIMEOUT_SECONDS": "30",
        "WATCHKEEPER_OUTBOX_POLL_SECONDS": "0.1",
    }
    command = [sys.executable, "-c", "from watchkeeper.cli.main import main; main()", "worker"]
    return subprocess.Popen(
        command, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def _status(data_dir: Path) -> str:
    found: list[str] = []

    def read(session: Session) -> None:
        row = session.get(Notification, 1)
        found.append(row.status if row is not None else "missing")

    in_database(data_dir, read)
    return found[0]


def _wait_for(condition: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def test_a_page_survives_sigkill_between_claim_and_delivery(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    upgraded(data_dir)
    release = threading.Event()
    state = Received(secret=SECRET, release=release)
    with receiver(state) as url:

        def seed(session: Session) -> None:
            service.enqueue(
                session,
                channel="webhook",
                address=url,
                message=page(),
                idempotency_key="page-7-alice",
                now=utcnow(),
            )

        in_database(data_dir, seed)
        first = _worker(data_dir)
        try:
            # The receiver holds the request: the worker has claimed the row and is sending.
            _wait_for(lambda: _status(data_dir) == "sending", 20, "the claim")
            first.send_signal(signal.SIGKILL)
            first.wait(timeout=10)
        finally:
            if first.poll() is None:
                first.kill()
        release.set()  # the dead worker's request ends unanswered
        assert _status(data_dir) == "sending"
        second = _worker(data_dir)
        try:
            _wait_for(lambda: _status(data_dir) == "delivered", 20, "the delivery after restart")
        finally:
            second.send_signal(signal.SIGINT)
            try:
                second.wait(timeout=10)
            except subprocess.TimeoutExpired:
                second.kill()
                second.wait(timeout=10)
    assert state.keys == ["page-7-alice"]
    assert all(state.signatures_valid)
