"""From an alert accepted to its first page handed to the notifier, through a real server.

    .venv/bin/python bench/alert_latency.py [--count 200]

A uvicorn server on a loopback port serves the app on a SQLite file; the worker runs in the
same process (as ``watchkeeper serve`` runs it) with a recording notifier in place of the
console. Alerts are POSTed one at a time to the generic webhook intake, each opening a new
group routed to a one-step policy paging the on-call user; the time from sending the intake
request to the notifier's ``send`` is recorded (the page may reach the notifier before the
client has read the 2xx, as the delivery loop wakes on the intake's commit). Baseline, same
run: the same path with the outbox wake-up disabled (the delivery loop's 0.5 s poll alone).
Target: p99 < 2 s.
"""

from __future__ import annotations

import argparse
import http.client
import json
import random
import socket
import tempfile
import threading
import time
from pathlib import Path

import uvicorn
from latency import wake_versus_poll  # bench/latency.py, beside this script

from watchkeeper.alerting import service
from watchkeeper.app import create_app
from watchkeeper.auth import people
from watchkeeper.config import Settings
from watchkeeper.db import make_engine, session_scope, utcnow
from watchkeeper.migrate import upgrade_to_head
from watchkeeper.notify.notifiers import Delivery
from watchkeeper.oncall import service as oncall_service
from watchkeeper.oncall.documents import read_text
from watchkeeper.worker import Worker, start_in_thread

TARGET_P99 = 2.0
POLICY = """
kind: EscalationPolicy
name: pager
steps:
  - wait: 5m
    targets:
      - user: ann
"""


class Recorder:
    """A notifier recording when each page reached it, by title."""

    kind = "console"

    def __init__(self) -> None:
        self.arrived: dict[str, float] = {}
        self.lock = threading.Lock()

    def send(self, delivery: Delivery) -> None:
        """Record the arrival time."""
        with self.lock:
            self.arrived.setdefault(delivery.message.title, time.perf_counter())


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def measure(directory: Path, count: int, *, wake: bool) -> list[float]:
    """Seconds from each intake 2xx to its page reaching the notifier."""
    database = directory / f"latency-{wake}.db"
    settings = Settings(
        data_dir=directory,
        database_url=f"sqlite:///{database}",
        run_worker_in_process=False,
        default_escalation_policy="pager",
    )
    engine = make_engine(settings.resolved_database_url())
    upgrade_to_head(engine)
    app = create_app(settings, engine=engine)
    factory = app.state.session_factory
    now = utcnow()
    with session_scope(factory) as session:
        people.create_user(session, name="ann", role="editor", now=now)
        people.add_contact(session, name="ann", kind="console", address="tty", now=now)
        oncall_service.apply(session, documents=read_text(POLICY, "pager.yaml"), now=now)
        key = service.create_integration(session, name="hook", type="webhook", now=now).key
    recorder = Recorder()
    worker = Worker(settings, factory, notifiers={"console": recorder})
    if not wake:
        worker.wake = lambda: None  # type: ignore[method-assign]  # the poll alone delivers
    thread, stop = start_in_thread(worker)
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    serving = threading.Thread(target=server.run, daemon=True)
    serving.start()
    while not server.started:
        time.sleep(0.01)
    answered: dict[str, float] = {}
    jitter = random.Random(1)
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        for n in range(count):
            title = f"bench alert {n}"
            body = json.dumps({"title": title, "dedup_key": f"b{n}", "state": "firing"})
            sent = time.perf_counter()
            connection.request(
                "POST",
                f"/api/v1/integrations/{key}/webhook",
                body=body,
                headers={"Content-Type": "application/json"},
            )
            response = connection.getresponse()
            response.read()
            if response.status // 100 != 2:
                raise SystemExit(f"intake answered {response.status}")
            answered[f"[FIRING:1] {title}"] = sent
            deadline = time.monotonic() + 10
            while f"[FIRING:1] {title}" not in recorder.arrived and time.monotonic() < deadline:
                time.sleep(0.002)
            time.sleep(jitter.uniform(0, 0.05))  # alerts arrive at random points of a poll
    finally:
        connection.close()
        server.should_exit = True
        serving.join(timeout=10)
        stop.set()
        thread.join(timeout=30)
        engine.dispose()
    return [recorder.arrived[t] - answered[t] for t in answered if t in recorder.arrived]


def main() -> None:
    """Measure with and without the wake-up; print the table and the ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        p99, measured = wake_versus_poll(
            lambda wake, count: measure(Path(tmp), count, wake=wake),
            args.count,
            what="alert accepted -> first page at the notifier",
            target_p99=TARGET_P99,
        )
    if p99 >= TARGET_P99 or measured < args.count:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
