"""The background worker: evaluation then compaction per tick, the singleton lock, failures."""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import Engine, event, func, select, text
from sqlalchemy.orm import Session, sessionmaker

from tests.slo import scenario, unevaluable
from tests.slo.scenario import AT
from watchkeeper import worker as worker_module
from watchkeeper.config import Settings
from watchkeeper.events import service as events_service
from watchkeeper.events.models import SLIBucket
from watchkeeper.flows import specs as spec_flows
from watchkeeper.slo import repository, service
from watchkeeper.slo.models import SLOHistory
from watchkeeper.specs import load_text
from watchkeeper.worker import Worker

MINUTE = timedelta(minutes=1)
API_SPEC = """\
apiVersion: watchkeeper/v1
kind: SLO
service: api
name: availability
objective: 0.99
window: 30d
sli: {name: api-requests}
"""


@pytest.fixture(autouse=True)
def private_lock_key(monkeypatch: pytest.MonkeyPatch) -> int:
    """A lock key of this test alone: other suites may run workers on the same PostgreSQL."""
    key = random.randrange(1 << 40, 1 << 50)
    monkeypatch.setattr(worker_module, "EVALUATION_LOCK_KEY", key)
    return key


def buckets(session: Session, resolution: int, before: float | None = None) -> int:
    query = select(func.count()).select_from(SLIBucket).where(SLIBucket.resolution == resolution)
    if before is not None:
        query = query.where(SLIBucket.start < before)
    return int(session.scalar(query) or 0)


def setup_shop(session: Session) -> int:
    """Apply and ingest the shop scenario plus 24 old minute buckets; returns their total."""
    spec_flows.apply(session, spec_set=load_text(scenario.SPEC), now=AT - timedelta(days=40))
    events_service.ingest(session, scenario.event_rows(), now=AT)
    moment = int(AT.timestamp())
    old = [
        {"time": moment - 5 * 86_400 + 60 * m, "sli": "shop-requests", "good": 10, "total": 10}
        for m in range(0, 24 * 5, 5)
    ]
    events_service.ingest(session, old, now=AT)
    session.commit()
    return sum(int(row["total"]) for row in old)


def test_run_once_evaluates_then_compacts(
    settings: Settings, session_factory: sessionmaker[Session], session: Session
) -> None:
    old_total = setup_shop(session)
    assert buckets(session, 60, before=AT.timestamp() - 4 * 86_400) == 24 + 1 + 1
    worker = Worker(settings, session_factory, clock=lambda: AT)
    report = worker.run_once()
    assert report is not None and worker.last_report is report
    assert (report.reloaded, report.evaluated) == (True, 2)
    session.expire_all()
    # Minute buckets older than the 4 d retention were folded into hour buckets: the 24 old
    # minutes (two hours) and the two rows around AT - 30 d (two more hours).
    assert buckets(session, 60, before=AT.timestamp() - 4 * 86_400) == 0
    assert buckets(session, 3600) == 4
    status = service.stored_status(session, record=service.get(session, key="shop/availability"))
    assert status is not None and status.at == AT
    assert status.total == 20000 + old_total
    assert status.burn_rates["1h"] == pytest.approx(20.0)
    # The next tick reads the hour rows the compaction wrote, and counts them once.
    worker.run_once(AT + MINUTE)
    session.expire_all()
    later = service.stored_status(session, record=service.get(session, key="shop/availability"))
    fresh = service.evaluate_now(session, key="shop/availability", at=AT + MINUTE).status
    assert later is not None and (later.good, later.total) == (fresh.good, fresh.total)
    # AT - 30d (10000) has left the window, the row at AT (1000) has joined it.
    assert later.total == 20000 + old_total - 10000 + 1000


QUARTERLY = """\
apiVersion: watchkeeper/v1
kind: SLO
service: api
name: quarterly
objective: 0.99
window: 90d
sli: {name: api-requests}
alerting:
  windows:
    - {severity: ticket, long: 7d, short: 12h, factor: 1}
"""


def test_minutes_read_by_long_alert_windows_survive_the_first_compaction(
    settings: Settings, session_factory: sessionmaker[Session], session: Session
) -> None:
    # A 7 d alert window keeps 7 d + 2 h of minute buckets in the evaluator, longer than the
    # 4 d retention setting: a fresh worker must not fold those minutes before it knows that.
    spec_flows.apply(session, spec_set=load_text(QUARTERLY), now=AT - timedelta(days=100))
    moment = int(AT.timestamp())
    rows = [
        {"time": moment - 5 * 86_400 + 60 * m, "sli": "api-requests", "good": 90, "total": 100}
        for m in range(10)
    ]
    rows.append({"time": moment - 3600, "sli": "api-requests", "good": 100, "total": 100})
    events_service.ingest(session, rows, now=AT)
    session.commit()
    worker = Worker(settings, session_factory)
    for at in (AT, AT + timedelta(minutes=61)):
        worker.run_once(at)
        session.expire_all()
        status = service.stored_status(session, record=service.get(session, key="api/quarterly"))
        assert status is not None
        # 100 bad of 1000 five days ago, 100 good an hour before AT: 1000 good of 1100.
        assert (status.good, status.total) == (1000.0, 1100.0), at
        assert status.burn_rates["7d"] == pytest.approx((100 / 1100) / 0.01)
        assert status.burn_rates["12h"] == 0.0
    assert buckets(session, 60, before=AT.timestamp() - 4 * 86_400) == 10


def test_compaction_runs_at_most_hourly(
    settings: Settings, session_factory: sessionmaker[Session], session: Session
) -> None:
    setup_shop(session)
    worker = Worker(settings, session_factory)
    worker.run_once(AT)
    late = [
        {"time": int(AT.timestamp()) - 6 * 86_400, "sli": "shop-requests", "good": 1, "total": 1}
    ]
    events_service.ingest(session, late, now=AT + 10 * MINUTE)
    session.commit()
    worker.run_once(AT + 10 * MINUTE)
    assert buckets(session, 60, before=AT.timestamp() - 4 * 86_400) == 1
    worker.run_once(AT + 61 * MINUTE)
    assert buckets(session, 60, before=AT.timestamp() - 4 * 86_400) == 0


def test_history_cadence_comes_from_settings(
    tmp_path: object, session_factory: sessionmaker[Session], session: Session
) -> None:
    setup_shop(session)
    settings = Settings(history_interval_seconds=120, run_worker_in_process=False)
    worker = Worker(settings, session_factory)
    for minutes in range(4):
        worker.run_once(AT + minutes * MINUTE)
    record = service.get(session, key="shop/latency")
    kept = session.scalars(select(SLOHistory.at).where(SLOHistory.slo_id == record.id)).all()
    assert sorted(kept) == [AT, AT + 2 * MINUTE]


def burst(session: Session) -> None:
    """An hour of healthy api traffic before AT, then 3000 failures at AT (every alert fires)."""
    spec_flows.apply(session, spec_set=load_text(API_SPEC), now=AT - timedelta(hours=2))
    moment = int(AT.timestamp())
    healthy = [
        {"time": moment - 60 * m, "sli": "api-requests", "good": 100, "total": 100}
        for m in range(1, 61)
    ]
    events_service.ingest(session, healthy, now=AT)
    session.commit()


def fail(session: Session) -> None:
    events_service.ingest(
        session,
        [{"time": int(AT.timestamp()), "sli": "api-requests", "good": 0, "total": 3000}],
        now=AT,
    )
    session.commit()


class FailingCommits:
    """A session factory whose next ``fail`` sessions cannot commit (a lost database)."""

    def __init__(self, factory: sessionmaker[Session]) -> None:
        self.factory = factory
        self.fail = 0

    def __call__(self) -> Session:
        session = self.factory()
        if self.fail:
            self.fail -= 1

            def refuse(_session: Session) -> None:
                raise RuntimeError("the database went away")

            event.listen(session, "before_commit", refuse)
        return session


def firing(session: Session, key: str) -> list[bool]:
    session.expire_all()
    record = service.get(session, key=key)
    return [s.firing for s in repository.alert_states(session, [record.id])]


def test_a_failed_tick_loses_no_alert_transition(
    settings: Settings,
    session_factory: sessionmaker[Session],
    session: Session,
    caplog: pytest.LogCaptureFixture,
) -> None:
    burst(session)
    factory = FailingCommits(session_factory)
    worker = Worker(settings, factory)  # type: ignore[arg-type]
    assert worker.run_once(AT) is not None
    fail(session)
    factory.fail = 1
    with pytest.raises(RuntimeError, match="went away"):
        worker.run_once(AT + 2 * MINUTE)
    assert firing(session, "api/availability") == [False] * 4  # rolled back
    with caplog.at_level(logging.WARNING, logger="watchkeeper.worker"):
        report = worker.run_once(AT + 3 * MINUTE)
    assert report is not None
    assert [t.firing for t in report.transitions] == [True] * 4
    assert firing(session, "api/availability") == [True] * 4
    assert sum("burn-rate alert FIRING" in r.getMessage() for r in caplog.records) == 4


def test_a_failed_first_tick_still_stores_status_later(
    settings: Settings, session_factory: sessionmaker[Session], session: Session
) -> None:
    setup_shop(session)
    factory = FailingCommits(session_factory)
    factory.fail = 1
    worker = Worker(settings, factory)  # type: ignore[arg-type]
    with pytest.raises(RuntimeError):
        worker.run_once(AT)
    worker.run_once(AT + MINUTE)
    session.expire_all()
    status = service.stored_status(session, record=service.get(session, key="shop/latency"))
    assert status is not None and status.at == AT + MINUTE


def test_workers_taking_turns_record_each_transition_once(
    settings: Settings, session_factory: sessionmaker[Session], session: Session
) -> None:
    burst(session)
    first, second = Worker(settings, session_factory), Worker(settings, session_factory)
    first.run_once(AT)
    second.run_once(AT)
    fail(session)
    started = second.run_once(AT + 2 * MINUTE)
    assert started is not None and len(started.transitions) == 4
    again = first.run_once(AT + 3 * MINUTE)
    assert again is not None and again.transitions == []


def hold_lock(engine: Engine, key: int) -> Callable[[], None]:
    """Take the advisory lock on another connection, as a second worker would; returns release."""
    connection = engine.connect()
    transaction = connection.begin()
    connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})

    def release() -> None:
        transaction.rollback()
        connection.close()

    return release


def test_singleton_lock(
    engine: Engine,
    settings: Settings,
    session_factory: sessionmaker[Session],
    session: Session,
    private_lock_key: int,
) -> None:
    setup_shop(session)
    worker = Worker(settings, session_factory)
    if engine.dialect.name != "postgresql":
        # SQLite serialises writers itself: every tick runs.
        assert worker.run_once(AT) is not None
        assert Worker(settings, session_factory).run_once(AT) is not None
        return
    release = hold_lock(engine, private_lock_key)
    try:
        assert worker.run_once(AT) is None  # another worker is evaluating: skip this tick
        assert worker.last_report is None
    finally:
        release()
    report = worker.run_once(AT)
    assert report is not None and report.evaluated == 2
    # The lock is transaction-scoped: this tick's own lock does not block the next tick.
    assert worker.run_once(AT + MINUTE) is not None


def test_run_forever_logs_a_failing_tick_and_stops(
    settings: Settings, session_factory: sessionmaker[Session], caplog: pytest.LogCaptureFixture
) -> None:
    stop = threading.Event()
    lock = threading.Lock()
    callers: set[str] = set()
    loops = {"MainThread", "watchkeeper-outbox", "watchkeeper-escalation", "watchkeeper-incidents"}

    def broken_clock() -> object:
        with lock:
            callers.add(threading.current_thread().name)
            if callers >= loops:
                stop.set()  # every loop has failed once: end instead of waiting
        raise RuntimeError("clock broke")

    worker = Worker(settings, session_factory, clock=broken_clock)  # type: ignore[arg-type]
    with caplog.at_level(logging.ERROR):
        worker.run_forever(stop)
    assert callers >= loops
    # Each loop runs in its own thread, reads the same clock and reports its own failure.
    by_logger: dict[str, set[str]] = {}
    for record in caplog.records:
        by_logger.setdefault(record.name, set()).add(record.getMessage())
        assert record.exc_info is not None
    assert by_logger == {
        "watchkeeper.worker": {"evaluation tick failed"},
        "watchkeeper.outbox": {"delivery pass failed"},
        "watchkeeper.escalation": {"escalation pass failed"},
        "watchkeeper.incidents": {"incident pass failed"},
    }
    threads = {r.threadName for r in caplog.records if r.name == "watchkeeper.incidents"}
    assert threads == {"watchkeeper-incidents"}


def test_a_failing_slo_is_logged_once_per_change_and_the_others_stored(
    settings: Settings,
    session_factory: sessionmaker[Session],
    session: Session,
    caplog: pytest.LogCaptureFixture,
) -> None:
    setup_shop(session)
    unevaluable.insert_both(session)
    session.commit()
    worker = Worker(settings, session_factory)
    with caplog.at_level(logging.WARNING, logger="watchkeeper.worker"):
        for minutes in range(3):
            report = worker.run_once(AT + minutes * MINUTE)
            assert report is not None and report.evaluated == 2
    failures = [r.getMessage() for r in caplog.records if "cannot be evaluated" in r.getMessage()]
    assert len(failures) == 2  # one per failing SLO, not one per tick
    assert any(m.startswith(f"SLO {unevaluable.BROKEN} cannot be evaluated: ") for m in failures)
    session.expire_all()
    latency = service.stored_status(session, record=service.get(session, key="shop/latency"))
    assert latency is not None and latency.at == AT + 2 * MINUTE and latency.error is None
    # The broken SLO is fixed: that is logged once too.
    caplog.clear()
    record = service.get(session, key=unevaluable.BROKEN)
    record.spec = unevaluable.spec("broken", objective=0.9)
    record.updated_at = AT + 3 * MINUTE
    session.commit()
    with caplog.at_level(logging.WARNING, logger="watchkeeper.worker"):
        worker.run_once(AT + 3 * MINUTE)
        worker.run_once(AT + 4 * MINUTE)
    assert [
        r.getMessage()
        for r in caplog.records
        if "evaluated again" in r.getMessage() or "cannot be evaluated" in r.getMessage()
    ] == [f"SLO {unevaluable.BROKEN} is evaluated again"]
