"""Catalogued SLOs (external metric sources) through the API, the worker and the status page."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tests.slo.scenario import AT
from tests.web.signing import signed_in
from watchkeeper.slo.evaluator import Evaluator

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "openslo" / "search-datadog.yaml"
SLOS = "/api/v1/slos"


def test_catalogued_slos_are_listed_without_figures(
    client: TestClient,
    admin_headers: dict[str, str],
    session_factory: sessionmaker[Session],
) -> None:
    applied = client.post(
        SLOS,
        content=EXAMPLE.read_text(),
        headers={**admin_headers, "content-type": "application/yaml"},
    )
    assert applied.status_code == 200, applied.text
    assert applied.json()["created"] == ["search/search-success"]
    with session_factory() as session:
        # The worker skips what it cannot evaluate; the SLO keeps no status.
        Evaluator().tick(session, now=AT)
        session.commit()
    listed = client.get(SLOS, headers=admin_headers)
    assert listed.status_code == 200
    (slo,) = listed.json()
    assert slo["status"] is None
    assert slo["spec"]["sli"]["source"] == "external"
    assert slo["spec"]["sli"]["external"]["type"] == "Datadog"
    assert slo["spec"]["sli"]["external"]["metric"]["ratioMetric"]["bad"] == {
        "metricSource": {
            "type": "Datadog",
            "spec": {"query": "sum:search.requests{status:5xx}.as_count()"},
        }
    }
    status = client.get(f"{SLOS}/search/search-success/status", headers=admin_headers)
    assert status.status_code == 409
    assert status.json()["error"] == "NotEvaluable"
    assert "catalogued only" in status.json()["detail"]
    signed_in(client, session_factory, role="viewer")
    page = client.get("/")
    assert page.status_code == 200
    assert 'data-slo="search/search-success"' in page.text
    assert "catalogued · Datadog" in page.text
