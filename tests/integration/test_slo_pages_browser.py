"""The overview, SLO list and SLO detail in a real browser: charts drawn, no CSP errors."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from playwright.sync_api import Browser
from sqlalchemy.orm import Session

from tests.integration.browser import (
    DESKTOP,
    PHONE,
    Dashboard,
    chromium,
    console_errors,
    running_dashboard,
)
from tests.slo import scenario
from watchkeeper.db import utcnow
from watchkeeper.events import service as events_service
from watchkeeper.flows import specs as spec_flows
from watchkeeper.slo import backfill
from watchkeeper.slo.evaluator import Evaluator
from watchkeeper.specs import load_text


def seed(session: Session) -> None:
    """The shop scenario ending now, evaluated, with a day of five-minute history."""
    now = utcnow().replace(second=0, microsecond=0)
    spec_flows.apply(session, spec_set=load_text(scenario.SPEC), now=now)
    events_service.ingest(session, scenario.event_rows(now), now=now)
    Evaluator().tick(session, now=now)
    backfill.backfill(
        session,
        key="shop/availability",
        now=now,
        interval=timedelta(minutes=5),
        start=now - timedelta(days=1),
    )


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


@pytest.fixture(scope="module")
def dashboard(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dashboard]:
    with running_dashboard(tmp_path_factory.mktemp("slo-pages"), seed=seed) as running:
        yield running


def test_overview_and_list(browser: Browser, dashboard: Dashboard) -> None:
    context = browser.new_context(viewport=DESKTOP, timezone_id="Europe/Berlin")
    page = context.new_page()
    errors = console_errors(page)
    dashboard.sign_in(page, "viewer")
    assert page.locator("#status-banner").get_attribute("data-level") == "page"
    assert page.locator('tr[data-service="shop"]').count() == 1
    dashboard.shot(page, "overview")
    page.goto(dashboard.url("/slos?sort=budget"))
    assert page.locator("tr[data-slo]").first.get_attribute("data-slo") == "shop/latency"
    dashboard.shot(page, "slos")
    assert errors == []
    context.close()


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_detail_charts_are_drawn(
    browser: Browser, dashboard: Dashboard, viewport: dict[str, int]
) -> None:
    context = browser.new_context(viewport=viewport, timezone_id="UTC")
    page = context.new_page()
    errors = console_errors(page)
    dashboard.sign_in(page, "viewer", next_path="/slos/shop/availability?range=1d")
    page.wait_for_selector("#slo-charts .uplot canvas", timeout=15_000)
    assert page.locator("#slo-charts .uplot").count() == 3
    status = page.locator("#slo-charts .chart-status").inner_text()
    assert "points" in status and "Europe/Berlin" in status  # the viewer's zone, not UTC
    # Axes are drawn on the canvas; the legends name every series and threshold.
    legends = " ".join(page.locator("#slo-charts .u-legend").all_inner_texts())
    assert "Budget left" in legends and "Objective 99.000 %" in legends
    assert "Burn 1h" in legends and "page threshold 14.4 (1h/5m)" in legends
    name = "slo-detail" if viewport == DESKTOP else "slo-detail-phone"
    dashboard.shot(page, name)
    assert errors == []
    context.close()
