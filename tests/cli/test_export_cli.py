"""OpenSLO end to end on the CLI: catalogued SLOs, RatioTimeslices, ``slo export``."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from sqlalchemy.orm import Session

from tests.cli_runner import Run, in_database
from tests.slo import scenario, unevaluable
from watchkeeper.events import service as events_service
from watchkeeper.slo.evaluator import Evaluator
from watchkeeper.specs import load_paths, load_text

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


CATALOGUED = EXAMPLES / "openslo" / "search-datadog.yaml"
RATIO_SLICES = EXAMPLES / "openslo" / "api-ratio-timeslices.yaml"
AT = scenario.AT  # 12:00 UTC, a multiple of 5 minutes

# Three 5-minute slices before AT: 10 of 10 good (ratio 1), 1 of 2 (0.5), 0 of 4 (0), and an
# empty slice before them that is skipped. RatioTimeslices: (1 + 0.5 + 0) / 3 = 0.5, where
# occurrences would say 11 / 16.
ROWS = [
    {"time": int((AT - timedelta(minutes=m)).timestamp()), "sli": "api-requests", **counts}
    for m, counts in (
        (14, {"good": 10, "total": 10}),
        (9, {"good": 1, "total": 2}),
        (3, {"good": 0, "total": 4}),
    )
]


def test_validate_says_which_slos_are_evaluated(run: Run) -> None:
    result = run("slo", "validate", str(CATALOGUED), str(RATIO_SLICES), "--json")
    assert result.exit_code == 0, result.stderr
    body = json.loads(result.stdout)
    assert body["valid"] is True
    assert body["slos"] == ["search/search-success", "public-api/api-availability"]
    assert body["evaluated_by"] == {
        "search/search-success": None,
        "public-api/api-availability": "watchkeeper",
    }
    human = run("slo", "validate", str(CATALOGUED), str(RATIO_SLICES))
    assert human.exit_code == 0
    assert "catalogued, not evaluated" in human.stdout
    assert "search/search-success (Datadog)" in human.stdout
    assert "public-api/api-availability" not in human.stdout.split("catalogued")[1]


def test_catalogued_slos_are_applied_listed_and_explained(run: Run) -> None:
    assert run("slo", "apply", str(CATALOGUED)).exit_code == 0
    listed = run("slo", "list", "--json")
    assert listed.exit_code == 0
    (row,) = json.loads(listed.stdout)
    assert (row["key"], row["format"], row["evaluated_by"], row["status"]) == (
        "search/search-success",
        "openslo",
        None,
        None,
    )
    table = run("slo", "list")
    assert "catalogued" in table.stdout
    assert "Catalogued SLOs read a system Watchkeeper does not query" in table.stdout
    status = run("slo", "status", "search/search-success")
    assert status.exit_code == 1
    assert "catalogued only: its SLI reads Datadog" in status.stderr
    assert run("slo", "explain", "search-success").exit_code == 1


def test_export_round_trips_what_was_applied(run: Run, tmp_path: Path) -> None:
    applied = load_paths([CATALOGUED, RATIO_SLICES, EXAMPLES / "openslo"])
    assert run("slo", "apply", str(EXAMPLES / "openslo")).exit_code == 0
    out = tmp_path / "exported.yaml"
    result = run("slo", "export", "--to", "openslo", "-o", str(out))
    assert result.exit_code == 0, result.stderr
    assert f"as openslo to {out}" in result.stderr
    exported = load_paths([out])
    assert {s.key: s for s in exported.slos} == {s.key: s for s in applied.slos}
    assert {doc["apiVersion"] for doc in yaml.safe_load_all(out.read_text())} == {"openslo/v1"}
    native = run("slo", "export", "--service", "public-api")
    assert native.exit_code == 0
    (slo,) = load_text(native.stdout).slos
    assert slo == next(s for s in applied.slos if s.key == "public-api/api-availability")
    missing = run("slo", "export", "--service", "nope")
    assert missing.exit_code == 1
    assert "no SLOs have been applied for service 'nope'" in missing.stderr


def test_export_writes_policies_in_native_form(run: Run) -> None:
    assert (
        run(
            "slo", "apply", str(EXAMPLES / "checkout.yaml"), str(EXAMPLES / "checkout-policy.yaml")
        ).exit_code
        == 0
    )
    result = run("slo", "export", "--service", "checkout", "--to", "native")
    back = load_text(result.stdout)
    assert [p.name for p in back.policies] == ["checkout-policy"]
    applied = load_paths([EXAMPLES / "checkout.yaml", EXAMPLES / "checkout-policy.yaml"])
    assert {s.key: s for s in back.slos} == {s.key: s for s in applied.slos}
    as_openslo = run("slo", "export", "--to", "openslo")
    assert "ErrorBudgetPolicy" not in as_openslo.stdout


def test_export_skips_stored_slos_that_no_longer_parse(run: Run, data_dir: Path) -> None:
    files = [EXAMPLES / "checkout.yaml", EXAMPLES / "checkout-policy.yaml"]
    assert run("slo", "apply", *map(str, files)).exit_code == 0
    in_database(data_dir, lambda session: unevaluable.insert(
        session, "broken", unevaluable.spec("broken", objective=2)
    ))  # fmt: skip
    result = run("slo", "export", "--to", "native")
    assert result.exit_code == 0
    exported = load_text(result.stdout)
    assert unevaluable.BROKEN not in {slo.key for slo in exported.slos}
    assert {slo.key for slo in exported.slos} == {slo.key for slo in load_paths(files).slos}
    assert f"skipped SLO {unevaluable.BROKEN!r} cannot be evaluated" in result.stderr


def test_export_of_an_empty_database(run: Run) -> None:
    result = run("slo", "export")
    assert (result.exit_code, result.stdout) == (0, "")
    assert "no SLOs have been applied" in result.stderr


def test_ratio_timeslices_offline(run: Run, tmp_path: Path) -> None:
    data = tmp_path / "events.jsonl"
    data.write_text("".join(json.dumps(row) + "\n" for row in ROWS))
    result = run(
        "slo", "eval", str(RATIO_SLICES), str(CATALOGUED), "--data", str(data),
        "--at", scenario.AT_TEXT, "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    body = json.loads(result.stdout)
    (status,) = body["slos"]
    assert (status["good"], status["total"], status["sli"]) == (1.5, 3.0, 0.5)
    assert status["error_budget_remaining"] == 1 - 0.5 / (1 - 0.99)
    assert status["burn_rates"]["5m"] == 1.0 / (1 - 0.99)
    assert body["skipped"] == [
        "search/search-success: catalogued only (its SLI reads Datadog, which Watchkeeper "
        "does not evaluate)"
    ]


def test_ratio_timeslices_through_the_worker(run: Run, data_dir: Path) -> None:
    assert run("slo", "apply", str(RATIO_SLICES)).exit_code == 0

    def ingest_and_tick(session: Session) -> None:
        events_service.ingest(session, ROWS, now=AT)
        Evaluator().tick(session, now=AT)

    in_database(data_dir, ingest_and_tick)
    (row,) = json.loads(run("slo", "list", "--json").stdout)
    status = row["status"]
    assert row["evaluated_by"] == "watchkeeper"
    assert (status["good"], status["total"], status["sli"]) == (1.5, 3.0, 0.5)
    assert status["error_budget_remaining"] == 1 - 0.5 / (1 - 0.99)
    assert status["burn_rates"]["5m"] == 1.0 / (1 - 0.99)
    assert status["burn_rates"]["30m"] == 0.5 / (1 - 0.99)


@pytest.mark.parametrize("to", ["native", "openslo"])
def test_export_rejects_an_unknown_format(run: Run, to: str) -> None:
    assert run("slo", "export", "--to", to).exit_code == 0
    assert run("slo", "export", "--to", "sloth").exit_code == 2
