"""``watchkeeper slo backtest`` on the demo's SLO spec with a stored ten-minute outage.

The demo's checkout/availability (0.999, 30 d, default windows) gets 100 events a minute from
four days before the outage until now, all bad for the ten minutes of the outage (starting 10
hours ago, on a minute).
As worked out in tests/core/test_backtest.py, the page fires one minute into the outage and
clears 40 minutes after it started; the ticket fires at 5 minutes and clears at 6 h 10 m.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from tests.cli_runner import Run, in_database
from watchkeeper.events import service as events_service

DEMO_SPEC = Path(__file__).resolve().parents[2] / "src" / "watchkeeper" / "demo" / "checkout.yaml"
MINUTE = timedelta(minutes=1)


@pytest.fixture
def applied(run: Run) -> None:
    """The demo's SLO spec applied."""
    assert run("slo", "apply", str(DEMO_SPEC)).exit_code == 0


@pytest.fixture
def outage(applied: None, data_dir: Path) -> datetime:
    """Four days of checkout traffic before the outage stored; returns the outage start."""
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    start = now - timedelta(hours=10)
    rows: list[dict[str, Any]] = []
    moment = start - timedelta(days=4)
    while moment < now:
        bad = start <= moment < start + 10 * MINUTE
        good = 0 if bad else 100
        rows.append(
            {"time": moment.isoformat(), "sli": "checkout-requests", "good": good, "total": 100}
        )
        moment += MINUTE

    def store(session: Session) -> None:
        events_service.ingest(session, rows, now=now)

    in_database(data_dir, store)
    return start


def _z(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def test_the_table_lists_the_page_and_the_ticket_with_a_summary(run: Run, outage: datetime) -> None:
    result = run(
        "slo", "backtest", "checkout/availability",
        "--from", _z(outage - timedelta(hours=1)), "--to", _z(outage + timedelta(hours=8)),
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert "windows (the SLO's): page 1h/5m > 14.40, page 6h/30m" in " ".join(out.split())
    lines = [line for line in out.splitlines() if "│" in line]
    page, ticket = lines
    assert f"{outage + MINUTE:%m-%d %H:%M}" in page
    assert f"{outage + 40 * MINUTE:%m-%d %H:%M}" in page
    assert "39m" in page and "167" in page
    assert "155.17%" in page  # 900 bad / (580,000 events x 0.001), rounded down
    assert f"{outage + 5 * MINUTE:%m-%d %H:%M}" in ticket and "6h5m" in ticket
    summary = " ".join(out.split())
    assert "1 page (39m firing), 1 ticket (6h5m firing); 1,000 bad of 54,000 events" in summary


def test_json_follows_the_contract(run: Run, outage: datetime) -> None:
    result = run("slo", "backtest", "availability", "--from", "11h", "--to", "now", "--json")
    assert result.exit_code == 0, result.stderr
    body = json.loads(result.stdout)
    assert set(body) >= {"slo", "from", "to", "windows", "alerts", "summary"}
    assert body["slo"] == "checkout/availability"
    assert next((w["severity"], w["long"], w["short"]) for w in body["windows"]) == (
        "page", "1h", "5m",
    )  # fmt: skip
    page, ticket = body["alerts"]
    assert set(page) >= {
        "severity", "fired_at", "cleared_at", "duration_seconds", "peak_burn_rate",
        "budget_consumed",
    }  # fmt: skip
    assert (page["severity"], page["fired_at"], page["cleared_at"]) == (
        "page", _z(outage + MINUTE), _z(outage + 40 * MINUTE),
    )  # fmt: skip
    assert page["duration_seconds"] == 39 * 60
    assert page["budget_consumed"] == pytest.approx(900 / 580)
    assert (ticket["severity"], ticket["cleared_at"]) == (
        "ticket", _z(outage + timedelta(hours=6, minutes=10)),
    )  # fmt: skip
    assert body["summary"]["page"] == {"alerts": 1, "firing_seconds": 39 * 60.0}


def test_a_windows_file_is_replayed_instead(run: Run, outage: datetime, tmp_path: Path) -> None:
    windows = tmp_path / "page-only.yaml"
    windows.write_text("windows:\n  - {severity: page, long: 10m, short: 1m, factor: 50}\n")
    result = run(
        "slo", "backtest", "checkout/availability", "--from", "11h",
        "--windows", str(windows), "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    body = json.loads(result.stdout)
    assert body["windows_source"] == str(windows)
    assert [(a["severity"], a["fired_at"], a["cleared_at"]) for a in body["alerts"]] == [
        ("page", _z(outage + MINUTE), _z(outage + 11 * MINUTE))
    ]


def test_an_slo_without_events_never_fires(run: Run, outage: datetime) -> None:
    result = run("slo", "backtest", "checkout/latency", "--from", "1d")
    assert result.exit_code == 0, result.stderr
    summary = " ".join(result.stdout.split())
    assert "0 pages (0s firing), 0 tickets (0s firing)" in summary
    assert "budget consumed over the range: no data" in summary


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["checkout/availabilty", "--from", "1d"], "did you mean 'checkout/availability'?"),
        (["nothing", "--from", "1d"], "no SLO named 'nothing' has been applied"),
        (["availability", "--from", "1d", "--to", "2d"], "must be before to"),
        (["availability", "--from", "1d", "--to", "2999-01-01T00:00:00Z"], "in the future"),
        (["availability", "--from", "401d"], "longer than the 400d one backtest replays"),
        (["availability", "--from", "yesterday"], "--from: malformed time 'yesterday'"),
        (["availability", "--from", "1d", "--windows", "missing.yaml"], "missing.yaml: no such"),
    ],
)
def test_mistakes_exit_1_with_one_line(
    run: Run, applied: None, arguments: list[str], message: str
) -> None:
    result = run("slo", "backtest", *arguments)
    assert result.exit_code == 1
    assert message in " ".join(result.stderr.split())
    assert result.stdout == ""


def test_a_bad_windows_file_names_file_and_line(run: Run, outage: datetime, tmp_path: Path) -> None:
    windows = tmp_path / "windows.yaml"
    windows.write_text(
        "windows:\n"
        "  - {severity: page, long: 1h, short: 5m, factor: 14.4}\n"
        "  - {severity: ticket, long: 1h, short: 2h, factor: 3}\n"
    )
    result = run("slo", "backtest", "availability", "--from", "1d", "--windows", str(windows))
    assert result.exit_code == 1
    stderr = " ".join(result.stderr.split())
    assert f"{windows}:3: windows[1].short: must be shorter than long (1h)" in stderr


def test_from_is_required(run: Run) -> None:
    result = run("slo", "backtest", "availability")
    assert result.exit_code == 2
    assert "--from" in result.stderr
