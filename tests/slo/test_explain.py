"""``slo explain``: each step shows the counts and the arithmetic behind a figure."""

from __future__ import annotations

import numpy as np
import pytest

from tests.slo import scenario
from tests.slo.scenario import AT
from watchkeeper.core.evaluation import evaluate
from watchkeeper.core.series import EventSeries
from watchkeeper.slo.explain import Explanation, explain
from watchkeeper.specs import load_text


def availability_explanation() -> Explanation:
    slo = next(s for s in load_text(scenario.SPEC).slos if s.name == "availability")
    moment = AT.timestamp()
    series = EventSeries.from_counts(
        np.array([moment - ago for ago, _, _ in scenario.REQUEST_ROWS]),
        np.array([good for _, good, _ in scenario.REQUEST_ROWS]),
        np.array([total for _, _, total in scenario.REQUEST_ROWS]),
    )
    return explain(slo, evaluate(slo, series, AT))


def test_steps_spell_out_the_hand_worked_scenario() -> None:
    explanation = availability_explanation()
    steps = {step.what: step for step in explanation.steps}
    assert steps["SLO window"].formula == ("[2026-10-24T12:00:00+00:00, 2026-11-23T12:00:00+00:00)")
    assert steps["SLO window"].result == "19900 good of 20000 events"
    assert steps["SLI"].formula == "good / total = 19900 / 20000"
    assert steps["SLI"].result == pytest.approx(0.995)
    assert steps["error budget"].result == pytest.approx(0.01)
    assert steps["error budget remaining"].formula.startswith(
        "1 - (bad / total) / budget = 1 - (100 / 20000) / 0.0100"
    )
    assert steps["error budget remaining"].result == pytest.approx(0.5)
    # One step per burn window, shortest first, with the bad and total counts of that window.
    burn_steps = [s for s in explanation.steps if s.what.startswith("burn rate ")]
    assert [s.what for s in burn_steps] == [
        f"burn rate {w}" for w in ("5m", "30m", "1h", "2h", "6h", "1d", "3d")
    ]
    counts = [s.formula.split(" = ")[1].split(" / 0.01")[0] for s in burn_steps]
    assert counts == [
        "(10 / 10)",
        "(20 / 100)",
        "(20 / 100)",
        "(25 / 200)",
        "(35 / 400)",
        "(35 / 4000)",
        "(35 / 10000)",
    ]
    assert [s.result for s in burn_steps] == pytest.approx([100, 20, 20, 12.5, 8.75, 0.875, 0.35])
    alerts = {s.what: s.result for s in explanation.steps if " alert " in s.what}
    assert alerts == {
        "page alert 1h/5m": "firing",
        "page alert 6h/30m": "firing",
        "ticket alert 1d/2h": "not firing",
        "ticket alert 3d/6h": "not firing",
    }
    assert "> 14.4 and burn 5m" in steps["page alert 1h/5m"].formula
    assert steps["exhaustion at the 1h burn rate"].result == "2026-11-24T06:00:00+00:00"
    # The status document travels with the steps.
    assert explanation.status.key == "shop/availability"
    assert explanation.status.sli == pytest.approx(0.995)


def test_min_events_is_part_of_the_alert_condition() -> None:
    slo = load_text(
        """\
apiVersion: watchkeeper/v1
kind: SLO
service: shop
name: availability
objective: 0.99
window: 30d
sli: {name: shop-requests}
alerting: {min_events: 100}
"""
    ).slos[0]
    moment = AT.timestamp()
    # 10 bad of 10 events a minute ago: every burn rate is 100, but 10 < 100 events.
    status = evaluate(slo, EventSeries.from_counts([moment - 60], [0], [10]), AT)
    steps = {s.what: s for s in explain(slo, status).steps}
    page = steps["page alert 1h/5m"]
    assert page.formula.endswith("> 14.4 and 10 >= 100 events")
    assert page.result == "not firing"


def test_windows_without_data_say_so() -> None:
    slo = load_text(scenario.SPEC).slos[0]
    status = evaluate(slo, EventSeries.empty(), AT)
    steps = {s.what: s for s in explain(slo, status).steps}
    assert steps["SLI"].result is None
    assert steps["error budget remaining"].result is None
    assert "burn 1h no data > 14.4 and burn 5m no data > 14.4" in steps["page alert 1h/5m"].formula
    assert steps["exhaustion at the 1h burn rate"].result is None


def test_timeslice_slos_count_slices() -> None:
    slo = load_text(
        """\
apiVersion: watchkeeper/v1
kind: SLO
service: shop
name: good-minutes
objective: 0.9
window: 7d
sli: {name: shop-requests, kind: timeslices, slice: 1m, slice_target: 0.95}
"""
    ).slos[0]
    moment = AT.timestamp()
    # Two minutes with data: 10/10 (good slice) and 5/10 (bad slice, 0.5 < 0.95).
    series = EventSeries.from_counts([moment - 120, moment - 60], [10, 5], [10, 10])
    steps = {s.what: s for s in explain(slo, evaluate(slo, series, AT)).steps}
    assert steps["SLO window"].result == "1 good of 2 slices"
    assert steps["SLI"].result == pytest.approx(0.5)
