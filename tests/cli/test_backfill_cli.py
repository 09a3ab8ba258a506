"""``slo backfill`` and the backfill ``slo apply`` runs for new Prometheus SLOs."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from tests.cli_runner import Run, invoke
from tests.live_server import free_port
from tests.sources.model import SPEC as PROMETHEUS_SPEC
from watchkeeper.db import utcnow

BUILT_IN = """\
apiVersion: watchkeeper/v1
kind: SLO
service: shop
name: checkout
objective: 0.99
window: 1h
sli: {name: shop-requests}
alerting: {windows: [{severity: page, long: 1h, short: 5m, factor: 14.4}]}
"""


def test_apply_warns_when_a_new_prometheus_slo_cannot_be_backfilled(
    run: Run, tmp_path: Path
) -> None:
    spec = tmp_path / "api.yaml"
    spec.write_text(PROMETHEUS_SPEC)
    result = run("slo", "apply", str(spec))
    assert result.exit_code == 0  # applied: the worker evaluates it once a source is set
    assert "SLO api/availability created" in result.stdout
    assert (
        "warning: SLO api/availability applied but not backfilled: no Prometheus source "
        "configured: set WATCHKEEPER_PROMETHEUS_URL"
    ) in " ".join(result.stderr.split())


def test_apply_no_backfill_skips_it(run: Run, tmp_path: Path) -> None:
    spec = tmp_path / "api.yaml"
    spec.write_text(PROMETHEUS_SPEC)
    result = run("slo", "apply", "--no-backfill", str(spec), "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["backfilled"] == []
    assert result.stderr == ""


def test_backfill_of_an_unreachable_prometheus_fails_with_the_reason(
    run: Run, tmp_path: Path, data_dir: Path
) -> None:
    spec = tmp_path / "api.yaml"
    spec.write_text(PROMETHEUS_SPEC)
    assert run("slo", "apply", "--no-backfill", str(spec)).exit_code == 0
    result = invoke(
        "slo",
        "backfill",
        "api/availability",
        data_dir=data_dir,
        WATCHKEEPER_PROMETHEUS_URL=f"http://127.0.0.1:{free_port()}",
        WATCHKEEPER_PROMETHEUS_RETRIES="0",
    )
    assert result.exit_code == 1
    assert "source unreachable: SLO 'api/availability'" in " ".join(result.stderr.split())


def test_backfill_from_an_events_file(run: Run, tmp_path: Path) -> None:
    spec = tmp_path / "shop.yaml"
    spec.write_text(BUILT_IN)
    assert run("slo", "apply", str(spec)).exit_code == 0
    now = utcnow()
    events = tmp_path / "events.csv"
    rows = [
        f"{int((now - timedelta(minutes=m)).timestamp())},shop-requests,9,10" for m in range(1, 50)
    ]
    events.write_text("time,sli,good,total\n" + "\n".join(rows) + "\n")
    result = run("slo", "backfill", "checkout", "--events", str(events), "--json")
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["key"] == "shop/checkout" and document["source"] == "watchkeeper"
    assert document["points"] == 12 and document["with_data"] >= 9
    history = run("slo", "history", "shop/checkout", "--json")
    if history.exit_code == 0:  # `slo history` is another part's command: check it if there
        assert len(json.loads(history.stdout)) >= 12


def test_backfill_refuses_a_bad_events_file_and_stores_nothing(run: Run, tmp_path: Path) -> None:
    spec = tmp_path / "shop.yaml"
    spec.write_text(BUILT_IN)
    assert run("slo", "apply", str(spec)).exit_code == 0
    events = tmp_path / "events.csv"
    events.write_text("time,sli,good,total\n1700000000,shop-requests,11,10\n")
    result = run("slo", "backfill", "shop/checkout", "--events", str(events))
    assert result.exit_code == 1
    assert "nothing was stored or backfilled" in " ".join(result.stderr.split())


def test_backfill_of_an_unknown_slo(run: Run) -> None:
    result = run("slo", "backfill", "nope/nothing")
    assert result.exit_code == 1
    assert "no SLO 'nope/nothing'" in result.stderr
