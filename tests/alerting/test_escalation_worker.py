"""The escalation job in the worker: concurrent passes, and a page printed end to end."""

from __future__ import annotations

import io
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from tests.alerting.conftest import am_alert, am_message
from tests.alerting.escalation_setup import NOW, make_team, open_alertmanager
from watchkeeper.alerting import service
from watchkeeper.alerting.models import AlertGroupLog
from watchkeeper.app import create_app
from watchkeeper.auth import people
from watchkeeper.config import Settings
from watchkeeper.db import make_session_factory, session_scope, utcnow
from watchkeeper.notify.notifiers import ConsoleNotifier
from watchkeeper.oncall import service as oncall_service
from watchkeeper.oncall.documents import read_text
from watchkeeper.worker import Worker, start_in_thread

GROUPS = 40


def test_two_escalation_passes_at_once_never_page_twice(
    committing_engine: Engine, tmp_path: Path
) -> None:
    if committing_engine.dialect.name != "postgresql":
        pytest.skip("SQLite runs one writer at a time; the race needs PostgreSQL")
    factory = make_session_factory(committing_engine)
    with session_scope(factory) as session:
        make_team(session)
        for n in range(GROUPS):
            open_alertmanager(
                session,
                name=f"prom{n}",
                alerts=(am_alert(f"a{n}"),),
            )
    settings = Settings(data_dir=tmp_path, escalation_batch_size=7)
    workers = [Worker(settings, factory), Worker(settings, factory)]
    ran: list[int] = []
    barrier = threading.Barrier(2)

    def run(worker: Worker) -> None:
        barrier.wait()
        ran.append(worker.escalate_once(NOW.replace(minute=5)))

    threads = [threading.Thread(target=run, args=(w,)) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sum(ran) == GROUPS
    with session_scope(factory) as session:
        steps = Counter(
            session.scalars(select(AlertGroupLog.group_id).where(AlertGroupLog.kind == "escalated"))
        )
    # Each group ran step 1 at intake and step 2 exactly once.
    assert len(steps) == GROUPS and set(steps.values()) == {2}


ONE_STEP = """
kind: EscalationPolicy
name: shop
steps:
  - wait: 5m
    targets:
      - user: ann
"""


def test_the_worker_prints_the_page_within_two_seconds_of_the_intake(
    committing_engine: Engine, tmp_path: Path
) -> None:
    settings = Settings(
        data_dir=tmp_path,
        run_worker_in_process=False,
        default_escalation_policy="shop",
        outbox_poll_seconds=5.0,  # the wake-up after commit must do it, not the poll
    )
    app = create_app(settings, engine=committing_engine)
    factory = app.state.session_factory
    with session_scope(factory) as session:
        people.create_user(session, name="ann", role="editor", now=NOW)
        people.add_contact(session, name="ann", kind="console", address="tty", now=NOW)
        oncall_service.apply(session, documents=read_text(ONE_STEP, "p.yaml"), now=NOW)
        key = service.create_integration(session, name="prom", type="alertmanager", now=NOW).key
    stream = io.StringIO()
    worker = Worker(settings, factory, notifiers={"console": ConsoleNotifier(stream)})
    thread, stop = start_in_thread(worker)
    try:
        with TestClient(app) as client:
            response = client.post(
                f"/api/v1/integrations/{key}/alertmanager",
                json=am_message(am_alert("a1", starts_at=utcnow().isoformat())),
            )
            answered = time.monotonic()
            assert response.status_code == 200
            deadline = answered + 2.0
            while "Acknowledge: " not in stream.getvalue() and time.monotonic() < deadline:
                time.sleep(0.02)
    finally:
        stop.set()
        thread.join(timeout=30)
    printed = stream.getvalue()
    assert "== [FIRING:1] errors are high ==" in printed, printed
    for line in ("Service", "Alerts", "Escalation", "Acknowledge: http", "Resolve: http", "View:"):
        assert line in printed
