"""The production SQLite engine under concurrent writers (the embedded deployment)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select

from watchkeeper.core.slo import SLI
from watchkeeper.db import make_engine, make_session_factory, session_scope
from watchkeeper.events import service as events_service
from watchkeeper.events.models import SLIBucket
from watchkeeper.migrate import upgrade_to_head
from watchkeeper.slo.evaluator import Evaluator

NOW = datetime(2026, 11, 23, 12, tzinfo=UTC)


def test_concurrent_ingests_and_evaluation_do_not_fail(tmp_path: Path) -> None:
    # Each ingest reads the SLI registry, then writes: with SQLite in WAL mode such units of
    # work must wait for the write lock, not fail with "database is locked".
    engine = make_engine(f"sqlite:///{tmp_path / 'wk.db'}")
    upgrade_to_head(engine)
    factory = make_session_factory(engine)
    with session_scope(factory) as session:
        events_service.register_slis(session, [SLI(name="requests")], now=NOW)
    errors: list[BaseException] = []
    per_thread = 25

    def ingest(offset: int) -> None:
        try:
            for i in range(per_thread):
                with session_scope(factory) as session:
                    row = {"time": NOW.timestamp() - 60 * i - offset, "sli": "requests"}
                    events_service.ingest(session, [{**row, "good": 1, "total": 1}], now=NOW)
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    def evaluate() -> None:
        evaluator = Evaluator()
        try:
            for _ in range(10):
                with session_scope(factory) as session:
                    evaluator.tick(session, now=NOW)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=ingest, args=(k,)) for k in range(4)]
    threads.append(threading.Thread(target=evaluate))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    with session_scope(factory) as session:
        total = session.scalar(select(func.sum(SLIBucket.total)))
    assert total == 4 * per_thread
    engine.dispose()
