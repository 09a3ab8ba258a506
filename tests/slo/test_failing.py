"""One SLO that cannot be evaluated never breaks the others: the tick, reads and the API."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from tests.slo import scenario, unevaluable
from tests.slo.scenario import AT
from tests.slo.unevaluable import BROKEN, FOREVER
from tests.web.signing import signed_in
from watchkeeper.core.slo import SLO
from watchkeeper.events import service as events_service
from watchkeeper.flows import specs as spec_flows
from watchkeeper.slo import evaluator as evaluator_module
from watchkeeper.slo import repository, service
from watchkeeper.slo import service as service_module
from watchkeeper.slo.evaluator import Evaluator
from watchkeeper.slo.exceptions import EvaluationFailed, NotEvaluable
from watchkeeper.slo.models import SLOHistory
from watchkeeper.slo.schemas import SLOStatusRead
from watchkeeper.slo.source_evaluator import SourceEvaluator
from watchkeeper.sources.registry import SourceRegistry
from watchkeeper.specs import load_text

MINUTE = timedelta(minutes=1)


@pytest.fixture
def mixed(session: Session, shop_events: None) -> None:
    """The shop scenario's two healthy SLOs with its events, and two unevaluable SLOs."""
    unevaluable.insert_both(session)


def stored(session: Session, key: str) -> SLOStatusRead:
    session.expire_all()
    status = service.stored_status(session, record=service.get(session, key=key))
    assert status is not None, key
    return status


def assert_failing(status: SLOStatusRead, *, mentions: str) -> None:
    assert status.error is not None and mentions in status.error
    assert (status.good, status.total, status.sli, status.error_budget_remaining) == (
        None,
        None,
        None,
        None,
    )
    assert (status.burn_rates, status.slis, status.alerts) == ({}, {}, [])


def shop_evaluated(
    session_factory: sessionmaker[Session],
    *,
    before_tick: Callable[[Session], None] = lambda _session: None,
) -> None:
    """The shop scenario applied with its events and evaluated once, committed."""
    with session_factory() as session:
        spec_flows.apply(session, spec_set=load_text(scenario.SPEC), now=AT)
        events_service.ingest(session, scenario.event_rows(), now=AT)
        before_tick(session)
        Evaluator().tick(session, now=AT)
        session.commit()


def test_a_tick_stores_every_other_slo_and_each_failure(session: Session, mixed: None) -> None:
    evaluator = Evaluator(history_interval=timedelta(0))
    report = evaluator.tick(session, now=AT)
    assert report.evaluated == 2
    assert {f.slo_key for f in report.failures} == {FOREVER, BROKEN}
    # The healthy SLOs are stored with their hand-worked figures and their alerts fire.
    availability = stored(session, "shop/availability")
    assert (availability.error, availability.sli) == (None, 0.995)
    assert availability.error_budget_remaining == pytest.approx(0.5)
    assert availability.burn_rates == pytest.approx(scenario.AVAILABILITY_BURN_RATES)
    assert stored(session, "shop/latency").error_budget_remaining == pytest.approx(-4)
    assert {(t.slo_key, t.severity, t.long_seconds) for t in report.transitions} >= {
        ("shop/availability", "page", 3600),
        ("shop/availability", "page", 21600),
    }
    # The failing ones are stored as failing: the reason, no figures.
    assert_failing(stored(session, FOREVER), mentions="window")
    broken = stored(session, BROKEN)
    assert_failing(broken, mentions="stored spec is invalid: objective")
    assert broken.at == AT
    # History keeps the figures of the evaluated SLOs only.
    assert session.scalar(select(func.count()).select_from(SLOHistory)) == 2


def test_a_failure_is_rewritten_only_when_it_changes(session: Session, mixed: None) -> None:
    evaluator = Evaluator()
    evaluator.tick(session, now=AT)
    first = stored(session, BROKEN).error
    evaluator.tick(session, now=AT + MINUTE)
    again = stored(session, BROKEN)
    assert (again.error, again.at) == (first, AT + MINUTE)
    # Fixing the stored spec (as a re-apply would) brings figures back on the next tick.
    record = service.get(session, key=BROKEN)
    record.spec = unevaluable.spec("broken", objective=0.9)
    record.updated_at = AT + 2 * MINUTE
    session.flush()
    report = evaluator.tick(session, now=AT + 2 * MINUTE)
    assert report.reloaded
    assert [f.slo_key for f in report.failures] == [FOREVER]
    fixed = stored(session, BROKEN)
    assert fixed.error is None
    # Same SLI and counts as shop/availability, which it now matches but for the objective.
    availability = stored(session, "shop/availability")
    assert (fixed.at, fixed.good, fixed.total) == (
        AT + 2 * MINUTE,
        availability.good,
        availability.total,
    )
    assert fixed.sli == availability.sli


def test_slos_failing_in_the_batch_are_pinned_down_and_the_others_stored(
    session: Session, shop_events: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An evaluation that raises for one SLO inside the batch (whatever the cause) must not
    # take the others down: the batch is retried without the SLO at fault.
    real_batch, real_evaluate = evaluator_module.evaluate_batch, service_module.evaluate

    def batch(plan: Any, grid: Any, at: Any) -> Any:
        if any(s.key == "shop/availability" for s in plan.slos):
            raise OverflowError("date value out of range")
        return real_batch(plan, grid, at)

    def evaluate(slo: SLO, source: Any, at: Any) -> Any:
        if slo.key == "shop/availability":
            raise OverflowError("date value out of range")
        return real_evaluate(slo, source, at)

    monkeypatch.setattr(evaluator_module, "evaluate_batch", batch)
    monkeypatch.setattr(service_module, "evaluate", evaluate)
    evaluator = Evaluator()
    report = evaluator.tick(session, now=AT)
    assert [(f.slo_key, f.error) for f in report.failures] == [
        ("shop/availability", "OverflowError: date value out of range")
    ]
    assert report.evaluated == 1
    assert stored(session, "shop/latency").error_budget_remaining == pytest.approx(-4)
    assert_failing(stored(session, "shop/availability"), mentions="OverflowError")
    # Later ticks skip the SLO at fault up front: no batch failure, same result.
    later = evaluator.tick(session, now=AT + MINUTE)
    assert [f.slo_key for f in later.failures] == ["shop/availability"]
    assert stored(session, "shop/latency").at == AT + MINUTE


def test_a_failing_single_evaluation_is_stored_as_failing(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = scenario.SPEC + "\n".join(
        [
            "  - name: slices",
            "    objective: 0.99",
            "    window: 7d",
            "    sli: {name: shop-requests, kind: timeslices, slice: 1m, slice_target: 0.9}",
            "",
        ]
    )
    spec_flows.apply(session, spec_set=load_text(spec), now=AT - timedelta(hours=1))
    events_service.ingest(session, scenario.event_rows(), now=AT)
    real_evaluate = service_module.evaluate

    def evaluate(slo: SLO, source: Any, at: Any) -> Any:
        if slo.key == "shop/slices":
            raise ZeroDivisionError("float division by zero")
        return real_evaluate(slo, source, at)

    monkeypatch.setattr(service_module, "evaluate", evaluate)
    report = Evaluator().tick(session, now=AT)
    assert [(f.slo_key, f.error) for f in report.failures] == [
        ("shop/slices", "ZeroDivisionError: float division by zero")
    ]
    assert report.evaluated == 2
    assert_failing(stored(session, "shop/slices"), mentions="ZeroDivisionError")


def test_evaluating_now_says_why_it_cannot(session: Session, mixed: None) -> None:
    for key, mentions in ((FOREVER, "window"), (BROKEN, "objective")):
        with pytest.raises(EvaluationFailed) as caught:
            service.evaluate_now(session, key=key, at=AT)
        assert isinstance(caught.value, NotEvaluable)  # the gate counts it as "no data"
        assert caught.value.status_code == 409
        assert caught.value.detail.startswith(f"SLO {key!r} cannot be evaluated: ")
        assert mentions in caught.value.detail
    # The healthy ones still evaluate.
    assert service.evaluate_now(session, key="shop/availability", at=AT).status.sli == 0.995


def test_listings_show_failing_slos_before_and_after_a_tick(session: Session, mixed: None) -> None:
    records = service.list_slos(session)
    assert service.stored_statuses(session, records=records) == {}
    Evaluator().tick(session, now=AT)
    session.expire_all()
    statuses = service.stored_statuses(session, records=service.list_slos(session))
    by_key = {s.key: s for s in statuses.values()}
    assert by_key[BROKEN].error is not None and by_key["shop/latency"].error is None
    # The identity of an SLO whose spec no longer parses comes from its record.
    assert (by_key[BROKEN].objective, by_key[BROKEN].window) == (2, "30d")


def test_the_api_shows_failing_slos_and_refuses_to_evaluate_them(
    client: TestClient,
    viewer_headers: dict[str, str],
    session_factory: sessionmaker[Session],
) -> None:
    shop_evaluated(session_factory, before_tick=unevaluable.insert_both)
    listing = client.get("/api/v1/slos", headers=viewer_headers)
    assert listing.status_code == 200
    statuses = {item["key"]: item["status"] for item in listing.json()}
    assert statuses["shop/availability"]["error"] is None
    assert statuses["shop/availability"]["sli"] == 0.995
    assert "objective" in statuses[BROKEN]["error"]
    assert statuses[BROKEN]["good"] is None and statuses[BROKEN]["burn_rates"] == {}
    status = client.get("/api/v1/slos/shop/forever/status", headers=viewer_headers)
    assert status.status_code == 200 and "window" in status.json()["error"]
    for path in ("/api/v1/slos/shop/forever/status?fresh=true", "/api/v1/slos/shop/broken/explain"):
        refused = client.get(path, headers=viewer_headers)
        assert refused.status_code == 409, path
        assert refused.json()["error"] == "EvaluationFailed"
        assert "cannot be evaluated" in refused.json()["detail"]
    assert (
        client.get("/api/v1/slos/shop/latency/explain", headers=viewer_headers).status_code == 200
    )


def test_an_slo_now_reading_prometheus_gets_its_status_from_the_source_tick(
    session: Session, session_factory: sessionmaker[Session], shop_events: None
) -> None:
    evaluator = Evaluator()
    evaluator.tick(session, now=AT)
    record = service.get(session, key="shop/latency")
    assert record.id in repository.status_errors(session)
    prometheus = scenario.SPEC.replace(
        "sli: {name: shop-latency, kind: threshold, threshold: 0.3, operator: lte}",
        "sli: {name: shop-latency, source: prometheus, prometheus: "
        "{good: 'sum(rate(ok[{{.window}}]))', total: 'sum(rate(all[{{.window}}]))'}}",
    )
    spec_flows.apply(session, spec_set=load_text(prometheus), now=AT + MINUTE)
    evaluator.tick(session, now=AT + MINUTE)
    session.commit()
    # The built-in tick leaves the row to the Prometheus tick that follows it in the worker,
    # which rewrites it: here without a configured source, so failing with the reason.
    SourceEvaluator().tick(session_factory, SourceRegistry(), now=AT + MINUTE)
    session.expire_all()
    status = service.stored_status(session, record=service.get(session, key="shop/latency"))
    assert status is not None
    assert status.error == "no Prometheus source configured: set WATCHKEEPER_PROMETHEUS_URL"


def test_figures_stored_before_a_spec_stopped_parsing_show_as_failing(
    client: TestClient,
    viewer_headers: dict[str, str],
    session_factory: sessionmaker[Session],
) -> None:
    # An SLO evaluated by an older Watchkeeper (its status row has figures and no error)
    # whose stored spec the current reader refuses (a 500d window): until the next tick, every
    # listing must show it as failing instead of breaking.
    shop_evaluated(session_factory)
    with session_factory() as session:
        record = service.get(session, key="shop/availability")
        record.spec = {**record.spec, "window": "500d"}
        record.updated_at = AT + MINUTE
        session.commit()
    listing = client.get("/api/v1/slos", headers=viewer_headers)
    assert listing.status_code == 200
    statuses = {item["key"]: item["status"] for item in listing.json()}
    assert "window" in statuses["shop/availability"]["error"]
    assert statuses["shop/availability"]["sli"] is None
    assert statuses["shop/latency"]["error"] is None and statuses["shop/latency"]["sli"] is not None
    one = client.get("/api/v1/slos/shop/availability/status", headers=viewer_headers)
    assert one.status_code == 200 and "window" in one.json()["error"]
    signed_in(client, session_factory, role="viewer")
    page = client.get("/")
    assert page.status_code == 200 and "cannot be evaluated" in page.text
    metrics = client.get("/metrics")
    assert metrics.status_code == 200
    assert 'watchkeeper_slo_evaluation_failing{service="shop",slo="availability"} 1.0' in (
        metrics.text
    )
