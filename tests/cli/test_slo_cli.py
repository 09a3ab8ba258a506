"""``watchkeeper slo apply|list|status|explain|eval`` through Typer's test runner (SQLite files)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.cli_runner import Run, in_database
from tests.slo import scenario
from watchkeeper.db import utcnow
from watchkeeper.events import service as events_service
from watchkeeper.slo.evaluator import Evaluator

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
BURN_WINDOWS = ["5m", "30m", "1h", "2h", "6h", "1d", "3d"]


@pytest.fixture
def spec(tmp_path: Path) -> Path:
    path = tmp_path / "shop.yaml"
    path.write_text(scenario.SPEC)
    return path


@pytest.fixture
def data(tmp_path: Path) -> Path:
    return scenario.write_csv(tmp_path / "events.csv")


# -- eval ----------------------------------------------------------------------------------


def test_eval_json_matches_the_hand_worked_scenario(run: Run, spec: Path, data: Path) -> None:
    result = run("slo", "eval", str(spec), "--data", str(data), "--at", scenario.AT_TEXT, "--json")
    assert result.exit_code == 0, result.stderr
    body = json.loads(result.stdout)
    assert datetime.fromisoformat(body["at"].replace("Z", "+00:00")) == scenario.AT
    assert body["skipped"] == []
    availability, latency = body["slos"]
    required = {
        "service", "name", "objective", "window", "good", "total", "sli",
        "error_budget_remaining", "burn_rates", "alerts", "exhaustion_at",
    }  # fmt: skip
    assert required <= set(availability)
    assert (availability["service"], availability["name"]) == ("shop", "availability")
    assert (availability["objective"], availability["window"]) == (0.99, "30d")
    # Worked out in tests/slo/scenario.py: 100 bad of 20000 in the 30 d window.
    assert (availability["good"], availability["total"]) == (19900.0, 20000.0)
    assert availability["sli"] == pytest.approx(19900 / 20000)
    assert availability["error_budget_remaining"] == pytest.approx(1 - (100 / 20000) / 0.01)
    assert list(availability["burn_rates"]) == BURN_WINDOWS
    assert availability["burn_rates"] == pytest.approx(
        {
            "5m": (10 / 10) / 0.01,
            "30m": (20 / 100) / 0.01,
            "1h": (20 / 100) / 0.01,
            "2h": (25 / 200) / 0.01,
            "6h": (35 / 400) / 0.01,
            "1d": (35 / 4000) / 0.01,
            "3d": (35 / 10000) / 0.01,
        }
    )
    alerts = [
        (a["severity"], a["long"], a["short"], round(a["factor"], 9), a["firing"])
        for a in availability["alerts"]
    ]
    assert alerts == scenario.AVAILABILITY_ALERTS
    # 0.5 of the budget left at a 1 h burn of 20: 0.5 x 30 d / 20 = 18 h.
    assert availability["exhaustion_at"] == "2026-11-24T06:00:00Z"
    assert (latency["good"], latency["total"], latency["sli"]) == (2.0, 4.0, 0.5)
    assert latency["error_budget_remaining"] == pytest.approx(1 - 0.5 / 0.1)
    assert latency["burn_rates"]["1h"] == pytest.approx(0.5 / 0.1)
    assert latency["window"] == "7d"
    # Burning already past its budget: exhausted now.
    assert latency["exhaustion_at"] == "2026-11-23T12:00:00Z"


def test_eval_table(run: Run, spec: Path, data: Path) -> None:
    result = run("slo", "eval", str(spec), "--data", str(data), "--at", scenario.AT_TEXT)
    assert result.exit_code == 0
    assert "SLOs at 2026-11-23T12:00:00+00:00" in result.stdout
    assert "99.500%" in result.stdout
    assert "-400.0%" in result.stdout
    assert "page 1h/5m" in result.stdout


def test_eval_accepts_unix_seconds_for_at(run: Run, spec: Path, data: Path) -> None:
    at = str(int(scenario.AT.timestamp()))
    result = run("slo", "eval", str(spec), "--data", str(data), "--at", at, "--json")
    assert json.loads(result.stdout)["slos"][0]["total"] == 20000.0


def test_eval_unknown_sli(run: Run, spec: Path, tmp_path: Path) -> None:
    data = tmp_path / "events.csv"
    data.write_text("time,sli,good,total\n1795435140,shop-request,1,1\n")
    result = run("slo", "eval", str(spec), "--data", str(data), "--at", scenario.AT_TEXT)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert "unknown SLI 'shop-request' (did you mean 'shop-requests'?)" in result.stderr
    ignored = run(
        "slo", "eval", str(spec), "--data", str(data), "--at", scenario.AT_TEXT,
        "--ignore-unknown", "--json",
    )  # fmt: skip
    assert ignored.exit_code == 0
    assert json.loads(ignored.stdout)["slos"][0]["total"] == 0.0


def test_eval_skips_raw_prometheus_slis(run: Run, tmp_path: Path) -> None:
    data = tmp_path / "events.jsonl"
    data.write_text("")
    sloth = EXAMPLES / "sloth" / "payments-raw.yaml"
    result = run("slo", "eval", str(sloth), "--data", str(data), "--at", scenario.AT_TEXT, "--json")
    assert result.exit_code == 0
    body = json.loads(result.stdout)
    assert body["slos"] == []
    assert body["skipped"] == [
        "payments-gateway/authorisations: raw error-ratio SLIs are evaluated by Prometheus only"
    ]
    assert "skipped payments-gateway/authorisations" in result.stderr


AT_OPTION = ["--at", scenario.AT_TEXT]


@pytest.mark.parametrize(
    ("name", "arguments", "message"),
    [
        ("missing data file", ["{spec}", "--data", "{tmp}/nope.csv", *AT_OPTION], "nope.csv"),
        (
            "missing spec",
            ["{tmp}/nope.yaml", "--data", "{data}", *AT_OPTION],
            "nope.yaml: no such file or directory",
        ),
        (
            "invalid spec",
            ["{tmp}/bad.yaml", "--data", "{data}", *AT_OPTION],
            "bad.yaml:7: document 1: slos[0].objective: must be a ratio between 0 and 1",
        ),
        (
            "bad --at",
            ["{spec}", "--data", "{data}", "--at", "yesterday"],
            "malformed time 'yesterday'",
        ),
        (
            "naive --at",
            ["{spec}", "--data", "{data}", "--at", "2026-11-23T12:00:00"],
            "'2026-11-23T12:00:00' has no UTC offset",
        ),
    ],
)
def test_eval_errors_are_one_line_without_traceback(
    run: Run,
    spec: Path,
    data: Path,
    tmp_path: Path,
    name: str,
    arguments: list[str],
    message: str,
) -> None:
    (tmp_path / "bad.yaml").write_text(
        scenario.SPEC.replace("objective: 0.99\n", "objective: 99\n")
    )
    places = {"{spec}": str(spec), "{data}": str(data), "{tmp}": str(tmp_path)}
    argv = []
    for argument in arguments:
        for placeholder, value in places.items():
            argument = argument.replace(placeholder, value)
        argv.append(argument)
    result = run("slo", "eval", *argv)
    assert result.exit_code == 1, name
    assert result.stdout == "", name
    assert result.stderr.startswith("error: "), name
    assert message in result.stderr, (name, result.stderr)


# -- apply, list, status, explain -----------------------------------------------------------


def test_apply_prints_what_changed(run: Run) -> None:
    paths = [str(EXAMPLES / "checkout.yaml"), str(EXAMPLES / "checkout-policy.yaml")]
    first = run("slo", "apply", *paths)
    assert first.exit_code == 0, first.stderr
    assert first.stdout.splitlines() == [
        "SLO checkout/availability created",
        "SLO checkout/latency created",
        "SLO checkout/good-minutes created",
        "policy checkout-policy created",
    ]
    again = run("slo", "apply", *paths, "--json")
    assert json.loads(again.stdout) == {
        "created": [],
        "updated": [],
        "unchanged": ["checkout/availability", "checkout/latency", "checkout/good-minutes"],
        "policies_created": [],
        "policies_updated": [],
        "policies_unchanged": ["checkout-policy"],
        "backfilled": [],
    }


def test_apply_is_all_or_nothing(run: Run, spec: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(scenario.SPEC.replace("service: shop", "service: cart").replace("0.99", "99"))
    result = run("slo", "apply", str(spec), str(bad))
    assert result.exit_code == 1
    assert "bad.yaml" in result.stderr
    assert json.loads(run("slo", "list", "--json").stdout) == []


def test_list(run: Run, spec: Path, data_dir: Path) -> None:
    assert run("slo", "apply", str(spec)).exit_code == 0
    listed = json.loads(run("slo", "list", "--json").stdout)
    assert listed == [
        {"key": "shop/availability", "format": "native", "sli_name": "shop-requests",
         "status": None, "evaluated_by": "watchkeeper"},
        {"key": "shop/latency", "format": "native", "sli_name": "shop-latency", "status": None,
         "evaluated_by": "watchkeeper"},
    ]  # fmt: skip

    def evaluate(session: Any) -> None:
        events_service.ingest(session, scenario.event_rows(), now=scenario.AT)
        Evaluator().tick(session, now=scenario.AT)

    in_database(data_dir, evaluate)
    listed = json.loads(run("slo", "list", "--json").stdout)
    assert listed[0]["status"]["sli"] == pytest.approx(0.995)
    assert listed[0]["status"]["at"] == "2026-11-23T12:00:00Z"
    table = run("slo", "list").stdout
    assert "shop/latency" in table and "99.500%" in table and "-400.0%" in table
    other = json.loads(run("slo", "list", "--service", "cart", "--json").stdout)
    assert other == []


def test_status_evaluates_now(run: Run, spec: Path, data_dir: Path) -> None:
    run("slo", "apply", str(spec))
    # `slo status` evaluates at the real clock: the events are placed relative to it.
    now = utcnow()
    rows = [{"time": now.timestamp() - 120, "sli": "shop-requests", "good": 95, "total": 100}]
    in_database(data_dir, lambda session: events_service.ingest(session, rows, now=now))
    for name in ("shop/availability", "availability"):  # a unique bare name is enough
        result = run("slo", "status", name, "--json")
        assert result.exit_code == 0, result.stderr
        body = json.loads(result.stdout)
        assert (body["key"], body["good"], body["total"]) == ("shop/availability", 95.0, 100.0)
        # 5 % bad against a 1 % budget: burn 5 wherever the events are.
        assert body["burn_rates"]["5m"] == pytest.approx(5.0)
        assert [a["firing"] for a in body["alerts"]] == [False, False, True, True]
    table = run("slo", "status", "availability")
    assert table.exit_code == 0
    assert "95.000%" in table.stdout
    assert "FIRING" in table.stdout


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("nope", "no SLO named 'nope' has been applied (use service/name)"),
        ("shop/nope", "no SLO 'shop/nope' has been applied"),
        ("availability", "'availability' is ambiguous: cart/availability, shop/availability"),
    ],
)
def test_status_errors(run: Run, spec: Path, tmp_path: Path, name: str, message: str) -> None:
    cart = tmp_path / "cart.yaml"
    cart.write_text(scenario.SPEC.replace("service: shop", "service: cart"))
    run("slo", "apply", str(spec), str(cart))
    result = run("slo", "status", name)
    assert result.exit_code == 1
    assert message in result.stderr


def test_status_of_a_prometheus_slo_without_a_source_says_what_to_set(run: Run) -> None:
    run("slo", "apply", str(EXAMPLES / "sloth" / "payments-raw.yaml"))
    result = run("slo", "status", "payments-gateway/authorisations")
    assert result.exit_code == 1
    assert "no Prometheus source configured: set WATCHKEEPER_PROMETHEUS_URL" in result.stderr


def test_explain(run: Run, spec: Path, data_dir: Path) -> None:
    run("slo", "apply", str(spec))
    in_database(
        data_dir,
        lambda session: events_service.ingest(session, scenario.event_rows(), now=scenario.AT),
    )
    result = run("slo", "explain", "shop/availability", "--at", scenario.AT_TEXT, "--json")
    assert result.exit_code == 0, result.stderr
    body = json.loads(result.stdout)
    steps = {s["what"]: s for s in body["steps"]}
    assert steps["SLI"]["formula"] == "good / total = 19900 / 20000"
    assert steps["error budget remaining"]["result"] == pytest.approx(0.5)
    assert steps["burn rate 6h"]["formula"].startswith("(bad / total) / budget = (35 / 400)")
    assert steps["page alert 6h/30m"]["result"] == "firing"
    assert body["status"]["exhaustion_at"] == "2026-11-24T06:00:00Z"
    table = run("slo", "explain", "availability", "--at", scenario.AT_TEXT)
    assert table.exit_code == 0
    assert "shop/availability at 2026-11-23T12:00:00+00:00" in table.stdout
    bad = run("slo", "explain", "availability", "--at", "noon")
    assert bad.exit_code == 1
    assert "malformed time 'noon'" in bad.stderr
    # An hour later the short windows are empty: the page alert has no data to fire on.
    later = (scenario.AT + timedelta(hours=2)).isoformat()
    steps = {s["what"]: s for s in json.loads(
        run("slo", "explain", "availability", "--at", later, "--json").stdout
    )["steps"]}  # fmt: skip
    assert steps["page alert 1h/5m"]["result"] == "not firing"
