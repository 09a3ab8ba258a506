"""``slo list`` shows a failing SLO as failing; ``slo status``/``explain`` say why, exit 1."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import Result

from tests.cli_runner import invoke
from tests.slo import scenario, unevaluable
from watchkeeper.config import Settings
from watchkeeper.db import make_engine, make_session_factory, session_scope
from watchkeeper.events import service as events_service
from watchkeeper.flows import specs as spec_flows
from watchkeeper.slo.evaluator import Evaluator
from watchkeeper.specs import load_text


def run(data_dir: Path, *args: str) -> Result:
    return invoke(*args, data_dir=data_dir)


def prepare(data_dir: Path) -> None:
    """The shop scenario and two SLOs stored before validation refused them, evaluated."""
    assert run(data_dir, "db", "upgrade").exit_code == 0
    engine = make_engine(Settings(data_dir=data_dir).resolved_database_url())

    def work(session: Any) -> None:
        spec_flows.apply(session, spec_set=load_text(scenario.SPEC), now=scenario.AT)
        events_service.ingest(session, scenario.event_rows(), now=scenario.AT)
        unevaluable.insert_both(session)
        Evaluator().tick(session, now=scenario.AT)

    try:
        with session_scope(make_session_factory(engine)) as session:
            work(session)
    finally:
        engine.dispose()


def test_list_shows_failing_slos_and_status_refuses_them(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    prepare(data_dir)
    listed = {
        item["key"]: item["status"]
        for item in json.loads(run(data_dir, "slo", "list", "--json").stdout)
    }
    assert listed["shop/availability"]["error"] is None
    assert "objective" in listed[unevaluable.BROKEN]["error"]
    assert listed[unevaluable.BROKEN]["sli"] is None
    table = run(data_dir, "slo", "list")
    assert table.exit_code == 0
    assert "FAILING" in table.stdout
    assert "shop/broken cannot be evaluated: stored spec is invalid: objective" in " ".join(
        table.stdout.split()
    )
    for command in ("status", "explain"):
        refused = run(data_dir, "slo", command, unevaluable.FOREVER)
        assert refused.exit_code == 1, command
        assert f"SLO '{unevaluable.FOREVER}' cannot be evaluated" in " ".join(
            refused.stderr.split()
        )
    assert run(data_dir, "slo", "status", "shop/availability").exit_code == 0
