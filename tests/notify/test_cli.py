"""``watchkeeper notify list|show|retry|test`` against a real SQLite file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from tests.cli_runner import Run, in_database, upgraded
from tests.notify.fakes import AT, page
from watchkeeper.notify import service
from watchkeeper.notify.models import Notification


@pytest.fixture
def run(tmp_path: Path) -> Run:
    return upgraded(tmp_path / "data")


def test_test_console_with_deliver_prints_the_message(run: Run) -> None:
    result = run("notify", "test", "console", "stdout", "--deliver")
    assert result.exit_code == 0, result.stderr
    assert "== Watchkeeper test notification ==" in result.stdout
    assert "Channel : console" in result.stdout
    assert "test notification 1 delivered" in result.stdout
    listed = json.loads(run("notify", "list", "--json").stdout)
    assert [(n["id"], n["status"], n["kind"]) for n in listed] == [(1, "delivered", "test")]


def test_test_of_an_unconfigured_webhook_fails_with_the_reason(run: Run) -> None:
    result = run("notify", "test", "webhook", "http://127.0.0.1:9/x", "--deliver", "--json")
    assert result.exit_code == 1
    assert json.loads(result.stdout)["status"] == "failed"
    assert "WATCHKEEPER_WEBHOOK_SECRET" in result.stderr
    shown = json.loads(run("notify", "show", "1", "--json").stdout)
    assert shown["status"] == "failed"
    assert "WATCHKEEPER_WEBHOOK_SECRET" in shown["last_error"]
    assert shown["address"] == "http://127.0.0.1:9/…"


def test_bad_channel_is_one_line_and_exit_1(run: Run) -> None:
    result = run("notify", "test", "pagr", "x")
    assert result.exit_code == 1
    assert "channel 'pagr' is not one of" in result.stderr
    assert run("notify", "list", "--json").stdout.strip() == "[]"


def test_list_show_retry(run: Run, tmp_path: Path) -> None:
    def seed(session: Session) -> None:
        row = service.enqueue(
            session,
            channel="console",
            address="stdout",
            message=page(),
            idempotency_key="k",
            now=AT,
        )
        row.status = "failed"
        row.last_error = "the receiver answered HTTP 400"

    in_database(tmp_path / "data", seed)
    table = run("notify", "list", "--status", "failed")
    assert table.exit_code == 0
    assert "HighErrorRate" in table.stdout
    shown = run("notify", "show", "1")
    assert "last error: the receiver answered HTTP 400" in shown.stdout
    assert run("notify", "retry", "1").stdout.strip() == "notification 1 is pending again"
    again = run("notify", "retry", "1")
    assert again.exit_code == 1
    assert "only a failed one can be retried" in again.stderr
    missing = run("notify", "show", "7")
    assert (missing.exit_code, missing.stderr.strip()) == (1, "error: no notification with id 7")
    bad = run("notify", "list", "--status", "lost")
    assert bad.exit_code == 1 and "status: 'lost'" in bad.stderr

    def check(session: Session) -> None:
        row = session.get(Notification, 1)
        assert row is not None and row.status == "pending"

    in_database(tmp_path / "data", check)


def test_test_deliver_sends_only_the_test_notification(run: Run, tmp_path: Path) -> None:
    def seed(session: Session) -> None:
        service.enqueue(
            session,
            channel="console",
            address="stdout",
            message=page(),
            idempotency_key="page-for-bob",
            now=AT,
            recipient="bob",
        )

    in_database(tmp_path / "data", seed)
    result = run("notify", "test", "console", "stdout", "--deliver")
    assert result.exit_code == 0, result.stderr
    assert "to bob" not in result.stdout
    assert "test notification 2 delivered" in result.stdout

    def check(session: Session) -> None:
        queued = session.get(Notification, 1)
        assert queued is not None
        assert (queued.status, queued.attempts) == ("pending", 0)

    in_database(tmp_path / "data", check)
