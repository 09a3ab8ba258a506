"""The status page."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tests.slo import scenario
from tests.slo.scenario import AT
from watchkeeper.events import service as events_service
from watchkeeper.flows import specs as spec_flows
from watchkeeper.slo.evaluator import Evaluator
from watchkeeper.specs import load_text


def apply(session_factory: sessionmaker[Session], text: str, rows: list[dict[str, object]]) -> None:
    with session_factory() as session:
        spec_flows.apply(session, spec_set=load_text(text), now=AT)
        events_service.ingest(session, rows, now=AT)
        Evaluator().tick(session, now=AT)
        session.commit()


def test_empty_page(client: TestClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "No SLOs yet" in response.text
    assert 'id="paging-banner"' not in response.text


def test_page_lists_slos_and_the_paging_banner(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    apply(session_factory, scenario.SPEC, scenario.event_rows())
    page = client.get("/").text
    assert 'data-slo="shop/availability"' in page
    assert 'data-slo="shop/latency"' in page
    assert "2 SLOs" in page
    # Both SLOs have a page alert firing (scenario: availability 1h/5m and 6h/30m; latency all).
    assert 'id="paging-banner"' in page
    assert "2 SLOs burning error budget fast enough to page" in page
    assert "99.500 %" in page  # availability's SLI
    assert "50.0 %" in page  # its budget left
    assert '<span class="pill page">page 1h/5m</span>' in page
    assert "No page-level burn" not in page


def test_no_banner_without_a_page_alert(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    moment = int(AT.timestamp())
    healthy = [{"time": moment - 60, "sli": "shop-requests", "good": 100, "total": 100}]
    apply(session_factory, scenario.SPEC, healthy)
    page = client.get("/").text
    assert "No page-level burn" in page
    assert 'id="paging-banner"' not in page
    assert "100.000 %" in page
    # latency has no events: evaluated, but without figures.
    assert "no data" in page
