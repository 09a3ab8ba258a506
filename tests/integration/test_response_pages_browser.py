"""The alert and incident pages in a real browser on a phone-sized screen: nothing scrolls
sideways, buttons are big enough to tap, and a responder acknowledges, silences and declares
an incident from an alert group, then adds a note, without leaving the phone layout."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page
from sqlalchemy.orm import Session

from tests.integration.browser import PHONE, Dashboard, chromium, console_errors, running_dashboard
from watchkeeper.alerting import intake
from watchkeeper.alerting import service as alerting_service
from watchkeeper.alerting.schemas import WebhookAlert
from watchkeeper.db import utcnow

# A title and label value with no break opportunity: the worst case for a narrow screen.
LONG = "checkout-api-returns-500-for-payment-requests-in-eu-west-1-" * 3
TAP_MINIMUM = 44  # px, WCAG 2.5.5 target size


def _seed(session: Session) -> None:
    source = alerting_service.create_integration(
        session, name="hooks", type="webhook", now=utcnow()
    )
    for n in range(3):
        intake.ingest_webhook(
            session,
            integration=source,
            alert=WebhookAlert(
                title=f"{LONG} {n}",
                dedup_key=f"k{n}",
                severity="critical",
                labels={"service": "checkout", "instance": LONG},
            ),
            now=utcnow(),
        )


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


@pytest.fixture(scope="module")
def dashboard(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dashboard]:
    with running_dashboard(tmp_path_factory.mktemp("response"), seed=_seed) as running:
        yield running


def _fits(page: Page) -> None:
    """The page does not scroll sideways and every visible control is tall enough to tap."""
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], page.url
    small = page.evaluate(
        """(minimum) => [...document.querySelectorAll(
            'main button, main select, main input:not([type=hidden]), main a.button')]
          .filter((e) => e.offsetParent !== null)
          .map((e) => [e.id || e.name || e.textContent.trim(), e.getBoundingClientRect().height])
          .filter(([, height]) => height < minimum)""",
        TAP_MINIMUM,
    )
    assert small == [], page.url


def test_a_responder_works_an_alert_on_a_phone(browser: Browser, dashboard: Dashboard) -> None:
    context = browser.new_context(
        viewport=PHONE, is_mobile=True, has_touch=True, timezone_id="Europe/Berlin"
    )
    page = context.new_page()
    errors = console_errors(page)
    dashboard.sign_in(page, "responder", next_path="/alerts")
    assert page.locator("tr[data-group]").count() == 3
    _fits(page)
    dashboard.shot(page, "alerts-phone")
    page.locator("tr[data-group] a").last.click()
    page.wait_for_selector("#group-state")
    group_url = page.url
    _fits(page)
    dashboard.shot(page, "alert-phone")
    # htmx swaps the state block in place: the page does not navigate.
    page.click("#ack-button")
    page.wait_for_selector('#group-status[data-status="acknowledged"]')
    assert page.url == group_url
    page.fill("#silence-form input[name=duration]", "2h")
    page.fill("#silence-form input[name=comment]", "deploy in progress")
    page.click("#silence-button")
    page.wait_for_selector('#group-status[data-status="silenced"]')
    page.select_option("#declare-form select[name=severity]", "SEV2")
    with page.expect_navigation():
        page.click("#declare-button")
    assert "/incidents/" in page.url
    assert page.locator("#incident-status").inner_text() == "investigating"
    page.fill("#note-form textarea", "rolled back the deploy")
    with page.expect_navigation():
        page.click("#note-button")
    assert "rolled back the deploy" in page.locator("#timeline").inner_text()
    assert "silenced until" in page.locator("#timeline").inner_text()
    _fits(page)
    dashboard.shot(page, "incident-phone")
    page.goto(dashboard.url("/incidents"))
    _fits(page)
    dashboard.shot(page, "incidents-phone")
    assert errors == []
    context.close()


def test_a_viewer_sees_no_buttons(browser: Browser, dashboard: Dashboard) -> None:
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    dashboard.sign_in(page, "viewer", next_path="/alerts?state=all")
    page.locator("tr[data-group] a").first.click()
    page.wait_for_selector("#group-state")
    assert page.locator("#ack-button, #resolve-button, #silence-button").count() == 0
    assert "may look but not act" in page.locator("#group-state").inner_text()
    _fits(page)
    context.close()
