"""Benchmark: one evaluation tick over 10,000 SLOs, against a naive per-SLO implementation.

Set-up (not timed): 10,000 SLOs (30d, 99.9 %, default alert windows; one SLI each) applied to
a fresh database, and the worker's grid filled with 3 days of 1-minute buckets and 30 days of
hourly buckets of synthetic traffic (the state after a worker has started).

Timed, per tick: the worker reads what is new from the database (one new 1-minute bucket per
SLI, written just before through the event store's upsert), folds it into the grid and
evaluates every SLO over every window (5m ... 30d). Storing the results (status rows, alert
transitions) is timed separately. The naive baseline evaluates a sample of SLOs one by one in
plain Python over the same buckets; its time is scaled to 10,000 SLOs and its numbers must
equal the batch path's.

Run: .venv/bin/python bench/evaluate.py [--slos N] [--database-url URL]
"""

from __future__ import annotations

import argparse
import math
import resource
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from watchkeeper.core.batch import evaluate_batch
from watchkeeper.core.grid import MINUTE, minute_index
from watchkeeper.core.slo import SLI, SLO, RollingWindow
from watchkeeper.core.windows import alert_windows, window_start
from watchkeeper.db import make_engine, make_session_factory, session_scope
from watchkeeper.events import repository as events_repository
from watchkeeper.events.repository import BucketCounts
from watchkeeper.flows import specs as spec_flows
from watchkeeper.migrate import upgrade_to_head
from watchkeeper.slo.evaluator import Evaluator
from watchkeeper.specs import SpecSet

START = datetime(2026, 11, 23, 12, 0, 30, tzinfo=UTC)


def build_slos(count: int) -> tuple[SLO, ...]:
    """``count`` ratio SLOs, one SLI each."""
    return tuple(
        SLO(
            service=f"svc-{i // 10}",
            name=f"slo-{i}",
            sli=SLI(name=f"sli-{i}"),
            objective=0.999,
            window=RollingWindow(timedelta(days=30)),
        )
        for i in range(count)
    )


def fill_grid(evaluator: Evaluator, seed: int = 1, chunk: int = 500) -> None:
    """Synthetic traffic: ~600 events/minute per SLI with a varying error share.

    Filled in chunks of rows so the benchmark's own set-up does not inflate peak memory.
    """
    loaded = evaluator._loaded
    assert loaded is not None
    grid = loaded.grid
    rng = np.random.default_rng(seed)
    current = grid.current_minute
    minutes = np.arange(current - grid.minute_slots + 1, current + 1)
    hours = minutes // 60
    for first in range(0, grid.rows, chunk):
        rows = slice(first, min(first + chunk, grid.rows))
        count = rows.stop - rows.start
        share = rng.uniform(0.0, 0.004, size=(count, 1))
        total = rng.integers(400, 800, size=(count, grid.minute_slots)).astype(np.int32)
        grid.minute_total[rows] = total
        grid.minute_good[rows] = total - rng.binomial(total, share).astype(np.int32)
        hour_total = rng.integers(24_000, 48_000, size=(count, grid.hour_slots))
        grid.hour_total[rows] = hour_total
        grid.hour_good[rows] = hour_total - rng.binomial(hour_total, share)
        # Hours covered by the minute ring must equal the sum of their minutes.
        for hour in np.unique(hours):
            in_hour = minutes[hours == hour] % grid.minute_slots
            slot = hour % grid.hour_slots
            grid.hour_total[rows, slot] = grid.minute_total[rows][:, in_hour].sum(axis=1)
            grid.hour_good[rows, slot] = grid.minute_good[rows][:, in_hour].sum(axis=1)


def naive_evaluate(
    slo: SLO, buckets: list[tuple[float, int, int]], at: datetime
) -> dict[str, object]:
    """Per-SLO evaluation in plain Python: loop over buckets for every window."""
    end = at.timestamp()

    def window(start: float) -> tuple[int, int]:
        good = total = 0
        for time_, g, t in buckets:
            if start <= time_ < end:
                good += g
                total += t
        return good, total

    budget = 1 - slo.objective
    good, total = window(window_start(slo.window, at).timestamp())
    result: dict[str, object] = {
        "good": good,
        "total": total,
        "remaining": None if total == 0 else 1 - ((total - good) / total) / budget,
    }
    burns: dict[timedelta, float | None] = {}
    for length in sorted(
        {w for a in alert_windows(slo, at) for w in (a.long, a.short)}
        | {timedelta(minutes=5), timedelta(minutes=30), timedelta(hours=2)}
    ):
        g, t = window(end - length.total_seconds())
        burns[length] = None if t == 0 else ((t - g) / t) / budget
    result["burns"] = burns
    result["firing"] = [
        burns[a.long] is not None
        and burns[a.short] is not None
        and burns[a.long] > a.factor  # type: ignore[operator]
        and burns[a.short] > a.factor  # type: ignore[operator]
        for a in alert_windows(slo, at)
    ]
    return result


def main() -> None:
    """Run the benchmark and print its table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slos", type=int, default=10_000)
    parser.add_argument("--ticks", type=int, default=5)
    parser.add_argument("--naive-sample", type=int, default=100)
    parser.add_argument("--database-url", default=None, help="default: a temp SQLite file")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="wk-bench-eval-"))
    url = args.database_url or f"sqlite:///{workdir / 'bench.db'}"
    engine = make_engine(url)
    upgrade_to_head(engine)
    factory = make_session_factory(engine)
    slos = build_slos(args.slos)
    setup_started = time.perf_counter()
    with session_scope(factory) as session:
        spec_flows.apply(session, spec_set=SpecSet(slos=slos), now=START)
    evaluator = Evaluator(history_interval=timedelta(days=365))
    with session_scope(factory) as session:
        evaluator.tick(session, now=START)
    fill_grid(evaluator)
    with session_scope(factory) as session:
        sli_ids = events_repository.sli_ids_by_name(session, [s.sli.name for s in slos])
    ids = np.array([sli_ids[s.sli.name] for s in slos], dtype=np.int64)
    setup_seconds = time.perf_counter() - setup_started

    tick_times: list[float] = []
    store_times: list[float] = []
    at = START
    loaded = evaluator._loaded
    assert loaded is not None
    for tick in range(args.ticks):
        at = at + timedelta(minutes=1)
        minute = minute_index(at.timestamp())
        with session_scope(factory) as session:
            events_repository.upsert_counts(
                session,
                BucketCounts(
                    ids,
                    np.full(ids.size, minute * MINUTE, dtype=np.int64),
                    np.full(ids.size, 590 - tick, dtype=np.int64),
                    np.full(ids.size, 600, dtype=np.int64),
                ),
                resolution=MINUTE,
                now=at,
            )
        with session_scope(factory) as session:
            started = time.perf_counter()
            changed = evaluator._read_changes(session, at)
            result = evaluate_batch(loaded.plan, loaded.grid, at)
            tick_times.append(time.perf_counter() - started)
            assert changed >= ids.size, changed  # includes the overlap re-read
            started = time.perf_counter()
            from watchkeeper.slo.evaluator import TickReport

            evaluator._store(session, loaded, result, {}, at, TickReport())
            store_times.append(time.perf_counter() - started)

    # Naive baseline over a sample, same buckets, same instant.
    sample = np.linspace(0, len(slos) - 1, num=min(args.naive_sample, len(slos)), dtype=int)
    naive_started = time.perf_counter()
    mismatches = 0
    for slot in sample:
        slo = slos[slot]
        times, good, total = loaded.grid.buckets_of(int(loaded.slo_rows[slot]))
        buckets = list(zip(times.tolist(), good.tolist(), total.tolist(), strict=True))
        naive = naive_evaluate(slo, buckets, at)
        if naive["total"] != result.total[slot] or naive["good"] != result.good[slot]:
            mismatches += 1
            continue
        remaining = result.budget_remaining[slot]
        if not math.isclose(naive["remaining"], remaining, rel_tol=0, abs_tol=1e-12):  # type: ignore[arg-type]
            mismatches += 1
        for column, length in enumerate(loaded.plan.burn_windows):
            expected = naive["burns"].get(length)  # type: ignore[attr-defined]
            if expected is not None and not math.isclose(expected, result.burn[slot, column]):
                mismatches += 1
        if naive["firing"] != result.alert_firing[slot].tolist():
            mismatches += 1
    naive_per_slo = (time.perf_counter() - naive_started) / len(sample)
    naive_total = naive_per_slo * len(slos)
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    tick = statistics.median(tick_times)
    store = statistics.median(store_times)
    backend = engine.dialect.name
    print(
        f"evaluation tick, {len(slos):,} SLOs, {backend}, grid: "
        f"{loaded.grid.minute_slots} minutes x {loaded.grid.hour_slots} hours per SLI"
    )
    print(f"{'measure':<58}{'value':>14}")
    print(f"{'set-up (apply SLOs, load grid; not timed below)':<58}{setup_seconds:>13.2f}s")
    print(f"{'tick: read new buckets + evaluate all SLOs (median)':<58}{tick:>13.3f}s")
    print(f"{'tick: slowest of ' + str(len(tick_times)):<58}{max(tick_times):>13.3f}s")
    print(f"{'store statuses and alert transitions (median)':<58}{store:>13.3f}s")
    naive_label = f"naive per-SLO Python, scaled from {len(sample)} SLOs"
    print(f"{naive_label:<58}{naive_total:>13.2f}s")
    print(f"{'ratio naive / tick':<58}{naive_total / tick:>13.0f}x")
    print(f"{'peak resident memory':<58}{peak_mib:>11.0f}MiB")
    print(f"{'numbers differing from the naive implementation':<58}{mismatches:>14}")
    target = "meets" if tick <= 0.5 and peak_mib <= 1024 else "MISSES"
    print(f"target <= 0.5 s per tick and <= 1 GiB: {target}")
    engine.dispose()
    if mismatches:
        raise SystemExit("batch and naive evaluations disagree")


if __name__ == "__main__":
    main()
