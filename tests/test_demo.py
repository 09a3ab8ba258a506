"""The demo's simulated checkout traffic: backfilled history and live seconds with a fault."""

from __future__ import annotations

import contextlib
import io
import logging
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from importlib import resources

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tests.slo.scenario import AT
from watchkeeper.alerting import service as alerting_service
from watchkeeper.config import Settings
from watchkeeper.demo.simulator import LATENCY_SLI, REQUESTS_SLI, Profile, Simulator, backfill
from watchkeeper.events.models import SLIBucket, SLIRecord
from watchkeeper.flows import specs as spec_flows
from watchkeeper.flows.demo import prepare
from watchkeeper.incident import detail as incident_detail
from watchkeeper.incident import service as incident_service
from watchkeeper.notify.notifiers import notifiers
from watchkeeper.specs import load_text
from watchkeeper.worker import Worker

MINUTE = 60


@pytest.fixture
def checkout(session: Session) -> None:
    """The demo's own specs applied (they register both SLIs)."""
    text = resources.files("watchkeeper.demo").joinpath("checkout.yaml").read_text()
    spec_flows.apply(session, spec_set=load_text(text), now=AT)
    session.commit()


def buckets(session: Session, sli: str) -> dict[int, tuple[int, int]]:
    """{bucket start: (good, total)} of one SLI."""
    query = (
        select(SLIBucket.start, SLIBucket.good, SLIBucket.total)
        .join(SLIRecord, SLIRecord.id == SLIBucket.sli_id)
        .where(SLIRecord.source_name == sli)
    )
    return {start: (good, total) for start, good, total in session.execute(query)}


def test_backfill_writes_one_bucket_per_minute_and_sli(session: Session, checkout: None) -> None:
    now = AT + timedelta(seconds=30)
    written = backfill(session, now=now, days=1, profile=Profile())
    # From the minute of now - 1 d up to (not including) the minute of now: 1440 minutes.
    assert written == 2 * 1440
    requests = buckets(session, REQUESTS_SLI)
    first = int((now - timedelta(days=1)).timestamp()) // MINUTE * MINUTE
    assert sorted(requests) == list(range(first, first + 1440 * MINUTE, MINUTE))
    # 40 requests a second: 2400 a minute, in both SLIs.
    assert {total for _, total in requests.values()} == {2400}
    assert {total for _, total in buckets(session, LATENCY_SLI).values()} == {2400}
    # Healthy history: 0.04 % errors expected (about 1 a minute), 0.4 % slow.
    bad = sum(total - good for good, total in requests.values())
    assert 0.0002 < bad / (1440 * 2400) < 0.0006
    slow = sum(total - good for good, total in buckets(session, LATENCY_SLI).values())
    assert 0.003 < slow / (1440 * 2400) < 0.005


def test_backfill_is_reproducible_with_a_seed(session: Session, checkout: None) -> None:
    backfill(session, now=AT, days=1, profile=Profile(), seed=3)
    once = buckets(session, REQUESTS_SLI)
    backfill(session, now=AT, days=1, profile=Profile(), seed=3)
    twice = buckets(session, REQUESTS_SLI)
    # Imports add to the buckets: the same seed adds exactly the same counts again.
    assert twice == {start: (2 * g, 2 * t) for start, (g, t) in once.items()}


@contextlib.contextmanager
def logging_disabled() -> Iterator[None]:
    """The simulator's fault warning, kept out of the test's output."""
    logging.disable(logging.WARNING)
    try:
        yield
    finally:
        logging.disable(logging.NOTSET)


def send(simulator: Simulator, start: datetime, seconds: int) -> int:
    return sum(simulator.send_second(start + timedelta(seconds=s)) for s in range(seconds))


def shares(session: Session, minute: datetime) -> tuple[float, float, int]:
    """(error share, slow share, requests) in the minute bucket starting at ``minute``."""
    start = int(minute.timestamp())
    good, total = buckets(session, REQUESTS_SLI)[start]
    fast, observed = buckets(session, LATENCY_SLI)[start]
    assert observed == total
    return 1 - good / total, 1 - fast / total, total


def test_the_fault_raises_errors_and_latency(
    session_factory: sessionmaker[Session],
    session: Session,
    checkout: None,
    caplog: pytest.LogCaptureFixture,
) -> None:
    simulator = Simulator(
        session_factory, profile=Profile(), fault_after=timedelta(minutes=1), clock=lambda: AT
    )
    assert simulator.fault_at == AT + timedelta(minutes=1)
    assert not simulator.faulty(AT + timedelta(seconds=59))
    assert simulator.faulty(AT + timedelta(minutes=1))
    with caplog.at_level(logging.WARNING, logger="watchkeeper.demo"):
        # One row of counts plus 40 latency observations per second.
        assert send(simulator, AT, 30) == 30 * 41
        assert caplog.records == []
        send(simulator, AT + timedelta(minutes=1), 30)
    assert [r.getMessage() for r in caplog.records] == [
        "demo: fault injected: 35% of checkouts fail"
    ]
    errors, slow, requests = shares(session, AT)
    assert requests == 30 * 40
    assert errors < 0.01 and slow < 0.02  # 0.04 % and 0.4 % expected
    errors, slow, requests = shares(session, AT + timedelta(minutes=1))
    assert requests == 30 * 40
    # 35 % errors and 30 % slow expected; 1200 requests keep the share within +-4.5 points.
    assert 0.305 < errors < 0.395
    assert 0.255 < slow < 0.345


def test_run_logs_a_failed_second_and_stops_when_asked(
    session_factory: sessionmaker[Session], caplog: pytest.LogCaptureFixture
) -> None:
    stop = threading.Event()
    readings = iter([AT])  # the simulator reads the clock once when it starts

    def clock() -> datetime:
        reading = next(readings, None)
        if reading is None:
            stop.set()  # end the loop after this second instead of waiting
            raise RuntimeError("clock broke")
        return reading

    simulator = Simulator(session_factory, clock=clock)
    with caplog.at_level(logging.ERROR, logger="watchkeeper.demo"):
        simulator.run(stop)
    assert [r.getMessage() for r in caplog.records] == ["demo simulator failed to send events"]
    assert caplog.records[0].exc_info is not None


def test_the_fault_pages_the_oncall_user_and_opens_an_incident(
    settings: Settings, session_factory: sessionmaker[Session], session: Session
) -> None:
    start = AT - timedelta(minutes=6)
    with session_factory() as setup:
        data = prepare(setup, now=start, history_days=1)
        setup.commit()
    assert data.oncall_user == "alex"
    # One healthy minute, then five with the fault: 35 % errors burn the 1 h page window.
    simulator = Simulator(
        session_factory, profile=Profile(), fault_after=timedelta(minutes=1), clock=lambda: start
    )
    with logging_disabled():
        send(simulator, start, 6 * MINUTE)
    console = io.StringIO()
    worker = Worker(
        settings, session_factory, notifiers=notifiers(settings, console_stream=console)
    )
    worker.run_once(AT - timedelta(minutes=1))  # figures stored before the burn is seen
    worker.run_once(AT)
    assert worker.deliver_once(AT).delivered
    page = console.getvalue()
    # The page, printed in full on the console, to the user on call.
    assert "-- to alex (console:alex) --" in page
    assert "[FIRING:1] checkout/availability is burning its error budget (page)" in page
    for line in ("Service             : checkout", "Escalation          : step 1 of 2"):
        assert line in page
    assert "Budget left" in page and "Burn rate" in page
    assert "Runbook: https://runbooks.example.com/checkout/availability" in page
    assert f"Acknowledge: {settings.public_url}/a/" in page

    # The routing rule asked for a SEV2: the worker declares it, alex commanding.
    [declared] = worker.incidents_once(AT + timedelta(seconds=2))
    incident = incident_service.get(session, declared)
    assert (incident.severity, incident.service, incident.status) == (
        "SEV2",
        "checkout",
        "investigating",
    )
    detail = incident_detail.show(session, incident_id=declared, now=AT + timedelta(seconds=3))
    # (Group 1 in the demo's fresh database; sequences here may have moved on.)
    [group_id] = detail.alert_group_ids
    assert ("commander", "alex") in {(role.role, role.user) for role in detail.roles}

    # The acknowledgement the demo prints stops the escalation: sam is not paged at 5 minutes.
    with session_factory() as actions:
        alerting_service.acknowledge(
            actions, group_id=group_id, actor="alex", now=AT + timedelta(minutes=1)
        )
        actions.commit()
    worker.escalate_once(AT + timedelta(minutes=6))
    worker.deliver_once(AT + timedelta(minutes=6))
    assert "-- to sam" not in console.getvalue()
