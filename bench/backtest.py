"""Benchmark: backtesting 30 days of one SLO's alerts, one evaluation a minute.

Set-up (not timed): one SLO (30d, 99.9 %, the four default alert windows) and 63 days of
1-minute buckets of synthetic traffic (~600 events a minute, a few outages), as an
EventSeries and, for the end-to-end row, stored in a fresh SQLite database.

Timed:
- "vectorised": ``core.backtest.backtest`` over 30 days (43,201 evaluation times x 8 windows);
- "naive": ``core.evaluation.evaluate`` called at each evaluation time, as a loop would (a
  sample of evaluation times, scaled to all of them); its firing states must equal the
  vectorised replay's at every sampled time;
- "service on SQLite": ``slo.backtest.run``, reading the buckets from the database first.

Run: .venv/bin/python bench/backtest.py [--sample N]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from watchkeeper.core.backtest import backtest, evaluation_times, firing_series
from watchkeeper.core.evaluation import evaluate
from watchkeeper.core.series import EventSeries, from_unix_seconds, to_unix_seconds
from watchkeeper.core.slo import SLI, SLO, RollingWindow, Severity
from watchkeeper.db import make_engine, make_session_factory, session_scope
from watchkeeper.events import service as events_service
from watchkeeper.flows import specs as spec_flows
from watchkeeper.migrate import upgrade_to_head
from watchkeeper.slo import backtest as backtest_service
from watchkeeper.specs import SpecSet

END = datetime(2026, 11, 30, tzinfo=UTC)
START = END - timedelta(days=30)
MINUTE = timedelta(minutes=1)


def traffic(seed: int = 7) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """63 days of minute buckets before END: ~600 events, 0.05 % errors, a few outages."""
    rng = np.random.default_rng(seed)
    first = to_unix_seconds(END - timedelta(days=63))
    minutes = np.arange(63 * 1440)
    times = first + minutes * 60.0
    total = rng.poisson(600, minutes.size).astype(np.float64)
    bad = rng.binomial(total.astype(np.int64), 0.0005).astype(np.float64)
    for start in rng.choice(minutes.size - 60, size=12, replace=False):
        length = int(rng.integers(3, 45))
        share = float(rng.uniform(0.02, 1.0))
        bad[start : start + length] = np.floor(total[start : start + length] * share)
    return times, total - bad, total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", type=int, default=2000, help="naive evaluations timed")
    args = parser.parse_args()
    slo = SLO(
        "bench", "availability", SLI("bench-requests"), 0.999, RollingWindow(30 * 24 * 60 * MINUTE)
    )
    times, good, total = traffic()
    series = EventSeries.from_counts(times, good, total)

    began = time.perf_counter()
    result = backtest(slo, series, start=START, end=END)
    vectorised = time.perf_counter() - began

    all_times = evaluation_times(START, END, MINUTE)
    picked = np.linspace(0, all_times.size - 1, args.sample).astype(np.intp)
    replayed = firing_series(slo, series, all_times)
    began = time.perf_counter()
    for index in picked:
        status = evaluate(slo, series, from_unix_seconds(float(all_times[index])))
        for severity in (Severity.PAGE, Severity.TICKET):
            naive = any(a.firing for a in status.alerts if a.severity is severity)
            assert naive == bool(replayed.firing[severity][index]), (severity, index)
    naive_seconds = (time.perf_counter() - began) * all_times.size / picked.size

    with tempfile.TemporaryDirectory() as directory:
        engine = make_engine(f"sqlite:///{Path(directory) / 'bench.db'}")
        upgrade_to_head(engine)
        factory = make_session_factory(engine)
        with session_scope(factory) as session:
            spec_flows.apply(session, spec_set=SpecSet(slos=(slo,)), now=END)
            events_service.import_counts(
                session,
                (
                    ("bench-requests", float(t), int(g), int(n))
                    for t, g, n in zip(times, good, total, strict=True)
                ),
                now=END,
            )
        with session_scope(factory) as session:
            began = time.perf_counter()
            run = backtest_service.run(session, key=slo.key, start=START, end=END, now=END + MINUTE)
            service_seconds = time.perf_counter() - began
        engine.dispose()
    assert run.result.episodes == result.episodes

    pages = result.summary[Severity.PAGE].alerts
    tickets = result.summary[Severity.TICKET].alerts
    print(
        f"30 days, {result.steps:,} evaluation times, 8 windows; {pages} pages, {tickets} tickets"
    )
    print(f"{'what':<28}{'seconds':>10}{'x vectorised':>14}")
    for label, seconds in (
        ("vectorised (core)", vectorised),
        ("naive evaluate per step", naive_seconds),
        ("service on SQLite (+ read)", service_seconds),
    ):
        print(f"{label:<28}{seconds:>10.3f}{seconds / vectorised:>14.1f}")
    ratio = naive_seconds / vectorised
    print(f"naive / vectorised: {ratio:.0f}x (naive: {args.sample:,} times sampled, scaled)")


if __name__ == "__main__":
    main()
