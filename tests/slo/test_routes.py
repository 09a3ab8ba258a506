"""The SLO JSON API: apply (YAML or JSON), read, replace, delete, status, explain, history."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tests.slo import scenario
from tests.slo.scenario import AT
from watchkeeper.db import utcnow
from watchkeeper.events import service as events_service
from watchkeeper.slo.evaluator import Evaluator
from watchkeeper.specs import load_text, slo_to_dict

SLOS = "/api/v1/slos"
YAML = {"content-type": "application/yaml"}
ONE_SLO = """\
apiVersion: watchkeeper/v1
kind: SLO
service: shop
name: availability
objective: 0.999
window: 30d
sli: {name: shop-requests}
"""


def post_yaml(client: TestClient, headers: dict[str, str], text: str) -> Any:
    return client.post(SLOS, content=text, headers={**headers, **YAML})


def tick(
    session_factory: sessionmaker[Session], at: datetime, evaluator: Evaluator | None = None
) -> None:
    with session_factory() as session:
        (evaluator or Evaluator()).tick(session, now=at)
        session.commit()


def ingest(
    session_factory: sessionmaker[Session], rows: list[dict[str, Any]], now: datetime
) -> None:
    with session_factory() as session:
        events_service.ingest(session, rows, now=now)
        session.commit()


@pytest.mark.parametrize(
    ("name", "kwargs"),
    [
        ("YAML text", {"content": scenario.SPEC + "---\n" + scenario.POLICY, "headers": YAML}),
        (
            "JSON with the YAML text in 'spec'",
            {"json": {"spec": scenario.SPEC + "---\n" + scenario.POLICY}},
        ),
        (
            "a JSON list of documents",
            {"json": [yaml.safe_load(scenario.SPEC), yaml.safe_load(scenario.POLICY)]},
        ),
    ],
)
def test_apply_specs(
    client: TestClient, admin_headers: dict[str, str], name: str, kwargs: dict[str, Any]
) -> None:
    kwargs = dict(kwargs)  # the table is shared by both database backends
    headers = {**admin_headers, **kwargs.pop("headers", {})}
    response = client.post(SLOS, headers=headers, **kwargs)
    assert response.status_code == 200, (name, response.text)
    assert response.json() == {
        "created": ["shop/availability", "shop/latency"],
        "updated": [],
        "unchanged": [],
        "policies_created": ["shop-policy"],
        "policies_updated": [],
        "policies_unchanged": [],
    }
    again = client.post(SLOS, headers=headers, **kwargs).json()
    assert again["unchanged"] == ["shop/availability", "shop/latency"], name
    assert again["policies_unchanged"] == ["shop-policy"], name


def test_apply_a_single_json_document_updates(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    assert post_yaml(client, admin_headers, scenario.SPEC).status_code == 200
    response = client.post(SLOS, json=yaml.safe_load(ONE_SLO), headers=admin_headers)
    assert response.json()["updated"] == ["shop/availability"]
    spec = client.get(f"{SLOS}/shop/availability", headers=admin_headers).json()["spec"]
    assert spec["objective"] == 0.999


@pytest.mark.parametrize(
    ("name", "kwargs", "error", "detail"),
    [
        ("empty body", {"content": "  \n", "headers": YAML}, "InvalidInput", "empty spec body"),
        (
            "broken JSON",
            {"content": "{nope", "headers": {"content-type": "application/json"}},
            "InvalidInput",
            "body is not valid JSON",
        ),
        (
            "not UTF-8",
            {"content": b"\xff\xfe\x00", "headers": YAML},
            "InvalidInput",
            "not UTF-8",
        ),
        (
            "invalid objective",
            {"content": ONE_SLO.replace("0.999", "99.9"), "headers": YAML},
            "SpecError",
            "objective",
        ),
    ],
)
def test_apply_refuses_bad_bodies(
    client: TestClient,
    admin_headers: dict[str, str],
    name: str,
    kwargs: dict[str, Any],
    error: str,
    detail: str,
) -> None:
    kwargs = dict(kwargs)  # the table is shared by both database backends
    headers = {**admin_headers, **kwargs.pop("headers")}
    response = client.post(SLOS, headers=headers, **kwargs)
    assert response.status_code == 422, name
    body = response.json()
    assert body["error"] == error, name
    assert detail in body["detail"], name
    # Nothing was applied.
    assert client.get(SLOS, headers=admin_headers).json() == []


def test_spec_errors_list_every_problem(client: TestClient, admin_headers: dict[str, str]) -> None:
    body = post_yaml(client, admin_headers, ONE_SLO.replace("0.999", "99.9")).json()
    assert body["problems"] and all("message" in p for p in body["problems"])
    assert "request body" in body["detail"]


def test_writes_need_a_write_token(
    client: TestClient, admin_headers: dict[str, str], viewer_headers: dict[str, str]
) -> None:
    assert post_yaml(client, {}, ONE_SLO).status_code == 401
    assert post_yaml(client, viewer_headers, ONE_SLO).status_code == 403
    assert client.get(SLOS).status_code == 401
    assert client.get(SLOS, headers=viewer_headers).status_code == 200
    post_yaml(client, admin_headers, ONE_SLO)
    assert client.delete(f"{SLOS}/shop/availability", headers=viewer_headers).status_code == 403


def test_list_and_get(
    client: TestClient, admin_headers: dict[str, str], session_factory: sessionmaker[Session]
) -> None:
    post_yaml(client, admin_headers, scenario.SPEC)
    post_yaml(client, admin_headers, ONE_SLO.replace("service: shop", "service: cart"))
    listed = client.get(SLOS, headers=admin_headers).json()
    assert [s["key"] for s in listed] == ["cart/availability", "shop/availability", "shop/latency"]
    assert all(s["status"] is None for s in listed)  # nothing evaluated yet
    shop = client.get(SLOS, params={"service": "shop"}, headers=admin_headers).json()
    assert [s["key"] for s in shop] == ["shop/availability", "shop/latency"]
    ingest(session_factory, scenario.event_rows(), AT)
    tick(session_factory, AT)
    listed = client.get(SLOS, params={"service": "shop"}, headers=admin_headers).json()
    assert listed[0]["status"]["sli"] == pytest.approx(0.995)
    assert listed[1]["status"]["error_budget_remaining"] == pytest.approx(-4.0)
    one = client.get(f"{SLOS}/shop/latency", headers=admin_headers).json()
    assert (one["key"], one["service"], one["name"], one["source_format"]) == (
        "shop/latency",
        "shop",
        "latency",
        "native",
    )
    assert one["spec"] == slo_to_dict(load_text(scenario.SPEC).slos[1])
    assert one["status"]["total"] == 4.0
    missing = client.get(f"{SLOS}/shop/nope", headers=admin_headers)
    assert missing.status_code == 404
    assert missing.json()["error"] == "SLONotFound"


def test_put_replaces_one_slo_named_by_the_url(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    headers = {**admin_headers, **YAML}
    created = client.put(f"{SLOS}/shop/availability", content=ONE_SLO, headers=headers)
    assert created.status_code == 200
    assert created.json()["created"] == ["shop/availability"]
    updated = client.put(
        f"{SLOS}/shop/availability", content=ONE_SLO.replace("0.999", "0.99"), headers=headers
    )
    assert updated.json()["updated"] == ["shop/availability"]
    mismatch = client.put(f"{SLOS}/shop/latency", content=ONE_SLO, headers=headers)
    assert mismatch.status_code == 422
    assert mismatch.json()["error"] == "KeyMismatch"
    assert "shop/latency" in mismatch.json()["detail"]
    two = client.put(f"{SLOS}/shop/availability", content=scenario.SPEC, headers=headers)
    assert two.status_code == 422
    assert two.json()["error"] == "KeyMismatch"
    assert client.get(f"{SLOS}/shop/latency", headers=admin_headers).status_code == 404


def test_delete(client: TestClient, admin_headers: dict[str, str]) -> None:
    post_yaml(client, admin_headers, scenario.SPEC)
    response = client.delete(f"{SLOS}/shop/availability", headers=admin_headers)
    assert response.status_code == 204
    assert response.content == b""
    assert client.get(f"{SLOS}/shop/availability", headers=admin_headers).status_code == 404
    assert [s["key"] for s in client.get(SLOS, headers=admin_headers).json()] == ["shop/latency"]
    again = client.delete(f"{SLOS}/shop/availability", headers=admin_headers)
    assert (again.status_code, again.json()["error"]) == (404, "SLONotFound")


def test_status_is_stored_unless_fresh_is_asked(
    client: TestClient, admin_headers: dict[str, str], session_factory: sessionmaker[Session]
) -> None:
    # The fresh evaluation runs at the real clock: its events are placed relative to it.
    now = utcnow()
    post_yaml(client, admin_headers, ONE_SLO)
    url = f"{SLOS}/shop/availability/status"
    # No stored status yet: the API evaluates instead of answering with nothing.
    assert client.get(url, headers=admin_headers).json()["total"] == 0.0
    ingest(
        session_factory,
        [{"time": now.timestamp() - 120, "sli": "shop-requests", "good": 90, "total": 100}],
        now,
    )
    stored_at = now - timedelta(days=2)  # the worker's last tick, before those events
    tick(session_factory, stored_at)
    stored = client.get(url, headers=admin_headers).json()
    assert stored["at"].startswith(stored_at.strftime("%Y-%m-%dT%H:%M:%S"))
    assert (stored["total"], stored["sli"]) == (0.0, None)
    assert [a["firing"] for a in stored["alerts"]] == [False] * 4
    fresh = client.get(url, params={"fresh": "true"}, headers=admin_headers).json()
    assert (fresh["good"], fresh["total"]) == (90.0, 100.0)
    assert fresh["sli"] == pytest.approx(0.9)
    # 10 % bad against a 0.1 % budget: burn 100 in every window holding the events.
    assert fresh["burn_rates"]["1h"] == pytest.approx(100.0)
    assert [a["firing"] for a in fresh["alerts"]] == [True] * 4
    assert fresh["forecasts"][0]["basis"] == "1h"
    missing = client.get(f"{SLOS}/shop/nope/status", headers=admin_headers)
    assert missing.status_code == 404


def test_prometheus_slos_are_not_evaluated_here(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    sloth = """\
version: "prometheus/v1"
service: payments
slos:
  - name: requests
    objective: 99.9
    sli:
      events:
        error_query: sum(rate(http_requests_total{code=~"5.."}[{{.window}}]))
        total_query: sum(rate(http_requests_total[{{.window}}]))
    alerting: {page_alert: {disable: true}, ticket_alert: {disable: true}}
"""
    assert post_yaml(client, admin_headers, sloth).status_code == 200
    response = client.get(f"{SLOS}/payments/requests/status", headers=admin_headers)
    assert response.status_code == 409
    assert response.json()["error"] == "SourceNotConfigured"


def test_explain_at_an_instant(
    client: TestClient, admin_headers: dict[str, str], session_factory: sessionmaker[Session]
) -> None:
    post_yaml(client, admin_headers, scenario.SPEC)
    ingest(session_factory, scenario.event_rows(), AT)
    url = f"{SLOS}/shop/availability/explain"
    body = client.get(url, params={"at": scenario.AT_TEXT}, headers=admin_headers).json()
    assert body["status"]["at"] == "2026-11-23T12:00:00Z"
    assert body["status"]["sli"] == pytest.approx(0.995)
    steps = {s["what"]: s for s in body["steps"]}
    assert steps["SLI"]["formula"] == "good / total = 19900 / 20000"
    assert steps["burn rate 1h"]["result"] == pytest.approx(20.0)
    assert steps["page alert 1h/5m"]["result"] == "firing"
    assert steps["ticket alert 1d/2h"]["result"] == "not firing"
    naive = client.get(url, params={"at": "2026-11-23T12:00:00"}, headers=admin_headers)
    assert naive.status_code == 422
    assert "needs a UTC offset" in naive.json()["detail"]
    garbage = client.get(url, params={"at": "yesterday"}, headers=admin_headers)
    assert (garbage.status_code, garbage.json()["error"]) == (422, "InvalidInput")


def test_history(
    client: TestClient, admin_headers: dict[str, str], session_factory: sessionmaker[Session]
) -> None:
    post_yaml(client, admin_headers, scenario.SPEC)
    ingest(session_factory, scenario.event_rows(), AT)
    evaluator = Evaluator(history_interval=timedelta(minutes=5))
    for minutes in (0, 5, 10):
        tick(session_factory, AT + timedelta(minutes=minutes), evaluator)
    url = f"{SLOS}/shop/availability/history"
    params = {"since": "2026-11-23T11:00:00Z", "until": "2026-11-23T12:05:00Z"}
    points = client.get(url, params=params, headers=admin_headers).json()
    assert [p["at"] for p in points] == ["2026-11-23T12:00:00Z", "2026-11-23T12:05:00Z"]
    assert points[0]["sli"] == pytest.approx(0.995)
    assert points[0]["burn_rates"]["1h"] == pytest.approx(20.0)
    # SLI over the last hour: burn 20 on a 0.01 budget is an error ratio of 0.2.
    assert points[0]["slis"]["1h"] == pytest.approx(0.8)
    assert set(points[0]) == {
        "at",
        "good",
        "total",
        "sli",
        "error_budget_remaining",
        "burn_rates",
        "slis",
    }
    limited = client.get(url, params={**params, "limit": 1}, headers=admin_headers).json()
    assert len(limited) == 1
    bad_limit = client.get(url, params={**params, "limit": 0}, headers=admin_headers)
    assert bad_limit.status_code == 422
    missing = client.get(f"{SLOS}/shop/nope/history", headers=admin_headers)
    assert missing.status_code == 404


def test_history_defaults_to_the_last_day(
    client: TestClient, admin_headers: dict[str, str], session_factory: sessionmaker[Session]
) -> None:
    post_yaml(client, admin_headers, ONE_SLO)
    now = utcnow()
    evaluator = Evaluator(history_interval=timedelta(minutes=5))
    for at in (now - timedelta(days=2), now - timedelta(hours=1)):
        tick(session_factory, at, evaluator)
    points = client.get(f"{SLOS}/shop/availability/history", headers=admin_headers).json()
    recent = now - timedelta(hours=1)
    assert [p["at"][:19] for p in points] == [recent.strftime("%Y-%m-%dT%H:%M:%S")]


@pytest.mark.parametrize(
    ("name", "body", "detail"),
    [
        ("null document", "null", "empty spec body"),
        ("nested too deeply", "[" * 100_000, "too deeply nested"),
        (
            "nested within the decoder, deeper than a spec",
            "[" * 500 + "]" * 500,
            "too deeply nested",
        ),
    ],
)
def test_json_spec_bodies_that_say_nothing(
    client: TestClient, admin_headers: dict[str, str], name: str, body: str, detail: str
) -> None:
    response = client.post(
        SLOS, content=body, headers={**admin_headers, "Content-Type": "application/json"}
    )
    assert response.status_code == 422, name
    assert detail in response.json()["detail"], name
