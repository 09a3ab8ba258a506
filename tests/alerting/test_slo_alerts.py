"""SLO burn-rate transitions enter intake from the worker tick, page vs ticket kept."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from tests.slo import scenario
from tests.slo.scenario import AT
from watchkeeper import worker as worker_module
from watchkeeper.alerting import repository, service, slo_alerts
from watchkeeper.config import Settings
from watchkeeper.events import service as events_service
from watchkeeper.flows import specs as spec_flows
from watchkeeper.slo.alert_states import Transition
from watchkeeper.specs import load_text
from watchkeeper.worker import Worker


@pytest.fixture(autouse=True)
def private_lock_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """A lock key of this test alone: other suites may run workers on the same PostgreSQL."""
    monkeypatch.setattr(worker_module, "EVALUATION_LOCK_KEY", random.randrange(1 << 40, 1 << 50))


def test_a_burning_slo_opens_one_paging_group_from_the_tick(
    settings: Settings, session_factory: sessionmaker[Session], session: Session
) -> None:
    spec_flows.apply(session, spec_set=load_text(scenario.SPEC), now=AT - timedelta(days=40))
    events_service.ingest(session, scenario.event_rows(), now=AT)
    session.commit()
    worker = Worker(settings, session_factory)
    report = worker.run_once(AT)
    assert report is not None and len(report.transitions) == 6
    session.expire_all()
    groups = {g.dedup_key: g for g in service.list_groups(session)}
    assert sorted(groups) == [
        "shop/availability:page",
        "shop/latency:page",
        "shop/latency:ticket",
    ]
    assert groups["shop/latency:ticket"].urgency == "low"
    group = groups["shop/availability:page"]
    assert (group.status, group.source, group.urgency) == ("firing", "slo", "high")
    assert group.dedup_key == "shop/availability:page"
    assert group.slo_key == "shop/availability"
    assert group.labels == {"service": "shop", "slo": "shop/availability", "severity": "page"}
    # Escalation started at the tick (no policy is routed: it says nobody is paged).
    assert [e.at for e in repository.log_of(session, group.id) if e.kind == "not_paged"] == [AT]
    detail = service.group_detail(session, group_id=group.id)
    assert sorted(a["fingerprint"] for a in detail["alerts"]) == ["21600s/1800s", "3600s/300s"]
    assert detail["annotations"]["long_burn_rate"] is not None
    # The next tick has no transition: nothing changes.
    worker.run_once(AT + timedelta(minutes=1))
    session.expire_all()
    assert len(service.group_detail(session, group_id=group.id)["log"]) == len(detail["log"])


def _transition(severity: str, firing: bool, long: int = 86_400, short: int = 7_200) -> Transition:
    return Transition(
        slo_id=1,
        slo_key="shop/gone",
        severity=severity,
        long_seconds=long,
        short_seconds=short,
        factor=3.0,
        firing=firing,
        at=AT,
        long_burn_rate=4.0,
        short_burn_rate=5.0,
    )


def test_ticket_burns_are_low_urgency_and_resolve_with_their_windows(session: Session) -> None:
    slo_alerts.ingest_slo_transitions(session, [_transition("ticket", True)], now=AT)
    [group] = service.list_groups(session)
    assert (group.urgency, group.service, group.status) == ("low", "shop", "firing")
    later = AT + timedelta(hours=1)
    slo_alerts.ingest_slo_transitions(session, [_transition("ticket", False)], now=later)
    assert (group.status, group.resolved_how) == ("resolved", "source")
    # A stop for a group resolved already opens nothing.
    slo_alerts.ingest_slo_transitions(session, [_transition("ticket", False)], now=later)
    assert len(service.list_groups(session)) == 1


def test_the_worker_tick_releases_groups_whose_silence_ended(
    settings: Settings, session_factory: sessionmaker[Session], session: Session
) -> None:
    slo_alerts.ingest_slo_transitions(session, [_transition("page", True, 3600, 300)], now=AT)
    [group] = service.list_groups(session)
    until = AT + timedelta(minutes=30)
    service.silence(session, group_id=group.id, until=until, actor="ann", now=AT)
    session.commit()
    worker = Worker(settings, session_factory)
    worker.run_once(until - timedelta(minutes=1))
    session.expire_all()
    assert service.get_group(session, group_id=group.id).status == "silenced"
    worker.run_once(until)
    session.expire_all()
    released = service.get_group(session, group_id=group.id)
    assert released.status == "firing"
    assert until in [e.at for e in repository.log_of(session, group.id) if e.kind == "not_paged"]
