"""Stored figures: window counts written as JSON text, ratios recomputed exactly when read,
rows written before 0006 still read, and the tick's writes kept to a few bulk statements."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import event, insert
from sqlalchemy.orm import Session

from tests.slo.scenario import AT
from watchkeeper.core.batch import evaluate_batch, make_plan
from watchkeeper.core.budget import sli_ratio
from watchkeeper.core.burn_rate import burn_rate
from watchkeeper.core.grid import CountGrid, minute_index
from watchkeeper.core.slo import SLI, SLO, RollingWindow
from watchkeeper.events import service as events_service
from watchkeeper.flows import specs as spec_flows
from watchkeeper.slo import service
from watchkeeper.slo.evaluator import Evaluator
from watchkeeper.slo.figures import batch_statuses, counts_json, many_window_figures, window_figures
from watchkeeper.slo.models import SLOHistory
from watchkeeper.specs import SpecSet

MINUTE = timedelta(minutes=1)
counts = st.integers(min_value=0, max_value=10**12)


@given(st.lists(st.tuples(counts, counts), min_size=1, max_size=8), st.floats(0.5, 0.99999))
def test_ratios_read_back_are_the_evaluations_own(
    pairs: list[tuple[int, int]], objective: float
) -> None:
    labels = [f"{i + 1}m" for i in range(len(pairs))]
    good = np.array([[min(g, t) for g, t in pairs]], dtype=np.float64)
    total = np.array([[t for _, t in pairs]], dtype=np.float64)
    [text] = counts_json(labels, good, total)
    assert json.loads(text) == {
        label: [int(g), int(t)] for label, g, t in zip(labels, good[0], total[0], strict=True)
    }
    burn, sli = window_figures(json.loads(text), objective)
    expected_burn = burn_rate(total - good, total, objective)[0]
    expected_sli = sli_ratio(good, total)[0]
    for i, label in enumerate(labels):
        if total[0, i] == 0:
            assert burn[label] is None and sli[label] is None
        else:  # the very same floats: no rounding on the way through the database
            assert burn[label] == expected_burn[i]
            assert sli[label] == expected_sli[i]


def test_batch_rows_match_the_result() -> None:
    slos = tuple(
        SLO(
            service="s",
            name=f"n{i}",
            sli=SLI(name=f"sli-{i}"),
            objective=0.99,
            window=RollingWindow(timedelta(days=30)),
        )
        for i in range(3)
    )
    plan = make_plan(slos, np.array([0, 1, 2], dtype=np.int64))
    grid = CountGrid(
        4, minute_slots=4440, hour_slots=722, current_minute=minute_index(AT.timestamp())
    )
    grid.set_minutes(
        np.array([0, 1], dtype=np.int64),
        np.array([grid.current_minute - 1] * 2, dtype=np.int64),
        np.array([90, 0], dtype=np.int64),
        np.array([100, 0], dtype=np.int64),
    )
    result = evaluate_batch(plan, grid, AT)
    rows = batch_statuses([7, 8, 9], plan, result, AT)
    assert rows.slo_id == [7, 8, 9] and rows.objective == [0.99] * 3
    assert (rows.good, rows.total) == ([90.0, 0.0, 0.0], [100.0, 0.0, 0.0])
    assert rows.sli == [0.9, None, None]
    assert rows.budget_remaining[0] == pytest.approx(1 - 0.1 / 0.01)
    first = json.loads(rows.window_counts[0] or "")
    assert first["5m"] == [90, 100] and first["3d"] == [90, 100]
    assert json.loads(rows.window_counts[1] or "")["1h"] == [0, 0]
    assert rows.exhaustion_at[0] == AT  # already overspent
    assert rows.exhaustion_at[1:] == [None, None] and rows.error == [None] * 3


def test_history_written_before_0005_is_still_read(session: Session, shop: Any) -> None:
    record = service.get(session, key="shop/availability")
    session.execute(
        insert(SLOHistory),
        [
            {
                "slo_id": record.id,
                "at": AT - timedelta(hours=1),
                "good": 99.0,
                "total": 100.0,
                "sli": 0.99,
                "budget_remaining": 0.0,
                "burn_rates": {"1h": 1.0},
                "window_slis": {"1h": 0.99},
            }
        ],
    )
    events_service.ingest(
        session,
        [{"time": int(AT.timestamp()) - 60, "sli": "shop-requests", "good": 9, "total": 10}],
        now=AT,
    )
    Evaluator(history_interval=timedelta(0)).tick(session, now=AT)
    old, new = service.history(
        session, key="shop/availability", since=AT - timedelta(days=1), until=AT
    )
    assert (old.burn_rates, old.slis) == ({"1h": 1.0}, {"1h": 0.99})
    assert new.burn_rates["1h"] == pytest.approx(10.0) and new.slis["1h"] == pytest.approx(0.9)
    assert new.burn_rates["5m"] == pytest.approx(10.0)


def test_a_tick_writes_statuses_in_one_bulk_statement(session: Session) -> None:
    slos = tuple(
        SLO(
            service="bulk",
            name=f"slo-{i}",
            sli=SLI(name=f"bulk-{i}"),
            objective=0.999,
            window=RollingWindow(timedelta(days=30)),
        )
        for i in range(40)
    )
    spec_flows.apply(session, spec_set=SpecSet(slos=slos), now=AT - timedelta(hours=1))
    evaluator = Evaluator()
    evaluator.tick(session, now=AT)
    writes: list[tuple[str, bool]] = []

    def record(
        _conn: Any, _cursor: Any, statement: str, _params: Any, _ctx: Any, many: bool
    ) -> None:
        if statement.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE")):
            writes.append((" ".join(statement.split()[:3]), many))

    connection = session.connection()
    event.listen(connection, "before_cursor_execute", record)
    try:
        evaluator.tick(session, now=AT + MINUTE)
    finally:
        event.remove(connection, "before_cursor_execute", record)
    # 40 status rows in one executemany; no alert changed, no history due.
    assert writes == [("INSERT INTO slo_status", True)]


def test_many_window_figures_equal_one_row_at_a_time() -> None:
    counts: list[dict[str, list[float]]] = [
        {"5m": [90, 100], "1h": [990, 1000]},
        {"5m": [0, 0], "1h": [5, 10]},  # no events in 5m: None, not 0
        {"30m": [7, 7]},  # other windows, in a group of their own
        {},  # nothing stored
        {"5m": [1, 3], "1h": [2, 3]},
    ]
    objectives = [0.999, 0.99, 0.9, 0.999, 0.5]
    many = many_window_figures(counts, objectives)
    assert many == [window_figures(c, o) for c, o in zip(counts, objectives, strict=True)]
    assert many[1][0]["5m"] is None
    assert many[0][0]["5m"] == pytest.approx(0.1 / 0.001)
    assert many[3] == ({}, {})
