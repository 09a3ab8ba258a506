"""The demo's seeded past: marked, in the leadership trends and the SLO chart, and numbered
before the live alert and incident so the demo's printed commands name the live ones."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker

from tests.slo.scenario import AT
from watchkeeper.config import Settings
from watchkeeper.demo.simulator import Profile, Simulator
from watchkeeper.flows import charts, trends
from watchkeeper.flows.demo import prepare
from watchkeeper.flows.demo_history import HISTORY_MARK, PAST_INCIDENTS
from watchkeeper.incident import service as incident_service
from watchkeeper.worker import Worker


def test_the_past_is_seeded_and_the_live_incident_comes_after_it(
    settings: Settings, session_factory: sessionmaker[Session], session: Session
) -> None:
    start = AT - timedelta(minutes=6)
    with session_factory() as setup:
        data = prepare(setup, now=start, history_days=2, history_months=2)
        setup.commit()
    past = incident_service.list_incidents(session, limit=100)
    # Two months of 31 days back: the incidents of the last 62 days.
    assert len(past) == data.live_incident_id - 1 == sum(p.days_ago < 62 for p in PAST_INCIDENTS)
    assert all(i.title.startswith(HISTORY_MARK) and i.status == "resolved" for i in past)
    report = trends.trends(session, months=2, now=start)
    shown = [i for i in past if i.declared_at >= report.months[0].start]
    assert sum(m.incidents_total for m in report.months) == len(shown) > 0
    assert sum(m.pages for m in report.months) >= len(shown)
    assert all(m.slos_with_data == 2 for m in report.months)
    drawn = charts.slo_chart(
        session, key="checkout/availability", now=start, start=start - timedelta(days=2)
    )
    # Two days of evaluations every 20 minutes, one per bucket of 173 seconds.
    assert len(drawn.times) in (144, 145)
    assert None not in drawn.series.error_budget_remaining
    assert any(m.kind == "incident_declared" for m in drawn.markers)

    # The live fault: no alert group was seeded, and its incident comes after the past ones.
    simulator = Simulator(
        session_factory, profile=Profile(), fault_after=timedelta(minutes=1), clock=lambda: start
    )
    for second in range(6 * 60):
        simulator.send_second(start + timedelta(seconds=second))
    worker = Worker(settings, session_factory)
    worker.run_once(AT)
    [declared] = worker.incidents_once(AT + timedelta(seconds=2))
    # In the demo's fresh database the seeded incidents are 1 to N and this one N + 1, as
    # printed; here PostgreSQL's sequences may have moved on, but it still comes after them.
    assert declared > max(i.id for i in past)
    assert data.live_alert_group_id == 1
