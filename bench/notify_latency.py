"""Outbox latency: from a committed notification to its hand-over to the notifier.

    .venv/bin/python bench/notify_latency.py [--count 300]

A real ``Worker`` delivery loop runs in a thread against a SQLite file; notifications are
committed one at a time (as an alert's transaction would) and the time until the notifier's
``send`` is called is recorded. Runs twice in the same process: with the wake-up on commit
(the shipped behaviour) and, as the baseline, with polling alone every
``outbox_poll_seconds`` (0.5 s). Target: p99 < 2 s (the issue's first-page budget).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

from watchkeeper.config import Settings
from watchkeeper.db import make_engine, make_session_factory, session_scope, utcnow
from watchkeeper.migrate import upgrade_to_head
from watchkeeper.notify import service, wakeup
from watchkeeper.notify.message import Message
from watchkeeper.notify.notifiers import Delivery
from watchkeeper.worker import Worker

TARGET_P99 = 2.0


class Stopwatch:
    """A notifier recording when each notification reached it."""

    kind = "console"

    def __init__(self) -> None:
        self.arrived: dict[str, float] = {}
        self.event = threading.Event()

    def send(self, delivery: Delivery) -> None:
        """Record the arrival time."""
        self.arrived[delivery.idempotency_key] = time.perf_counter()
        self.event.set()


def measure(directory: Path, count: int, *, wake: bool) -> list[float]:
    """Latencies in seconds of ``count`` notifications committed one by one."""
    engine = make_engine(f"sqlite:///{directory / f'bench-{wake}.db'}")
    upgrade_to_head(engine)
    factory = make_session_factory(engine)
    notifier = Stopwatch()
    settings = Settings(data_dir=directory, run_worker_in_process=False)
    worker = Worker(settings, factory, notifiers={"console": notifier})
    stop = threading.Event()
    thread = threading.Thread(target=worker.deliver_forever, args=(stop,), daemon=True)
    thread.start()
    if not wake:
        wakeup.unsubscribe(worker.wake)  # polling alone
    message = Message("page", "bench", "")
    committed: dict[str, float] = {}
    jitter = random.Random(1)
    try:
        for n in range(count):
            key = f"n{n}"
            notifier.event.clear()
            with session_scope(factory) as session:
                service.enqueue(
                    session,
                    channel="console",
                    address="stdout",
                    message=message,
                    idempotency_key=key,
                    now=utcnow(),
                )
            committed[key] = time.perf_counter()
            notifier.event.wait(10)
            # Commits land at random points of the poll cycle, as real alerts do.
            time.sleep(jitter.uniform(0, 0.05))
    finally:
        stop.set()
        worker.wake()
        thread.join(timeout=10)
        engine.dispose()
    return [notifier.arrived[key] - committed[key] for key in committed if key in notifier.arrived]


def percentile(values: list[float], fraction: float) -> float:
    """The ``fraction`` quantile (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def main() -> None:
    """Measure with and without the wake-up and print the table and the ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        print("with wake-up on commit ...", file=sys.stderr)
        woken = measure(Path(tmp), args.count, wake=True)
        print("polling alone (baseline) ...", file=sys.stderr)
        polled = measure(Path(tmp), max(20, args.count // 5), wake=False)
    print(f"{'mode':<22} {'n':>5} {'p50 ms':>9} {'p99 ms':>9} {'max ms':>9}")
    print("-" * 58)
    for name, values in (("wake-up on commit", woken), ("poll every 0.5 s", polled)):
        print(
            f"{name:<22} {len(values):>5} {statistics.median(values) * 1000:>9.1f} "
            f"{percentile(values, 0.99) * 1000:>9.1f} {max(values) * 1000:>9.1f}"
        )
    p99 = percentile(woken, 0.99)
    ratio = statistics.median(polled) / statistics.median(woken)
    print(f"\np99 {p99:.3f} s (target < {TARGET_P99} s): {'ok' if p99 < TARGET_P99 else 'MISSED'}")
    print(f"median latency, polling / wake-up: {ratio:.1f}x")
    if p99 >= TARGET_P99:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
