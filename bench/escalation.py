"""Escalation timers: one worker tick over N open alert groups whose next step is due.

    .venv/bin/python bench/escalation.py [--sizes 1000,5000,10000] [--naive 1000]

For each size a fresh database (a SQLite file, then a PostgreSQL schema when the local
server is reachable) gets N firing groups with a running escalation (a snapshot of a
two-step policy paging a schedule's on-call user and a Slack channel), all due now, plus
users with two contact methods. One ``Worker.escalate_once`` is timed: every due step runs,
its outbox rows and log entries are written, in batches of ``escalation_batch_size``. The
baselines, measured in the same run: an empty tick (nothing due) and a naive pass that runs
the groups one per transaction (``run_due`` with ``limit=1``: no shared recipients, no
batched queries). Target: 10,000 due groups in <= 1 s.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from postgres import postgres_schema  # bench/postgres.py, beside this script
from sqlalchemy import Engine, insert

from watchkeeper.alerting import escalation, service
from watchkeeper.alerting.models import Alert, AlertGroup
from watchkeeper.auth import people
from watchkeeper.config import Settings
from watchkeeper.core.escalation import EscalationPolicy
from watchkeeper.db import make_engine, make_session_factory, session_scope
from watchkeeper.migrate import upgrade_to_head
from watchkeeper.oncall import service as oncall_service
from watchkeeper.oncall.documents import read_text

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
TARGET_SECONDS = 1.0
TEAM = """
kind: Schedule
name: primary
time_zone: UTC
layers:
  - name: daily
    users: [bob, ann]
    start: 2026-03-01T00:00
    turn: daily
---
kind: EscalationPolicy
name: shop
repeat: 2
steps:
  - wait: 5m
    targets:
      - schedule: primary
      - channel: "slack:https://hooks.example/T0/B0/x"
  - wait: 10m
    targets:
      - user: cid
"""


def populate(engine: Engine, groups: int) -> None:
    """Users, schedule, policy, an integration and ``groups`` due groups with one alert each."""
    factory = make_session_factory(engine)
    with session_scope(factory) as session:
        for name in ("ann", "bob", "cid"):
            people.create_user(
                session, name=name, role="editor", email=f"{name}@example.com", now=NOW
            )
            people.add_contact(session, name=name, kind="console", address=name, now=NOW)
        oncall_service.apply(session, documents=read_text(TEAM, "team.yaml"), now=NOW)
        integration = service.create_integration(
            session, name="prom", type="alertmanager", escalation_policy="shop", now=NOW
        )
        integration_id = integration.id
        snapshot = oncall_service.escalation_policy(session, "shop").to_json()
    snapshot["started_at"] = NOW.isoformat()
    EscalationPolicy.from_json(snapshot)
    rows: list[dict[str, Any]] = [
        {
            "integration_id": integration_id,
            "dedup_key": f"g{n}",
            "open_key": f"g{n}",
            "status": "firing",
            "title": f"HighErrors on web-{n}",
            "service": "checkout",
            "severity": "critical",
            "urgency": "high",
            "labels": {"alertname": "HighErrors", "instance": f"web-{n}"},
            "annotations": {"summary": "errors are high"},
            "source": "alertmanager",
            "created_at": NOW - timedelta(minutes=5),
            "last_event_at": NOW - timedelta(minutes=5),
            "truncated_alerts": 0,
            "escalation_policy": "shop",
            "escalation_snapshot": snapshot,
            "escalation_round": 0,
            "escalation_step": 1,
            "escalation_due_at": NOW - timedelta(seconds=n % 60),
        }
        for n in range(groups)
    ]
    with engine.begin() as connection:
        for start in range(0, groups, 2000):
            connection.execute(insert(AlertGroup), rows[start : start + 2000])
        ids = [
            row[0] for row in connection.exec_driver_sql("SELECT id FROM alert_group ORDER BY id")
        ]
        alerts = [
            {
                "group_id": group_id,
                "fingerprint": f"f{group_id}",
                "status": "firing",
                "labels": {},
                "annotations": {},
                "starts_at": NOW - timedelta(minutes=5),
                "generator_url": "http://prometheus/graph",
                "last_changed_at": NOW - timedelta(minutes=5),
            }
            for group_id in ids
        ]
        for start in range(0, len(alerts), 2000):
            connection.execute(insert(Alert), alerts[start : start + 2000])


def timed_tick(url: str, groups: int, directory: Path, *, naive: bool = False) -> float:
    """Seconds of one escalation tick over ``groups`` due groups (naive: one per transaction)."""
    engine = make_engine(url)
    upgrade_to_head(engine)
    try:
        populate(engine, groups)
        settings = Settings(data_dir=directory, run_worker_in_process=False)
        from watchkeeper.worker import Worker

        worker = Worker(settings, make_session_factory(engine))
        worker.escalate_once(NOW - timedelta(days=1))  # warm: nothing due, caches loaded
        started = time.perf_counter()
        if naive:
            factory = make_session_factory(engine)
            done = 0
            while True:
                with session_scope(factory) as session:
                    escalation.bind(session, settings)
                    ran = escalation.run_due(session, now=NOW, limit=1)
                if not ran:
                    break
                done += ran
        else:
            done = worker.escalate_once(NOW)
        elapsed = time.perf_counter() - started
        assert done == groups, (done, groups)
        started = time.perf_counter()
        assert worker.escalate_once(NOW) == 0
        empty = time.perf_counter() - started
        print(
            f"  {groups} groups{' (naive)' if naive else ''}: {elapsed:.3f} s, empty tick "
            f"{empty * 1000:.1f} ms",
            file=sys.stderr,
        )
        return elapsed
    finally:
        engine.dispose()


def _verdict(size: int, seconds: float) -> str:
    if size != 10000:
        return "-"
    return "ok" if seconds <= TARGET_SECONDS else "MISSED"


def run_backend(name: str, make_url: Any, sizes: list[int], naive_size: int) -> list[str]:
    """Table rows of one backend."""
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        for size in sizes:
            with make_url(directory, f"{size}") as url:
                if url is None:
                    return rows
                seconds = timed_tick(url, size, directory)
            rows.append(
                f"{name:<11} {size:>7} {seconds:>9.3f} {size / seconds:>12.0f} "
                f"{_verdict(size, seconds):>7}"
            )
        if naive_size:
            with make_url(directory, "naive") as url:
                if url is not None:
                    batched = timed_tick(url, naive_size, directory)
            with make_url(directory, "naive2") as url:
                if url is not None:
                    naive = timed_tick(url, naive_size, directory, naive=True)
                    rows.append(
                        f"{name:<11} {naive_size:>7} {naive:>9.3f} {naive_size / naive:>12.0f}"
                        f" {'naive':>7}   batched is {naive / batched:.1f}x faster"
                    )
    return rows


class _SQLite:
    def __init__(self, directory: Path, label: str) -> None:
        self.url = f"sqlite:///{directory / f'escalation-{label}.db'}"

    def __enter__(self) -> str:
        return self.url

    def __exit__(self, *exc: object) -> None:
        return None


def main() -> None:
    """Time the tick per size and backend; print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,5000,10000")
    parser.add_argument("--naive", type=int, default=1000)
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    rows = run_backend("sqlite", _SQLite, sizes, args.naive)
    if not args.no_postgres:
        rows += run_backend("postgresql", lambda _d, _l: postgres_schema(), sizes, args.naive)
    print(f"{'backend':<11} {'groups':>7} {'tick s':>9} {'steps/s':>12} {'target':>7}")
    print("-" * 52)
    for row in rows:
        print(row)
    print(f"\ntarget: 10,000 due groups in <= {TARGET_SECONDS} s per tick")


if __name__ == "__main__":
    main()
