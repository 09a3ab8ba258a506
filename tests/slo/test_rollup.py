"""The hourly rollup of SLO history equals the raw aggregation of the same hours.

History rows are written as the tick writes them (repository.append_history, which adds
each to its hour), then the rollup's buckets are compared with the chart's raw query over
the same whole-hour buckets, field for field, floats exactly. The scenarios are named and
small, plus seeded random minutes with spikes, gaps and minutes without events.
"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from tests.slo import scenario
from tests.slo.scenario import AT
from watchkeeper.db import make_engine
from watchkeeper.flows import specs as spec_flows
from watchkeeper.flows.specs import ApplyResult
from watchkeeper.migrate import alembic_config, upgrade_to_head
from watchkeeper.slo import backfill as slo_backfill
from watchkeeper.slo import chart, chart_repository, repository, rollup, rollup_repository
from watchkeeper.slo import service as slo_service
from watchkeeper.slo.models import SLOHistory, SLOHistoryHourly
from watchkeeper.slo.repository import StatusBatch
from watchkeeper.specs import load_text

KEY = "shop/availability"
LABELS = ["1h", "5m", "6h", "30m", "1d", "2h", "3d"]
H0 = AT - timedelta(hours=6)  # a whole hour
S0 = int(H0.timestamp())
Row = tuple[int, float, float | None, dict[str, list[int]]]  # minute after H0, budget, SLI, counts


def _write(session: Session, slo_id: int, rows: Sequence[Row], objective: float = 0.99) -> None:
    """Each row as the tick stores it: one history write per evaluation."""
    for minute, budget, sli, counts in rows:
        batch = StatusBatch(
            slo_id=[slo_id],
            objective=[objective],
            good=[1.0],
            total=[1.0],
            sli=[sli],
            budget_remaining=[budget],
            window_counts=[json.dumps(counts)],
            exhaustion_at=[None],
            error=[None],
        )
        repository.append_history(session, batch, at=H0 + timedelta(minutes=minute))


def _both(
    session: Session, slo_id: int, width: int, hours: int = 6
) -> tuple[list[chart_repository.HistoryBucket], list[chart_repository.HistoryBucket]]:
    """(rollup, raw) buckets of ``width`` seconds over ``hours`` hours from H0."""
    end = H0 + timedelta(hours=hours)
    from_rollup = rollup_repository.hourly_buckets(
        session, slo_id, start=H0, end=end, origin=S0, width=width, windows=LABELS
    )
    raw = chart_repository.history_buckets(
        session,
        slo_id,
        start=H0,
        end=end,
        origin=S0,
        width=width,
        windows=LABELS,
        objective=0.99,
    )
    return from_rollup, raw


def _random_rows(seed: int) -> list[Row]:
    rng = random.Random(seed)
    rows: list[Row] = []
    for minute in range(6 * 60):
        if rng.random() < 0.2:  # evaluations missing
            continue
        counts: dict[str, list[int]] = {}
        for label in LABELS:
            total = rng.choice([0, 1000, rng.randint(1, 5000)])
            counts[label] = [total - rng.randint(0, total // rng.choice([1, 10, 1000])), total]
        rows.append((minute, rng.uniform(-0.5, 1.0), rng.uniform(0.9, 1.0), counts))
    return rows


def _counts(five: list[int], thirty: list[int] | None = None) -> dict[str, list[int]]:
    return {"5m": five, "30m": thirty or [1000, 1000], "1h": [990, 1000]}


SCENARIOS: dict[str, list[Row]] = {
    "a spike inside the hour survives": [
        (0, 0.9, 0.99, _counts([1000, 1000])),
        (14, 0.8, 0.98, _counts([800, 1000])),
        (59, 0.7, 0.97, _counts([1000, 1000])),
    ],
    "minutes without events stay null": [
        (60, 0.5, None, _counts([0, 0], [0, 0])),
        (61, 0.4, None, _counts([0, 0], [0, 0])),
        (120, 0.3, 0.99, _counts([0, 0], [995, 1000])),
    ],
    "hours apart, with an empty hour between": [
        (5, 0.9, 0.99, _counts([990, 1000])),
        (185, 0.6, 0.95, _counts([950, 1000])),
    ],
    **{f"random minutes (seed {seed})": _random_rows(seed) for seed in (1, 2, 3)},
}


@pytest.mark.parametrize("name", list(SCENARIOS))
@pytest.mark.parametrize("width", [3600, 7200, 6 * 3600])
def test_rollup_equals_the_raw_aggregation(
    session: Session, shop: ApplyResult, name: str, width: int
) -> None:
    slo_id = slo_service.get(session, key=KEY).id
    _write(session, slo_id, SCENARIOS[name])
    from_rollup, raw = _both(session, slo_id, width)
    assert raw, "the scenario holds rows"
    assert from_rollup == raw
    # Rebuilding from the rows (the backfill's path) gives the very same buckets.
    slo = slo_service.to_core(slo_service.get(session, key=KEY))
    rollup.rebuild(session, slo_id=slo_id, slo=slo, start=H0, end=H0 + timedelta(hours=6))
    assert _both(session, slo_id, width)[0] == raw


def test_hand_worked_hour(session: Session, shop: ApplyResult) -> None:
    slo_id = slo_service.get(session, key=KEY).id
    _write(session, slo_id, SCENARIOS["a spike inside the hour survives"])
    [hour] = rollup_repository.hourly_buckets(
        session,
        slo_id,
        start=H0,
        end=H0 + timedelta(hours=1),
        origin=S0,
        width=3600,
        windows=LABELS,
    )
    assert (hour.index, hour.rows, hour.budget_remaining, hour.sli) == (0, 3, 0.7, 0.97)
    assert hour.last_at == H0 + timedelta(minutes=59)
    burns = dict(zip(LABELS, hour.burn_rates, strict=True))
    assert burns["5m"] == pytest.approx(20.0)  # the spike of minute 14: 20 % bad over 1 %
    assert burns["1h"] == pytest.approx(1.0)
    assert burns["30m"] == 0.0
    assert burns["6h"] is None  # never stored: null, not 0


def test_a_late_older_row_keeps_the_newer_as_last_and_merges_peaks(
    session: Session, shop: ApplyResult
) -> None:
    slo_id = slo_service.get(session, key=KEY).id
    _write(session, slo_id, [(30, 0.5, 0.95, {"5m": [0, 0], "1h": [900, 1000]})])
    _write(session, slo_id, [(10, 0.9, 0.99, {"5m": [950, 1000], "1h": [990, 1000]})])
    [hour] = rollup_repository.hourly_buckets(
        session,
        slo_id,
        start=H0,
        end=H0 + timedelta(hours=1),
        origin=S0,
        width=3600,
        windows=LABELS,
    )
    assert (hour.rows, hour.budget_remaining, hour.sli) == (2, 0.5, 0.95)
    assert hour.last_at == H0 + timedelta(minutes=30)
    burns = dict(zip(LABELS, hour.burn_rates, strict=True))
    assert burns["5m"] == pytest.approx(5.0)  # null and 5: the 5
    assert burns["1h"] == pytest.approx(10.0)  # 10 and 1: the 10


def test_the_chart_reads_hour_buckets_from_the_rollup(session: Session, shop: ApplyResult) -> None:
    slo_id = slo_service.get(session, key=KEY).id
    rows = SCENARIOS["random minutes (seed 1)"]
    _write(session, slo_id, rows)
    # Three points over six hours: two-hour buckets, from the rollup.
    drawn = chart.series(
        session, key=KEY, now=AT, start=H0 + timedelta(minutes=20), end=AT, points=3
    )
    assert drawn.bucket_seconds == 7200
    assert drawn.start == H0 and drawn.end == AT  # widened to whole hours
    assert drawn.times == [S0, S0 + 7200, S0 + 14400]
    raw = chart_repository.history_buckets(
        session, slo_id, start=H0, end=AT, origin=S0, width=7200, windows=LABELS, objective=0.99
    )
    assert drawn.error_budget_remaining == [b.budget_remaining for b in raw]
    assert drawn.burn_rates["5m"] == [b.burn_rates[1] for b in raw]


def test_ranges_of_many_rows_read_the_rollup_with_hour_buckets(
    session: Session, shop: ApplyResult, monkeypatch: pytest.MonkeyPatch
) -> None:
    slo_id = slo_service.get(session, key=KEY).id
    _write(session, slo_id, SCENARIOS["random minutes (seed 2)"])
    asked = {"key": KEY, "now": AT, "start": H0, "end": AT, "points": 100}
    assert chart.series(session, **asked).bucket_seconds == 216  # few rows: raw
    monkeypatch.setattr(chart, "RAW_ROW_LIMIT", 100)
    drawn = chart.series(session, **asked)
    assert drawn.bucket_seconds == 3600
    assert len(drawn.times) == 6


def test_backfill_rebuilds_the_hours_it_writes(session: Session, shop_events: None) -> None:
    slo_id = slo_service.get(session, key=KEY).id
    slo_backfill.backfill(
        session, key=KEY, now=AT, interval=timedelta(minutes=5), start=H0 + timedelta(minutes=7)
    )
    from_rollup, raw = _both(session, slo_id, 3600)
    assert len(raw) == 6
    assert from_rollup == raw
    # Running it again replaces the rows and the hours alike: nothing is counted twice.
    slo_backfill.backfill(
        session, key=KEY, now=AT, interval=timedelta(minutes=5), start=H0 + timedelta(minutes=7)
    )
    assert _both(session, slo_id, 3600)[0] == raw


def test_removing_the_slo_removes_its_hours(session: Session, shop: ApplyResult) -> None:
    record = slo_service.get(session, key=KEY)
    _write(session, record.id, SCENARIOS["a spike inside the hour survives"])
    repository.remove(session, record)
    left = session.scalar(select(func.count()).select_from(SLOHistoryHourly))
    assert left == 0


def test_the_migration_rolls_up_existing_history(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0013_audit_and_teams")
    with Session(engine) as old:
        spec_flows.apply(old, spec_set=load_text(scenario.SPEC), now=H0)
        slo_id = slo_service.get(old, key=KEY).id
        # History as the tick stored it before the rollup existed.
        for minute, budget, sli, counts in SCENARIOS["random minutes (seed 3)"]:
            old.execute(
                insert(SLOHistory).values(
                    slo_id=slo_id,
                    at=H0 + timedelta(minutes=minute),
                    good=1.0,
                    total=1.0,
                    sli=sli,
                    budget_remaining=budget,
                    objective=0.99,
                    window_counts=counts,
                )
            )
        old.commit()
    upgrade_to_head(engine)
    with Session(engine) as session:
        from_rollup, raw = _both(session, slo_id, 3600)
        assert len(from_rollup) == 6
        assert from_rollup == raw
    engine.dispose()
