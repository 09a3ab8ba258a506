"""The overview: services' health, firing alert groups, open incidents, on call, live part."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tests.slo import scenario
from tests.slo.scenario import AT
from tests.web.signing import signed_in
from watchkeeper.alerting import service as alerting_service
from watchkeeper.auth import people
from watchkeeper.db import utcnow
from watchkeeper.events import service as events_service
from watchkeeper.flows import specs as spec_flows
from watchkeeper.incident import declaration
from watchkeeper.oncall import service as oncall_service
from watchkeeper.oncall.documents import read_text
from watchkeeper.slo.evaluator import Evaluator
from watchkeeper.specs import load_text
from watchkeeper.web.routes import banner_for

XSS = "<script>alert(1)</script>"

SCHEDULE = """
kind: Schedule
name: primary
time_zone: UTC
layers:
  - name: daily
    users: [ann, bob]
    start: 2026-01-01T09:00
    turn: daily
"""


@pytest.fixture
def viewer(client: TestClient, session_factory: sessionmaker[Session]) -> TestClient:
    signed_in(client, session_factory, role="viewer")
    return client


def banner(page: str) -> tuple[str, list[str]]:
    found = re.search(r'<div class="banner (\w+)" id="status-banner"[^>]*>(.*?)</div>', page, re.S)
    assert found is not None
    return found.group(1), re.findall(r'<li id="banner-[\w-]+">(.*?)</li>', found.group(2))


def fire(
    client: TestClient,
    session_factory: sessionmaker[Session],
    *,
    urgency: str,
    title: str = "Disk full",
) -> None:
    """A firing alert group through a webhook integration of ``urgency``."""
    with session_factory() as session:
        integration = alerting_service.create_integration(
            session,
            name=f"hook-{urgency}",
            type="webhook",
            now=utcnow(),
            default_urgency=urgency,
        )
        session.commit()
        key = integration.key
    response = client.post(
        f"/api/v1/integrations/{key}/webhook",
        json={"title": title, "dedup_key": f"k-{urgency}", "state": "firing", "labels": {}},
    )
    assert response.status_code in (200, 202), response.text


def test_empty_overview_says_what_to_do(viewer: TestClient) -> None:
    page = viewer.get("/").text
    assert "No services yet: apply SLOs with <code>watchkeeper slo apply examples/</code>" in page
    assert "No alert group is firing" in page
    assert "No open incident" in page
    assert "No on-call schedules yet" in page
    assert banner(page) == ("ok", [])


def test_services_are_summed_up_worst_first(
    viewer: TestClient, session_factory: sessionmaker[Session]
) -> None:
    text = scenario.SPEC + (
        "---\napiVersion: watchkeeper/v1\nkind: ServiceLevels\nservice: calm\nslos:\n"
        "  - {name: uptime, objective: 0.9, window: 7d, sli: {name: calm-requests, kind: ratio}}\n"
    )
    with session_factory() as session:
        spec_flows.apply(session, spec_set=load_text(text), now=AT)
        events_service.ingest(
            session,
            [
                *scenario.event_rows(),
                {"time": int(AT.timestamp()) - 60, "sli": "calm-requests", "good": 5, "total": 5},
            ],
            now=AT,
        )
        Evaluator().tick(session, now=AT)
        session.commit()
    page = viewer.get("/").text
    services = re.findall(r'<tr data-service="([^"]+)">(.*?)</tr>', page, re.S)
    assert [name for name, _ in services] == ["shop", "calm"]
    shop, calm = services[0][1], services[1][1]
    assert 'data-state="paging"' in shop and "-400.0 %" in shop
    assert 'data-state="ok"' in calm and "100.0 %" in calm
    # The SLO table lists the least healthy first: both shop SLOs page, latency has less
    # budget left.
    assert re.findall(r'<tr data-slo="([^"]+)"', page) == [
        "shop/latency",
        "shop/availability",
        "calm/uptime",
    ]


def test_a_firing_page_urgency_group_turns_the_banner_red(
    viewer: TestClient, session_factory: sessionmaker[Session]
) -> None:
    fire(viewer, session_factory, urgency="low", title="Slow backups")
    page = viewer.get("/").text
    assert banner(page) == ("ok", [])  # a low-urgency group notifies; it does not page
    assert "Slow backups" in page
    fire(viewer, session_factory, urgency="high", title=XSS)
    page = viewer.get("/").text
    assert banner(page) == ("page", ["1 alert group firing at page urgency"])
    assert "2 groups firing · 1 paging · 1 low urgency" in page
    assert XSS not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_banner_for_counts_alert_pages_beside_slos() -> None:
    assert banner_for([]).level == "ok"
    assert banner_for([], alert_pages=2).level == "page"
    assert banner_for([], alert_pages=2).lines == [
        ("alert-pages", "2 alert groups firing at page urgency")
    ]


def test_open_incidents_are_listed_escaped(
    viewer: TestClient, session_factory: sessionmaker[Session]
) -> None:
    with session_factory() as session:
        declaration.declare(session, title=XSS, severity="SEV1", actor="ann", now=utcnow())
        resolved = declaration.declare(
            session, title="Old trouble", severity="SEV3", actor="ann", now=utcnow()
        )
        resolved.status = "resolved"
        session.commit()
    page = viewer.get("/").text
    section = re.search(r'<section class="card" id="open-incidents".*?</section>', page, re.S)
    assert section is not None
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in section.group(0)
    assert XSS not in page
    assert "Old trouble" not in section.group(0)
    assert '<span class="pill bad">SEV1</span>' in section.group(0)


def test_on_call_now_and_next(viewer: TestClient, session_factory: sessionmaker[Session]) -> None:
    with session_factory() as session:
        for name in ("ann", "bob"):
            people.create_user(session, name=name, role="responder", now=utcnow())
        oncall_service.apply(session, documents=read_text(SCHEDULE, "team.yaml"), now=utcnow())
        session.commit()
    now = utcnow()
    # Daily turns from 1 January 09:00 UTC, ann first.
    turn_start = datetime(2026, 1, 1, 9, tzinfo=UTC)
    turns = (now - turn_start) // timedelta(days=1)
    current, following = ("ann", "bob") if turns % 2 == 0 else ("bob", "ann")
    handoff = turn_start + (turns + 1) * timedelta(days=1)
    page = viewer.get("/").text
    row = re.search(r'<tr data-schedule="primary">(.*?)</tr>', page, re.S)
    assert row is not None
    assert (
        f'<td class="oncall-now">{current} <span class="muted">until {handoff:%Y-%m-%d %H:%M} UTC'
        in (row.group(1))
    )
    assert (
        f'<td class="oncall-next">{following} <span class="muted">from {handoff:%Y-%m-%d %H:%M} UTC'
        in (row.group(1))
    )


def test_the_live_part_is_polled_and_served_alone(
    viewer: TestClient, session_factory: sessionmaker[Session]
) -> None:
    page = viewer.get("/").text
    assert 'hx-get="/overview/live" hx-trigger="every 15s" hx-swap="outerHTML"' in page
    live = viewer.get("/overview/live", headers={"HX-Request": "true"})
    assert live.status_code == 200
    assert "<html" not in live.text and 'id="status-banner"' in live.text
    assert 'hx-get="/overview/live"' in live.text  # the swapped-in part keeps polling
    fire(viewer, session_factory, urgency="high")
    assert banner(viewer.get("/overview/live").text)[0] == "page"


def test_the_live_part_asks_htmx_to_sign_in_again(client: TestClient) -> None:
    response = client.get("/overview/live", headers={"HX-Request": "true"})
    assert response.status_code == 204
    assert response.headers["HX-Redirect"] == "/login"  # back to the overview afterwards
