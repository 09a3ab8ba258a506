"""Prometheus SLOs evaluated like built-in ones: slo status, the worker tick, the gate, backfill.

The model Prometheus (tests/sources/model.py) serves 1 request/s; its error rate sets every
window's SLI, so the figures are known: with 2 % errors the SLI is 0.98 and, for an
objective of 0.99, every burn rate is 2.0.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tests.policy import traffic
from tests.sources.model import SPEC, ModelPrometheus
from watchkeeper import worker as worker_module
from watchkeeper.alerting.models import AlertGroup
from watchkeeper.config import Settings
from watchkeeper.events import service as events_service
from watchkeeper.flows import specs as spec_flows
from watchkeeper.policy import gate
from watchkeeper.slo import repository, service
from watchkeeper.slo import source_evaluator as source_evaluator_module
from watchkeeper.slo.backfill import backfill
from watchkeeper.slo.models import AlertState
from watchkeeper.sources import registry as sources
from watchkeeper.sources.exceptions import SourceUnreachable
from watchkeeper.specs import load_text
from watchkeeper.worker import Worker

AT = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
BUILT_IN = """\
apiVersion: watchkeeper/v1
kind: SLO
service: shop
name: checkout
objective: 0.99
window: 30d
sli: {name: shop-requests}
"""
SHORT_ALERTS = "    alerting: {windows: [{severity: page, long: 1h, short: 5m, factor: 14.4}]}\n"
BLIND_DENY = traffic.NO_DATA_DENY.replace("payments-gateway", "api").replace(
    "payments-policy", "api-blind"
)


@pytest.fixture(autouse=True)
def private_lock_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    """Lock keys of this test alone: other suites may run workers on the same PostgreSQL."""
    monkeypatch.setattr(worker_module, "EVALUATION_LOCK_KEY", random.randrange(1 << 40, 1 << 50))
    monkeypatch.setattr(
        source_evaluator_module, "SOURCE_LOCK_KEY", random.randrange(1 << 40, 1 << 50)
    )


@pytest.fixture
def model() -> ModelPrometheus:
    return ModelPrometheus()


def apply(session: Session, text: str) -> None:
    spec_flows.apply(session, spec_set=load_text(text), now=AT - timedelta(days=1))


def test_slo_status_evaluates_a_prometheus_slo(session: Session, model: ModelPrometheus) -> None:
    apply(session, SPEC)
    model.error_rate = 0.02
    sources.bind(session, model.registry())
    evaluation = service.evaluate_now(session, key="api/availability", at=AT)
    status = evaluation.status
    assert status.total == pytest.approx(30 * 86_400)
    assert status.sli == pytest.approx(0.98)
    assert status.error_budget_remaining == pytest.approx(-1.0)
    assert {w: pytest.approx(2.0) for w in status.burn_rates} == dict(status.burn_rates)
    # A burn of 2 fires only the slowest ticket alert (3d/6h, factor 1).
    firing = [(a.severity.value, a.long, a.factor) for a in status.alerts if a.firing]
    assert firing == [("ticket", timedelta(days=3), pytest.approx(1.0))]
    # One query per window and kind: the SLO window plus each burn window, good and total.
    assert len(model.queries) == 2 * (1 + len(status.burn_rates))
    assert any("[30d]" in q for q in model.queries) and any("[5m]" in q for q in model.queries)


def test_an_unconfigured_source_is_a_clear_failure(session: Session) -> None:
    apply(session, SPEC)
    with pytest.raises(Exception, match="no Prometheus source configured: set WATCHKEEPER_"):
        service.evaluate_now(session, key="api/availability", at=AT)


def tick(worker: Worker, session: Session, at: datetime) -> None:
    worker.run_once(at)
    session.expire_all()


def status_of(session: Session, key: str) -> object:
    return service.stored_status(session, record=service.get(session, key=key))


def test_the_worker_evaluates_alerts_and_keeps_state_while_prometheus_is_down(
    settings: Settings,
    session_factory: sessionmaker[Session],
    session: Session,
    model: ModelPrometheus,
) -> None:
    apply(session, SPEC + "---\n" + BUILT_IN)
    events_service.ingest(
        session,
        [{"time": AT.timestamp() - 600, "sli": "shop-requests", "good": 99, "total": 100}],
        now=AT,
    )
    session.commit()
    worker = Worker(settings, session_factory, sources=model.registry())

    tick(worker, session, AT)
    healthy = service.stored_status(session, record=service.get(session, key="api/availability"))
    assert healthy is not None and healthy.error is None
    assert healthy.sli == pytest.approx(1.0)
    shop = service.stored_status(session, record=service.get(session, key="shop/checkout"))
    assert shop is not None and shop.sli == pytest.approx(0.99)  # the built-in SLO as before

    # An outage: every window burns at 50 > 14.4, so the page alerts fire and reach intake.
    model.error_rate = 0.5
    tick(worker, session, AT + timedelta(minutes=1))
    burning = service.stored_status(session, record=service.get(session, key="api/availability"))
    assert burning is not None and burning.burn_rates["5m"] == pytest.approx(50.0)
    firing = {(a.severity, a.long, a.short) for a in burning.alerts if a.firing}
    assert ("page", "1h", "5m") in firing
    assert worker.last_source_report is not None
    assert {t.slo_key for t in worker.last_source_report.transitions} == {"api/availability"}
    groups = session.scalars(select(AlertGroup)).all()
    assert any("api/availability" in g.title for g in groups)

    # Prometheus goes down: the SLO shows it, and its alerts stay as they were.
    model.down = True
    tick(worker, session, AT + timedelta(minutes=2))
    down = service.stored_status(session, record=service.get(session, key="api/availability"))
    assert down is not None and down.error is not None
    assert down.error.startswith("source unreachable: ")
    assert "connection refused" in down.error
    record = service.get(session, key="api/availability")
    states = session.scalars(select(AlertState).where(AlertState.slo_id == record.id)).all()
    assert {(s.severity, s.long_seconds) for s in states if s.firing} >= {("page", 3600)}
    assert worker.last_source_report is not None
    assert worker.last_source_report.transitions == []
    assert worker.last_source_report.unreachable == 1
    shop = service.stored_status(session, record=service.get(session, key="shop/checkout"))
    assert shop is not None and shop.error is None  # built-in SLOs carry on

    # Back up and healthy: the alerts resolve.
    model.down = False
    model.error_rate = 0.0
    tick(worker, session, AT + timedelta(minutes=3))
    assert worker.last_source_report is not None
    resolved = worker.last_source_report.transitions
    assert resolved and not any(t.firing for t in resolved)


def test_one_slos_failing_query_does_not_stop_the_others(
    settings: Settings,
    session_factory: sessionmaker[Session],
    session: Session,
    model: ModelPrometheus,
) -> None:
    other = SPEC.replace("name: availability", "name: latency").replace(
        "http_requests_total{code", 'http_requests_total{handler="/x",code'
    )
    apply(session, SPEC + "---\n" + other.replace("service: api", "service: web"))
    session.commit()
    model.broken = 'handler="/x"'
    worker = Worker(settings, session_factory, sources=model.registry())
    tick(worker, session, AT)
    broken = service.stored_status(session, record=service.get(session, key="web/latency"))
    assert broken is not None and broken.error is not None
    assert "SLO 'web/latency'" in broken.error and 'handler="/x"' in broken.error
    assert "2 series" in broken.error
    fine = service.stored_status(session, record=service.get(session, key="api/availability"))
    assert fine is not None and fine.error is None and fine.sli == pytest.approx(1.0)


def test_the_gate_treats_an_unreachable_source_as_no_data(
    session: Session, model: ModelPrometheus
) -> None:
    apply(session, SPEC + "---\n" + BLIND_DENY)
    sources.bind(session, model.registry())
    allowed = gate.check(session, service="api", change_type=None, now=AT)
    assert allowed.decision.allowed
    assert [s.key for s in allowed.slos] == ["api/availability"]

    model.down = True
    denied = gate.check(session, service="api", change_type=None, now=AT)
    assert denied.decision.action.value == "deny"
    assert denied.decision.decided_by is not None
    assert denied.decision.decided_by.rule == "blind"
    assert "source unreachable" in denied.decision.decided_by.reason
    assert denied.not_evaluated[0].reason.startswith("source unreachable: ")


def test_the_gate_judges_prometheus_figures_with_the_policies(
    session: Session, model: ModelPrometheus
) -> None:
    policy = traffic.POLICY  # budget-exhausted: deny below 0 remaining
    apply(session, SPEC + "---\n" + policy)
    sources.bind(session, model.registry())
    model.error_rate = 0.02  # remaining -1.0
    result = gate.check(session, service="api", change_type=None, now=AT)
    assert result.decision.action.value == "deny"
    assert result.decision.decided_by is not None
    assert result.decision.decided_by.rule == "budget-exhausted"


def test_backfill_writes_the_slo_windows_history(session: Session) -> None:
    apply(session, SPEC.replace("window: 30d", "window: 1d") + SHORT_ALERTS)
    model = ModelPrometheus(error_rate=0.02)
    # History is served by range queries: answer them from the same steady model.
    registry = model.registry()
    source = registry.prometheus()

    sources.bind(session, registry)
    calls: list[tuple[str, int, int]] = []

    def fake_range(
        query: str, *, start: float, end: float, step: float
    ) -> list[tuple[float, float]]:
        times = [start + i * step for i in range(int((end - start) // step) + 1)]
        value = step * (0.98 if "5.." in query else 1.0)
        return [(t, value) for t in times]

    source.range = fake_range  # type: ignore[method-assign]
    result = backfill(
        session,
        key="api/availability",
        now=AT,
        interval=timedelta(minutes=5),
        progress=lambda phase, done, total: calls.append((phase, done, total)),
    )
    assert result.points == 24 * 12
    assert result.source == "prometheus"
    points = service.history(
        session, key="api/availability", since=AT - timedelta(days=1), until=AT
    )
    assert len(points) == 24 * 12
    assert points[0].at == AT - timedelta(days=1)
    last = points[-1]
    assert last.at == AT - timedelta(minutes=5)
    assert last.sli == pytest.approx(0.98)
    assert last.burn_rates["5m"] == pytest.approx(2.0)
    assert {phase for phase, _, _ in calls} == {"reading", "computing"}
    assert calls[-1][1] == calls[-1][2]
    # Running it again replaces the rows rather than doubling them.
    again = backfill(session, key="api/availability", now=AT, interval=timedelta(minutes=5))
    assert again.replaced == 24 * 12
    slo_id = service.get(session, key="api/availability").id
    stored = repository.history(session, slo_id, since=AT - timedelta(days=2), until=AT, limit=9999)
    assert len(stored) == 24 * 12


def test_backfill_of_an_unreachable_source_stores_nothing(session: Session) -> None:
    apply(session, SPEC)
    model = ModelPrometheus(down=True)
    sources.bind(session, model.registry())
    with pytest.raises(SourceUnreachable):
        backfill(session, key="api/availability", now=AT, interval=timedelta(minutes=5))
    assert (
        service.history(session, key="api/availability", since=AT - timedelta(days=31), until=AT)
        == []
    )


def test_backfill_from_the_event_store(session: Session) -> None:
    apply(
        session,
        BUILT_IN.replace("window: 30d", "window: 1h")
        + "alerting: {windows: [{severity: page, long: 1h, short: 5m, factor: 14.4}]}\n",
    )
    rows = [
        {"time": AT.timestamp() - 3600 + 60 * m, "sli": "shop-requests", "good": 9, "total": 10}
        for m in range(60)
    ]
    events_service.ingest(session, rows, now=AT)
    result = backfill(session, key="shop/checkout", now=AT, interval=timedelta(minutes=5))
    assert (result.source, result.points) == ("watchkeeper", 12)
    points = service.history(session, key="shop/checkout", since=AT - timedelta(hours=1), until=AT)
    assert [p.total for p in points] == [float(10 * 5 * i) for i in range(12)]
    assert points[-1].sli == pytest.approx(0.9)


def test_each_slo_reads_its_named_source_and_one_down_spares_the_other(
    settings: Settings, session_factory: sessionmaker[Session], session: Session
) -> None:
    other = SPEC.replace("service: api", "service: web").replace(
        "      prometheus:\n", "      prometheus:\n        source: mimir-eu\n"
    )
    apply(session, SPEC + "---\n" + other)
    session.commit()
    default, mimir = ModelPrometheus(down=True), ModelPrometheus(error_rate=0.02)
    registry = sources.SourceRegistry(
        {
            "prometheus": default.source(),
            "mimir-eu": mimir.source("mimir-eu"),
        }
    )
    worker = Worker(settings, session_factory, sources=registry)
    tick(worker, session, AT)
    web = service.stored_status(session, record=service.get(session, key="web/availability"))
    assert web is not None and web.error is None and web.sli == pytest.approx(0.98)
    api = service.stored_status(session, record=service.get(session, key="api/availability"))
    assert api is not None and api.error is not None
    assert api.error.startswith("source unreachable: ")
    assert mimir.queries and not default.queries
