"""The public status page: off by default (404), no sign-in, services and a plain state only."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from tests.slo import scenario
from tests.slo.scenario import AT
from watchkeeper.app import create_app
from watchkeeper.config import Settings
from watchkeeper.events import service as events_service
from watchkeeper.flows import specs as spec_flows
from watchkeeper.slo.evaluator import Evaluator
from watchkeeper.specs import load_text

CALM = (
    "apiVersion: watchkeeper/v1\nkind: ServiceLevels\nservice: calm\nowner: team-secret\n"
    "labels: {cost-centre: internal-label}\nslos:\n"
    "  - {name: hidden-slo-name, objective: 0.9, window: 7d, "
    "sli: {name: calm-requests, kind: ratio}}\n"
)


@pytest.fixture
def public(
    settings: Settings, engine: Engine, session_factory: sessionmaker[Session]
) -> Iterator[TestClient]:
    """A client of an app with the public status page on."""
    app = create_app(settings.model_copy(update={"public_status": True}), engine=engine)
    app.state.session_factory = session_factory
    with TestClient(app) as test_client:
        yield test_client


def states(page: str) -> dict[str, str]:
    return dict(
        re.findall(
            r'<tr data-service="([^"]+)"><td>[^<]*</td><td><span class="pill \w+">([^<]+)<', page
        )
    )


def test_off_by_default(client: TestClient) -> None:
    response = client.get("/status")
    assert response.status_code == 404
    assert "no public status page" in response.text


def test_empty(public: TestClient) -> None:
    response = public.get("/status", follow_redirects=False)
    assert response.status_code == 200
    assert "No services are monitored yet." in response.text
    assert 'data-health="operational"' in response.text


def test_services_and_their_health_without_internals(
    public: TestClient, session_factory: sessionmaker[Session]
) -> None:
    with session_factory() as session:
        spec_flows.apply(session, spec_set=load_text(scenario.SPEC + "---\n" + CALM), now=AT)
        rows = [
            *scenario.event_rows(),
            {"time": int(AT.timestamp()) - 60, "sli": "calm-requests", "good": 5, "total": 5},
        ]
        events_service.ingest(session, rows, now=AT)
        Evaluator().tick(session, now=AT)
        session.commit()
    response = public.get("/status", follow_redirects=False)  # no session needed
    assert response.status_code == 200
    page = response.text
    assert states(page) == {"calm": "operational", "shop": "major outage"}
    assert 'data-health="major outage"' in page
    # Nothing internal: no SLO names, owners, labels, figures or navigation.
    for secret in ("hidden-slo-name", "availability", "team-secret", "internal-label", "%"):
        assert secret not in page.split("<main>")[1], secret
    assert "Sign out" not in page and "<nav" not in page


def test_degraded_for_a_ticket_or_a_spent_budget(
    public: TestClient, session_factory: sessionmaker[Session]
) -> None:
    moment = int(AT.timestamp())
    # Burn 4 over the last day (tickets, no page), as in the overview's banner test.
    rows: list[dict[str, object]] = [
        {"time": moment - 3600 * hour, "sli": "shop-requests", "good": 960, "total": 1000}
        for hour in range(1, 25)
    ]
    rows.append(
        {"time": moment - 10 * 86_400, "sli": "shop-requests", "good": 10**6, "total": 10**6}
    )
    with session_factory() as session:
        spec_flows.apply(session, spec_set=load_text(scenario.SPEC), now=AT)
        events_service.ingest(session, rows, now=AT)
        Evaluator().tick(session, now=AT)
        session.commit()
    assert states(public.get("/status").text) == {"shop": "degraded"}
