"""The dashboard in a real browser: sign in, look around, act, sign out; roles hold."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser

from tests.integration.browser import (
    DESKTOP,
    Dashboard,
    chromium,
    console_errors,
    running_dashboard,
)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


@pytest.fixture(scope="module")
def dashboard(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dashboard]:
    with running_dashboard(tmp_path_factory.mktemp("dashboard")) as running:
        yield running


def test_sign_in_and_out(browser: Browser, dashboard: Dashboard) -> None:
    context = browser.new_context(viewport=DESKTOP, timezone_id="Europe/Berlin")
    page = context.new_page()
    errors = console_errors(page)
    page.goto(dashboard.url("/"))
    assert page.url.endswith("/login")  # no session: sent to sign in
    assert page.locator("input[type=password]").count() == 1
    dashboard.shot(page, "login")
    page.fill("input[name=name]", "viewer")
    page.fill("input[name=password]", "not the password")
    with page.expect_navigation():
        page.click("button[type=submit]")
    assert page.locator("#login-error").inner_text() == "wrong user name or password"
    dashboard.sign_in(page, "viewer")
    assert page.url == dashboard.url("/")
    assert "viewer · viewer" in page.locator("header .who").inner_text()
    cookies = {c["name"]: c for c in context.cookies()}
    assert cookies["wk_session"]["httpOnly"] is True
    assert cookies["wk_session"]["sameSite"] == "Lax"
    dashboard.sign_out(page)
    assert "/login" in page.url
    page.goto(dashboard.url("/"))
    assert "/login" in page.url
    assert errors == []
    context.close()


def test_a_viewer_is_refused_an_editors_action(browser: Browser, dashboard: Dashboard) -> None:
    context = browser.new_context(viewport=DESKTOP, timezone_id="Europe/Berlin")
    page = context.new_page()
    dashboard.sign_in(page, "viewer", next_path="/oncall")
    assert page.locator("form[action='/oncall/overrides']").count() == 0  # no form shown
    # Posted anyway, from the signed-in page with its own CSRF token: the server refuses it.
    status = page.evaluate(
        """async () => {
            const token = document.querySelector("input[name=csrf_token]").value;
            const body = new URLSearchParams({csrf_token: token, schedule: "any",
                user: "viewer", start: "2030-01-01T00:00", end: "2030-01-02T00:00"});
            const answer = await fetch("/oncall/overrides", {method: "POST", body});
            return [answer.status, await answer.text()];
        }"""
    )
    assert status[0] == 403
    assert "may not" in status[1]
    context.close()
