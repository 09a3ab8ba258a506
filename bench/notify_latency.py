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
import tempfile
import threading
import time
from pathlib import Path

from latency import wake_versus_poll  # bench/latency.py, beside this script

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


def main() -> None:
    """Measure with and without the wake-up and print the table and the ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        p99, _ = wake_versus_poll(
            lambda wake, count: measure(Path(tmp), count, wake=wake),
            args.count,
            what="notification committed -> notifier",
            target_p99=TARGET_P99,
        )
    if p99 >= TARGET_P99:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
