"""Benchmark: one worker tick over 10,000 SLOs (evaluate, then store), against baselines.

Set-up (not timed): 10,000 SLOs (30d, 99.9 %, default alert windows; one SLI each) applied to
a fresh database, and the worker's grid filled with 3 days of 1-minute buckets and 30 days of
hourly buckets of synthetic traffic (the state after a worker has started).

Timed, per tick: ``Evaluator.tick`` as the worker runs it, plus the commit. The tick reads
what is new from the database (one new 1-minute bucket per SLI, written just before through
the event store's service), folds it into the grid and evaluates every SLO over every window
(5m ... 30d): that is "evaluate". It then stores the status of every SLO and the alert
transitions, and the transaction commits: that is "store". The tick reports both parts; the
total is the tick's wall time with the commit.

Baselines, measured in the same run: a naive per-SLO evaluation in plain Python over the
same buckets (a sample, scaled to all SLOs; its numbers must equal what the tick stored), and
storing the same statuses the way Watchkeeper did before (SQLAlchemy executemany with one
dict per row and the burn rates and SLIs as JSON objects of floats; rolled back).

Run: .venv/bin/python bench/evaluate.py [--slos N] [--ticks N] [--no-postgres]
SQLite always; PostgreSQL too (a fresh schema, dropped afterwards) unless --no-postgres.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from postgres import postgres_schema  # bench/postgres.py, beside this script
from sqlalchemy import Table, bindparam
from sqlalchemy.orm import Session

from watchkeeper.core.batch import evaluate_batch
from watchkeeper.core.duration import format_duration
from watchkeeper.core.grid import MINUTE, minute_index
from watchkeeper.core.slo import SLI, SLO, RollingWindow
from watchkeeper.core.windows import alert_windows, window_start
from watchkeeper.db import make_engine, make_session_factory, session_scope
from watchkeeper.events import service as events_service
from watchkeeper.flows import specs as spec_flows
from watchkeeper.migrate import upgrade_to_head
from watchkeeper.slo import service as slo_service
from watchkeeper.slo.evaluator import Evaluator
from watchkeeper.slo.models import SLOStatusRecord
from watchkeeper.specs import SpecSet

START = datetime(2026, 11, 23, 12, 0, 30, tzinfo=UTC)
TARGET_SECONDS = 0.5
TARGET_MIB = 1024


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


def naive_evaluate(slo: SLO, buckets: list[tuple[float, int, int]], at: datetime) -> dict[str, Any]:
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
    result: dict[str, Any] = {
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


def previous_store(session: Session, evaluator: Evaluator, at: datetime) -> float:
    """Seconds to write every status as Watchkeeper did before: one dict per row, burn rates
    and SLIs as JSON objects of floats, through SQLAlchemy's executemany (rolled back)."""
    loaded = evaluator._loaded
    assert loaded is not None
    result = evaluate_batch(loaded.plan, loaded.grid, at)
    labels = [format_duration(w) for w in loaded.plan.burn_windows]
    table = SLOStatusRecord.__table__
    assert isinstance(table, Table)
    statement = (
        table.update()
        .where(table.c.slo_id == bindparam("b_slo_id"))
        .values(
            {
                name: bindparam(name)
                for name in (
                    "evaluated_at",
                    "good",
                    "total",
                    "sli",
                    "budget_remaining",
                    "burn_rates",
                    "window_slis",
                    "exhaustion_at",
                )
            }
        )
    )
    started = time.perf_counter()
    burn = result.burn.tolist()
    window_sli = (
        result.window_good / np.where(result.window_total > 0, result.window_total, np.nan)
    ).tolist()
    rows = []
    for slot, slo_id in enumerate(loaded.batch_ids):
        seconds = float(result.exhaustion_seconds[slot])
        rows.append(
            {
                "b_slo_id": slo_id,
                "evaluated_at": at,
                "good": float(result.good[slot]),
                "total": float(result.total[slot]),
                "sli": _none_if_nan(float(result.sli[slot])),
                "budget_remaining": _none_if_nan(float(result.budget_remaining[slot])),
                "burn_rates": {k: _none_if_nan(v) for k, v in zip(labels, burn[slot], strict=True)},
                "window_slis": {
                    k: _none_if_nan(v) for k, v in zip(labels, window_sli[slot], strict=True)
                },
                "exhaustion_at": None if math.isnan(seconds) else at + timedelta(seconds=seconds),
            }
        )
    session.execute(statement, rows)
    session.flush()
    return time.perf_counter() - started


def _none_if_nan(value: float) -> float | None:
    return None if math.isnan(value) else value


def compare_with_naive(
    session: Session, evaluator: Evaluator, slos: tuple[SLO, ...], at: datetime, sample: int
) -> tuple[int, float]:
    """Mismatches between the naive evaluation and what the tick stored, and naive seconds
    per SLO."""
    loaded = evaluator._loaded
    assert loaded is not None
    positions = np.linspace(0, len(slos) - 1, num=min(sample, len(slos)), dtype=int).tolist()
    by_key = {record.key: record for record in slo_service.list_slos(session)}
    records = [by_key[loaded.keys[p]] for p in positions]
    stored = slo_service.stored_statuses(session, records=records)
    mismatches = 0
    seconds = 0.0
    for position, record in zip(positions, records, strict=True):
        times, good, total = loaded.grid.buckets_of(int(loaded.slo_rows[position]))
        buckets = list(zip(times.tolist(), good.tolist(), total.tolist(), strict=True))
        started = time.perf_counter()
        naive = naive_evaluate(slos[position], buckets, at)
        seconds += time.perf_counter() - started
        status = stored[record.id]
        if (naive["good"], naive["total"]) != (status.good, status.total):
            mismatches += 1
            continue
        if not math.isclose(naive["remaining"], status.error_budget_remaining or 0, abs_tol=1e-12):
            mismatches += 1
        for length, expected in naive["burns"].items():
            actual = status.burn_rates.get(format_duration(length))
            if expected is not None and (actual is None or not math.isclose(expected, actual)):
                mismatches += 1
        if naive["firing"] != [a.firing for a in status.alerts]:
            mismatches += 1
    return mismatches, seconds / len(positions)


def run(url: str, args: argparse.Namespace) -> dict[str, Any]:
    """Set up, tick, compare; returns the measurements."""
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
    with session_scope(factory) as session:  # first tick on the filled grid: alerts start
        evaluator.tick(session, now=START)
    setup_seconds = time.perf_counter() - setup_started
    # The set-up leaves a full collection's worth of garbage behind; ticks are timed as they
    # run in a worker that has been up for a while.
    gc.collect()

    evaluate_times: list[float] = []
    store_times: list[float] = []
    totals: list[float] = []
    at = START
    for tick in range(args.ticks):
        at = at + timedelta(minutes=1)
        minute = minute_index(at.timestamp()) * MINUTE
        with session_scope(factory) as session:
            events_service.import_counts(
                session,
                [(slo.sli.name, minute, 590 - tick, 600) for slo in slos],
                now=at,
            )
        started = time.perf_counter()
        with session_scope(factory) as session:
            report = evaluator.tick(session, now=at)
            committing = time.perf_counter()
        finished = time.perf_counter()
        assert report.changed_buckets >= len(slos), report.changed_buckets
        assert report.evaluated == len(slos) and not report.failures
        evaluate_times.append(report.read_seconds + report.evaluate_seconds)
        store_times.append(report.store_seconds + finished - committing)
        totals.append(finished - started)

    # One more tick with the history due (every 5 minutes by default): a second bulk write.
    evaluator.history_interval = timedelta(0)
    at = at + timedelta(minutes=1)
    with session_scope(factory) as session:
        history_report = evaluator.tick(session, now=at)
        committing = time.perf_counter()
    history_store = history_report.store_seconds + time.perf_counter() - committing
    with factory() as session:
        previous = statistics.median(previous_store(session, evaluator, at) for _ in range(3))
        session.rollback()
    with factory() as session:
        mismatches, naive_per_slo = compare_with_naive(
            session, evaluator, slos, at, args.naive_sample
        )
    loaded = evaluator._loaded
    assert loaded is not None
    measured = {
        "backend": engine.dialect.name,
        "slos": len(slos),
        "grid": f"{loaded.grid.minute_slots} minutes x {loaded.grid.hour_slots} hours per SLI",
        "setup": setup_seconds,
        "evaluate": statistics.median(evaluate_times),
        "store": statistics.median(store_times),
        "total": statistics.median(totals),
        "slowest": max(totals),
        "ticks": args.ticks,
        "naive": naive_per_slo * len(slos),
        "naive_sample": min(args.naive_sample, len(slos)),
        "previous_store": previous,
        "history_store": history_store,
        "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "mismatches": mismatches,
    }
    engine.dispose()
    return measured


def print_table(m: dict[str, Any]) -> None:
    """The measurements of one backend as a table with ratios."""
    print(f"evaluation tick, {m['slos']:,} SLOs, {m['backend']}, grid: {m['grid']}")
    width = 62
    print(f"{'measure':<{width}}{'value':>12}")
    lines = [
        ("set-up (apply SLOs, load grid; not timed below)", f"{m['setup']:.2f}s"),
        ("evaluate: read new buckets + evaluate all SLOs (median)", f"{m['evaluate']:.3f}s"),
        ("store: statuses, alert transitions, commit (median)", f"{m['store']:.3f}s"),
        (f"tick total (median of {m['ticks']})", f"{m['total']:.3f}s"),
        (f"tick total, slowest of {m['ticks']}", f"{m['slowest']:.3f}s"),
        ("store on a tick that also appends history (every 5 min)", f"{m['history_store']:.3f}s"),
        (f"naive per-SLO Python evaluation, scaled from {m['naive_sample']}", f"{m['naive']:.2f}s"),
        ("ratio naive evaluation / evaluate", f"{m['naive'] / m['evaluate']:.0f}x"),
        ("store as before (dict rows, JSON ratios, SQLAlchemy)", f"{m['previous_store']:.3f}s"),
        ("ratio store as before / store", f"{m['previous_store'] / m['store']:.1f}x"),
        ("peak resident memory", f"{m['peak_mib']:.0f}MiB"),
        ("stored numbers differing from the naive evaluation", f"{m['mismatches']}"),
    ]
    for label, value in lines:
        print(f"{label:<{width}}{value:>12}")
    meets = m["total"] <= TARGET_SECONDS and m["peak_mib"] <= TARGET_MIB
    print(
        f"target <= {TARGET_SECONDS} s per tick (evaluate + store) and <= 1 GiB: "
        f"{'meets' if meets else 'MISSES'}"
    )


def main() -> None:
    """Run the benchmark on each backend (each in its own process) and print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slos", type=int, default=10_000)
    parser.add_argument("--ticks", type=int, default=5)
    parser.add_argument("--naive-sample", type=int, default=100)
    parser.add_argument("--no-postgres", action="store_true", help="SQLite only")
    parser.add_argument("--rows", type=int, help=argparse.SUPPRESS)  # make bench: ingest's
    parser.add_argument("--batches", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--database-url", help=argparse.SUPPRESS)  # one backend, this process
    args = parser.parse_args()
    if args.database_url:
        measured = run(args.database_url, args)
        print(json.dumps(measured))
        raise SystemExit(1 if measured["mismatches"] else 0)
    failed = False
    with tempfile.TemporaryDirectory(prefix="wk-bench-eval-") as scratch:
        urls = [f"sqlite:///{Path(scratch) / 'bench.db'}"]
        with postgres_schema() if not args.no_postgres else _nothing() as postgres_url:
            if postgres_url is not None:
                urls.append(postgres_url)
            for url in urls:
                own = [a for a in sys.argv[1:] if a != "--no-postgres"]
                child = subprocess.run(
                    [sys.executable, __file__, *own, "--database-url", url],
                    capture_output=True,
                    text=True,
                    check=False,
                )
                if child.stdout.strip():
                    print_table(json.loads(child.stdout.strip().splitlines()[-1]))
                    print()
                if child.returncode:
                    sys.stderr.write(child.stderr)
                    failed = True
    if failed:
        raise SystemExit("batch and naive evaluations disagree, or a run failed")


@contextmanager
def _nothing() -> Iterator[None]:
    yield None


if __name__ == "__main__":
    main()
