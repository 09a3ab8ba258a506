"""Escalation timers: one worker tick over N open alert groups with running escalations.

    .venv/bin/python bench/escalation.py [--spread 1000,5000,10000,50000]
        [--sizes 1000,5000,10000] [--naive 1000] [--no-postgres]

Headline (``--spread``): N open firing groups opened over the last hour, each escalating
under one of four policies whose steps wait 5, 10, 15 or 30 minutes, their timers where a
worker ticking every second left them. One ``Worker.escalate_once`` at that instant runs the
steps due since the previous tick: its time and due count are printed per N, with whether the
due-groups query uses the ``escalation_due_at`` index (its plan, not a scan of open groups).

Worst case (``--sizes``): all N groups due in the same tick (a two-step policy paging a
schedule's on-call user and a Slack channel, then a user with two contact methods); every
step runs with its outbox rows and log entries, in batches of ``escalation_batch_size``.
Baselines measured in the same run: an empty tick (nothing due) and a naive pass running the
groups one per transaction (``run_due`` with ``limit=1``). Target: 10,000 due steps <= 1 s.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from postgres import postgres_schema  # bench/postgres.py, beside this script
from sqlalchemy import Engine, insert, text

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
SPREAD_WAITS = (5, 10, 15, 30)  # minutes between steps of the four spread policies
SPREAD_POLICIES = "".join(
    f"""---
kind: EscalationPolicy
name: every{wait}m
repeat: 5
steps:
  - wait: {wait}m
    targets:
      - schedule: primary
  - wait: {wait}m
    targets:
      - user: cid
"""
    for wait in SPREAD_WAITS
)
TICK = timedelta(seconds=1)  # the worker's escalation_interval_seconds


def populate(engine: Engine, groups: int) -> int:
    """Users, schedules, policies, an integration (its id is returned) and ``groups`` due
    groups with one alert each."""
    factory = make_session_factory(engine)
    with session_scope(factory) as session:
        for name in ("ann", "bob", "cid"):
            people.create_user(
                session, name=name, role="editor", email=f"{name}@example.com", now=NOW
            )
            people.add_contact(session, name=name, kind="console", address=name, now=NOW)
        oncall_service.apply(
            session, documents=read_text(TEAM + SPREAD_POLICIES, "team.yaml"), now=NOW
        )
        integration = service.create_integration(
            session, name="prom", type="alertmanager", escalation_policy="shop", now=NOW
        )
        integration_id = integration.id
        snapshot = oncall_service.escalation_policy(session, "shop").to_json()
    snapshot["started_at"] = NOW.isoformat()
    EscalationPolicy.from_json(snapshot)
    rows: list[dict[str, Any]] = [
        {
            **_group_row(integration_id, n, NOW - timedelta(minutes=5)),
            "escalation_policy": "shop",
            "escalation_snapshot": snapshot,
            "escalation_round": 0,
            "escalation_step": 1,
            "escalation_due_at": NOW - timedelta(seconds=n % 60),
        }
        for n in range(groups)
    ]
    if rows:
        _insert_groups(engine, rows)
    return integration_id


def _group_row(integration_id: int, n: int, opened: datetime) -> dict[str, Any]:
    return {
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
        "created_at": opened,
        "last_event_at": opened,
        "truncated_alerts": 0,
    }


def _spread_timer(opened: datetime, wait: timedelta, positions: int) -> tuple[int, int, datetime]:
    """(round, step, due at) of a two-step group opened at ``opened`` as a worker ticking
    every second left it at ``NOW - TICK``: the steps due until then ran, the next is pending."""
    ran = int((NOW - TICK - opened) / wait) + 1  # the first step runs at intake
    index = min(ran, positions)
    due_at = opened + wait * ran
    if index >= positions:  # the last step's wait: exhausted when it passes
        return (positions // 2 - 1, 2, due_at)
    return (index // 2, index % 2, due_at)


def populate_spread(engine: Engine, groups: int) -> None:
    """``groups`` open groups opened over the last hour, escalating every 5-30 minutes."""
    factory = make_session_factory(engine)
    integration_id = populate(engine, 0)
    with session_scope(factory) as session:
        snapshots = {
            wait: oncall_service.escalation_policy(session, f"every{wait}m").to_json()
            for wait in SPREAD_WAITS
        }
    rows = []
    chance = random.Random(8)  # the same groups in every run and on both backends
    for n in range(groups):
        opened = NOW - timedelta(seconds=chance.uniform(0, 3600))
        wait = chance.choice(SPREAD_WAITS)
        policy = snapshots[wait]
        round_, step, due_at = _spread_timer(opened, timedelta(minutes=wait), 12)
        rows.append(
            {
                **_group_row(integration_id, n, opened),
                "escalation_policy": policy["name"],
                "escalation_snapshot": {**policy, "started_at": opened.isoformat()},
                "escalation_round": round_,
                "escalation_step": step,
                "escalation_due_at": due_at,
            }
        )
    _insert_groups(engine, rows)


def _insert_groups(engine: Engine, rows: list[dict[str, Any]]) -> None:
    with engine.begin() as connection:
        for start in range(0, len(rows), 2000):
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
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql("ANALYZE alert_group")  # as autovacuum would have
        else:
            connection.exec_driver_sql("ANALYZE")


def due_query_uses_index(engine: Engine) -> bool:
    """Whether the plan of the due-groups query reads the escalation_due_at index."""
    query = (
        "SELECT id FROM alert_group WHERE escalation_due_at <= :now AND status = 'firing' "
        "ORDER BY escalation_due_at, id LIMIT 500"
    )
    with engine.connect() as connection:
        prefix = "EXPLAIN" if connection.dialect.name == "postgresql" else "EXPLAIN QUERY PLAN"
        plan = " ".join(
            str(row[-1]) for row in connection.execute(text(f"{prefix} {query}"), {"now": NOW})
        )
    return "ix_alert_group_escalation_due_at" in plan


def timed_spread(url: str, groups: int, directory: Path) -> tuple[float, int, bool]:
    """(seconds, due steps, index used) of one tick over ``groups`` spread escalations."""
    engine = make_engine(url)
    upgrade_to_head(engine)
    try:
        populate_spread(engine, groups)
        settings = Settings(data_dir=directory, run_worker_in_process=False)
        from watchkeeper.worker import Worker

        worker = Worker(settings, make_session_factory(engine))
        worker.escalate_once(NOW - timedelta(days=1))  # warm: nothing due, caches loaded
        indexed = due_query_uses_index(engine)
        started = time.perf_counter()
        done = worker.escalate_once(NOW)
        elapsed = time.perf_counter() - started
        print(f"  {groups} open groups: {done} due, {elapsed * 1000:.1f} ms", file=sys.stderr)
        return elapsed, done, indexed
    finally:
        engine.dispose()


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


def run_spread(name: str, make_url: Any, sizes: list[int]) -> list[str]:
    """Headline table rows of one backend: spread escalations, one tick at an instant."""
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        for size in sizes:
            with make_url(directory, f"spread{size}") as url:
                if url is None:
                    return rows
                seconds, due, indexed = timed_spread(url, size, directory)
            rows.append(
                f"{name:<11} {size:>7} {due:>6} {seconds * 1000:>9.1f} "
                f"{'yes' if indexed else 'NO':>10}"
            )
    return rows


def run_backend(name: str, make_url: Any, sizes: list[int], naive_size: int) -> list[str]:
    """Worst-case table rows of one backend: every group due in the same tick."""
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
    parser.add_argument("--spread", default="1000,5000,10000,50000")
    parser.add_argument("--sizes", default="1000,5000,10000")
    parser.add_argument("--naive", type=int, default=1000)
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    spread = [int(s) for s in args.spread.split(",") if s]
    sizes = [int(s) for s in args.sizes.split(",") if s]
    backends: list[tuple[str, Any]] = [("sqlite", _SQLite)]
    if not args.no_postgres:
        backends.append(("postgresql", lambda _d, _l: postgres_schema()))
    headline = [row for name, make in backends for row in run_spread(name, make, spread)]
    worst = [row for name, make in backends for row in run_backend(name, make, sizes, args.naive)]
    if headline:
        print("one tick over spread escalations (5-30 min waits, groups opened over the last hour)")
        print(f"{'backend':<11} {'open':>7} {'due':>6} {'tick ms':>9} {'due index':>10}")
        print("-" * 47)
        print("\n".join(headline))
    if worst:
        print("\nworst case: every open group due in the same tick")
        print(f"{'backend':<11} {'groups':>7} {'tick s':>9} {'steps/s':>12} {'target':>7}")
        print("-" * 52)
        print("\n".join(worst))
    print(f"\ntarget: 10,000 due steps in <= {TARGET_SECONDS} s per tick")


if __name__ == "__main__":
    main()
