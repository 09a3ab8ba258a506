"""Liveness, readiness and the Prometheus exposition."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.orm import Session, sessionmaker

from tests.slo import scenario, unevaluable
from tests.slo.scenario import AT
from watchkeeper.app import create_app
from watchkeeper.auth import people
from watchkeeper.config import Settings
from watchkeeper.db import make_engine
from watchkeeper.events import service as events_service
from watchkeeper.flows import specs as spec_flows
from watchkeeper.oncall import service as oncall_service
from watchkeeper.oncall.documents import read_text
from watchkeeper.specs import load_text
from watchkeeper.worker import Worker

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape(client: TestClient) -> Samples:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples[(name, tuple(sorted(labels.items())))]


def test_healthz(client: TestClient) -> None:
    response = client.get("/healthz")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


@pytest.mark.parametrize(("path", "status"), [("/healthz", 200), ("/api/v1/no-such-thing", 404)])
def test_server_timing_on_every_response(client: TestClient, path: str, status: int) -> None:
    response = client.get(path)
    assert response.status_code == status
    name, _, duration = response.headers["server-timing"].partition(";dur=")
    assert name == "app"
    assert 0.0 <= float(duration) < 60_000


def test_readyz_when_migrated(client: TestClient) -> None:
    response = client.get("/readyz")
    assert (response.status_code, response.json()) == (200, {"status": "ready"})


def test_readyz_before_migrations(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, run_worker_in_process=False)
    engine = make_engine(settings.resolved_database_url())  # an empty SQLite file
    with TestClient(create_app(settings, engine=engine)) as client:
        response = client.get("/readyz")
    engine.dispose()
    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "detail": "migrations pending: run db upgrade",
    }


def test_readyz_without_a_database(tmp_path: Path) -> None:
    # Nothing listens on port 1 of the loopback interface: the connection is refused at once.
    settings = Settings(
        data_dir=tmp_path,
        database_url="postgresql://nobody@127.0.0.1:1/none?connect_timeout=2",
        run_worker_in_process=False,
    )
    app = create_app(settings)
    with TestClient(app) as client:
        response = client.get("/readyz")
    app.state.engine.dispose()
    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"
    assert response.json()["detail"]


def test_request_and_ingest_counters(client: TestClient, admin_headers: dict[str, str]) -> None:
    client.post(
        "/api/v1/slos",
        content=scenario.SPEC,
        headers={**admin_headers, "content-type": "text/yaml"},
    )
    client.get("/healthz")
    client.get("/healthz")
    events = [{"time": 1_795_000_000, "sli": "shop-requests", "good": 1, "total": 2}] * 3
    assert client.post("/api/v1/events", json=events, headers=admin_headers).status_code == 200
    refused = [{"time": 1_795_000_000, "sli": "nope", "good": 1, "total": 2}]
    assert client.post("/api/v1/events", json=refused, headers=admin_headers).status_code == 422
    samples = scrape(client)
    assert (
        value(
            samples, "watchkeeper_http_requests_total", method="GET", route="/healthz", status="200"
        )
        == 2.0
    )
    assert (
        value(
            samples,
            "watchkeeper_http_requests_total",
            method="POST",
            route="/api/v1/events",
            status="422",
        )
        == 1.0
    )
    assert value(samples, "watchkeeper_events_ingested_total") == 3.0
    assert value(samples, "watchkeeper_ingest_rejected_batches_total") == 1.0
    assert (
        value(samples, "watchkeeper_http_request_duration_seconds_count", route="/healthz") == 2.0
    )


def test_slo_gauges_after_a_worker_tick(
    client: TestClient, settings: Settings, session_factory: sessionmaker[Session]
) -> None:
    with session_factory() as session:
        spec_flows.apply(session, spec_set=load_text(scenario.SPEC), now=AT)
        events_service.ingest(session, scenario.event_rows(), now=AT)
        session.commit()
    before = scrape(client)
    # Applied but not evaluated yet: the SLO is exported, its figures are NaN.
    assert value(before, "watchkeeper_slo_objective", service="shop", slo="availability") == 0.99
    assert math.isnan(value(before, "watchkeeper_slo_sli", service="shop", slo="availability"))
    assert Worker(settings, session_factory).run_once(AT) is not None
    samples = scrape(client)
    shop = {"service": "shop", "slo": "availability"}
    assert value(samples, "watchkeeper_slo_sli", **shop) == pytest.approx(0.995)
    assert value(samples, "watchkeeper_slo_error_budget_remaining", **shop) == pytest.approx(0.5)
    burn = {
        window: value(samples, "watchkeeper_slo_burn_rate", **shop, window=window)
        for window in scenario.AVAILABILITY_BURN_RATES
    }
    assert burn == pytest.approx(scenario.AVAILABILITY_BURN_RATES)
    assert burn["1h"] == pytest.approx(20.0)
    for severity, long, short, _, firing in scenario.AVAILABILITY_ALERTS:
        alert = value(
            samples,
            "watchkeeper_slo_alert_firing",
            **shop,
            severity=severity,
            long=long,
            short=short,
        )
        assert alert == (1.0 if firing else 0.0), (severity, long)
    latency = {"service": "shop", "slo": "latency"}
    assert value(samples, "watchkeeper_slo_error_budget_remaining", **latency) == pytest.approx(-4)


def test_failing_slos_are_exported_as_failing_next_to_the_others(
    client: TestClient, settings: Settings, session_factory: sessionmaker[Session]
) -> None:
    with session_factory() as session:
        spec_flows.apply(session, spec_set=load_text(scenario.SPEC), now=AT)
        events_service.ingest(session, scenario.event_rows(), now=AT)
        unevaluable.insert_both(session)
        session.commit()
    assert Worker(settings, session_factory).run_once(AT) is not None
    samples = scrape(client)
    failing = "watchkeeper_slo_evaluation_failing"
    for name in ("availability", "latency"):
        assert value(samples, failing, service="shop", slo=name) == 0.0
    for name in ("forever", "broken"):
        assert value(samples, failing, service="shop", slo=name) == 1.0
        assert math.isnan(value(samples, "watchkeeper_slo_sli", service="shop", slo=name))
    # The objective as stored, even where the spec no longer parses.
    assert value(samples, "watchkeeper_slo_objective", service="shop", slo="broken") == 2.0
    shop = {"service": "shop", "slo": "availability"}
    assert value(samples, "watchkeeper_slo_sli", **shop) == pytest.approx(0.995)


def test_imported_schedules_export_where_their_calendar_ends(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    rotation = (Path(__file__).parents[1] / "oncall" / "data" / "rotation.ics").read_bytes()
    end = datetime(2026, 4, 15, tzinfo=UTC)
    gauge = "watchkeeper_oncall_schedule_covered_until_seconds"
    assert not [key for key in scrape(client) if key[0] == gauge]
    with session_factory() as session:
        for name in ("ann", "bob"):
            people.create_user(session, name=name, role="editor", now=end)
        for schedule in ("team", "backup"):
            oncall_service.import_calendar(
                session,
                name=schedule,
                calendar=rotation,
                start=datetime(2026, 3, 1, tzinfo=UTC),
                end=end,
                now=end,
                origin="rotation.ics",
            )
        oncall_service.apply(
            session,
            documents=read_text(
                "kind: Schedule\nname: yaml\ntime_zone: UTC\nlayers:\n"
                "  - {name: weekly, users: [ann], start: 2026-03-01, turn: weekly}\n",
                "team.yaml",
            ),
            now=end,
        )
        session.commit()
    samples = scrape(client)
    # 2026-04-15T00:00:00Z; a YAML schedule never runs out, so it has no sample.
    assert value(samples, gauge, schedule="team") == 1_776_211_200.0
    assert value(samples, gauge, schedule="backup") == 1_776_211_200.0
    assert sorted(key[1] for key in samples if key[0] == gauge) == [
        (("schedule", "backup"),),
        (("schedule", "team"),),
    ]
