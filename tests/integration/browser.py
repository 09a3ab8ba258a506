"""Debian's Chromium, driven by Playwright, against a real Watchkeeper server on loopback.

The server is the real app on a free 127.0.0.1 port with a migrated SQLite file; the browser
is /usr/bin/chromium (never a downloaded one). Every test that looks at a page saves a
screenshot under ``build/screenshots/`` (or ``$WATCHKEEPER_SCREENSHOT_DIR``); the docs show
copies of them (``make screenshots``).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from playwright.sync_api import Browser, ConsoleMessage, Page, sync_playwright
from sqlalchemy.orm import Session, sessionmaker

from tests.integration.servers import binary
from tests.live_server import serving
from watchkeeper.app import create_app
from watchkeeper.auth import people, sessions
from watchkeeper.config import Settings
from watchkeeper.db import make_engine, make_session_factory, utcnow
from watchkeeper.migrate import upgrade_to_head

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE = {"width": 375, "height": 740}
DESKTOP = {"width": 1366, "height": 900}
PASSWORD = "browser test password 1"
ROLES = ("admin", "editor", "responder", "viewer")
REPOSITORY = Path(__file__).resolve().parents[2]


def screenshot_dir() -> Path:
    """Where screenshots go: $WATCHKEEPER_SCREENSHOT_DIR, else build/screenshots."""
    configured = os.environ.get("WATCHKEEPER_SCREENSHOT_DIR")
    directory = Path(configured) if configured else REPOSITORY / "build" / "screenshots"
    directory.mkdir(parents=True, exist_ok=True)
    return directory


@dataclass(frozen=True)
class Dashboard:
    """A running server with one user per role (named after the role), password PASSWORD."""

    base_url: str
    session_factory: sessionmaker[Session]

    def url(self, path: str) -> str:
        """The absolute URL of a path."""
        return self.base_url + path

    def sign_in(self, page: Page, name: str, *, next_path: str = "/") -> None:
        """Sign in through the form, as a person would, and wait for the page it leads to."""
        page.goto(self.url(f"/login?next={next_path}"))
        page.fill("input[name=name]", name)
        page.fill("input[name=password]", PASSWORD)
        with page.expect_navigation():
            page.click("button[type=submit]")

    def sign_out(self, page: Page) -> None:
        """Press the sign-out button in the header."""
        with page.expect_navigation():
            page.click("#sign-out")

    def shot(self, page: Page, name: str) -> Path:
        """Save a full-page screenshot named ``name``.png; returns its path."""
        path = screenshot_dir() / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path


def console_errors(page: Page) -> list[str]:
    """A list that collects the page's console errors and uncaught exceptions from now on
    (a script blocked by the Content-Security-Policy is one)."""
    errors: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        # A page answered with a 4xx status (a wrong password's 401) is logged as a failed
        # load; that is the page working, not an error in it.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            errors.append(message.text)

    page.on("console", on_console)
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


@contextmanager
def running_dashboard(
    data_dir: Path, *, seed: Callable[[Session], None] | None = None
) -> Iterator[Dashboard]:
    """Serve Watchkeeper on a free loopback port over a fresh SQLite file; ``seed`` adds data."""
    settings = Settings(data_dir=data_dir, run_worker_in_process=False)
    engine = make_engine(settings.resolved_database_url())
    upgrade_to_head(engine)
    factory = make_session_factory(engine)
    with factory() as session:
        now = utcnow()
        for role in ROLES:
            people.create_user(session, name=role, role=role, now=now, time_zone="Europe/Berlin")
            sessions.set_password(session, name=role, password=PASSWORD, now=now)
        if seed is not None:
            seed(session)
        session.commit()
    app = create_app(settings, engine=engine)
    try:
        with serving(app) as base_url:
            yield Dashboard(base_url=base_url, session_factory=factory)
    finally:
        engine.dispose()


@contextmanager
def chromium() -> Iterator[Browser]:
    """Debian's Chromium under Playwright (skips, or fails when integration is required,
    if it is not installed)."""
    executable = binary("chromium", "chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable, args=CHROMIUM_FLAGS, headless=True
        )
        try:
            yield browser
        finally:
            browser.close()
