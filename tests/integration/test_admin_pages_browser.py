"""On-call, Leadership and Settings pages in a real browser: forms, charts, no CSP errors."""

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
from watchkeeper.db import utcnow
from watchkeeper.oncall import service as oncall
from watchkeeper.oncall.documents import read_text

TEAM = """
kind: Schedule
name: checkout
time_zone: Europe/Berlin
layers:
  - name: days
    users: [editor, responder]
    start: 2026-01-05T09:00
    turn: daily
    restrictions:
      - mon-fri 09:00-17:00
---
kind: EscalationPolicy
name: checkout
steps:
  - wait: 15m
    targets:
      - schedule: checkout
"""


def seed(session: Session) -> None:
    oncall.apply(session, documents=read_text(TEAM, "team.yaml"), now=utcnow())


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


@pytest.fixture(scope="module")
def dashboard(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dashboard]:
    with running_dashboard(tmp_path_factory.mktemp("admin-pages"), seed=seed) as running:
        yield running


def test_an_editor_adds_an_override_on_the_oncall_page(
    browser: Browser, dashboard: Dashboard
) -> None:
    context = browser.new_context(viewport=DESKTOP, timezone_id="Europe/Berlin")
    page = context.new_page()
    errors = console_errors(page)
    dashboard.sign_in(page, "editor", next_path="/oncall")
    assert page.locator("[data-schedule=checkout] li.gap").count() > 0  # nights are uncovered
    dashboard.shot(page, "oncall")
    start = (utcnow() + timedelta(days=1)).strftime("%Y-%m-%dT02:00")
    end = (utcnow() + timedelta(days=1)).strftime("%Y-%m-%dT04:00")
    page.select_option("select[name=user]", "responder")
    page.fill("input[name=start]", start)
    page.fill("input[name=end]", end)
    with page.expect_navigation():
        page.click("#overrides button[type=submit]")
    assert "#overrides" in page.url
    overrides = page.locator("[data-schedule=checkout] .oncall-overrides").inner_text()
    assert "responder from" in overrides and "02:00" in overrides
    assert errors == []
    context.close()


def test_an_admin_creates_a_token_and_sees_its_secret_once(
    browser: Browser, dashboard: Dashboard
) -> None:
    context = browser.new_context(viewport=PHONE, timezone_id="Europe/Berlin")
    page = context.new_page()
    errors = console_errors(page)
    dashboard.sign_in(page, "admin", next_path="/settings/tokens")
    page.fill("#create-token input[name=name]", "ci-deploys")
    page.select_option("#create-token select[name=role]", "editor")
    with page.expect_navigation():
        page.click("#create-token button[type=submit]")
    secret = page.locator("#token-secret").inner_text()
    assert secret.startswith("wk_")
    dashboard.shot(page, "settings-token-created")
    page.goto(dashboard.url("/settings/tokens"))
    assert "ci-deploys" in page.content() and secret not in page.content()
    page.goto(dashboard.url("/settings"))
    dashboard.shot(page, "settings")
    assert errors == []
    context.close()


def test_leadership_charts_draw_without_errors(browser: Browser, dashboard: Dashboard) -> None:
    context = browser.new_context(viewport=DESKTOP, timezone_id="Europe/Berlin")
    page = context.new_page()
    errors = console_errors(page)
    dashboard.sign_in(page, "viewer", next_path="/leadership")
    page.wait_for_selector("#chart-compliance canvas")
    assert page.locator(".leadership-chart canvas").count() == 5
    assert page.locator(".trends-table tbody tr").count() == 6
    dashboard.shot(page, "leadership")
    assert errors == []
    context.close()
