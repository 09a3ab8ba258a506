"""Ingest throughput of the SLI event store, against baselines measured in the same run.

    .venv/bin/python bench/ingest.py [--rows 1000000] [--batches 200] [--no-postgres]

Measures ``ingest_file`` on a generated CSV and JSONL file (baselines: csv.reader alone and
json.loads per line, reading the same file without validating or storing anything), and
``POST /api/v1/events`` in batches of 1,000 through a real uvicorn server on a loopback port
(baseline: an empty endpoint that reads the body and answers 200, same server and client).
Runs on SQLite (a temp file) and on PostgreSQL (127.0.0.1:5432, database ``test``, in a
fresh schema dropped afterwards; skipped with a message when unreachable).

Targets on SQLite: >= 200,000 events/s through ingest_file, >= 50,000 events/s over HTTP.
"""

from __future__ import annotations

import argparse
import csv
import http.client
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from latency import stop  # bench/latency.py, beside this script
from postgres import postgres_schema  # bench/postgres.py, beside this script

from watchkeeper.auth import service as auth_service
from watchkeeper.core.slo import SLI, SLIKind
from watchkeeper.db import make_engine, make_session_factory, session_scope, utcnow
from watchkeeper.events import service
from watchkeeper.migrate import upgrade_to_head

FILE_TARGET = 200_000
HTTP_TARGET = 50_000
BATCH = 1_000
SLIS = [SLI("availability"), SLI("latency", kind=SLIKind.THRESHOLD, threshold=0.3)]

SERVER = """
import sys, uvicorn
from watchkeeper.app import create_app
from watchkeeper.config import Settings
app = create_app(Settings())
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning", access_log=False)
"""

EMPTY_SERVER = """
import sys, uvicorn
from fastapi import FastAPI, Request
app = FastAPI()
@app.post("/api/v1/events")
async def events(request: Request) -> dict[str, int]:
    await request.body()
    return {"accepted": 0, "buckets": 0}
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning", access_log=False)
"""


@dataclass
class Row:
    """One line of the result table."""

    path: str
    backend: str
    events: int
    seconds: float
    baseline: str
    baseline_rate: float
    target: int | None = None

    @property
    def rate(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0


def generate(directory: Path, rows: int) -> tuple[Path, Path]:
    """A CSV and a JSONL file of the same events over the last two days (3/4 counts rows)."""
    rng = random.Random(42)
    end = int(time.time())
    span = 2 * 86_400
    csv_path, jsonl_path = directory / "events.csv", directory / "events.jsonl"
    with csv_path.open("w") as csv_file, jsonl_path.open("w") as jsonl_file:
        csv_file.write("time,sli,good,total,value\n")
        for i in range(rows):
            moment = end - span + i * span / rows
            stamp = datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
            if i % 4 == 3:
                value = round(rng.expovariate(5.0), 4)
                csv_file.write(f"{stamp},latency,,,{value}\n")
                record: dict[str, object] = {"time": stamp, "sli": "latency", "value": value}
            else:
                total = rng.randint(1, 100)
                good = total - (rng.random() < 0.05)
                csv_file.write(f"{stamp},availability,{good},{total},\n")
                record = {"time": stamp, "sli": "availability", "good": good, "total": total}
            jsonl_file.write(json.dumps(record) + "\n")
    return csv_path, jsonl_path


def timed(function: Callable[[], int]) -> tuple[int, float]:
    started = time.perf_counter()
    count = function()
    return count, time.perf_counter() - started


def csv_baseline(path: Path) -> int:
    with path.open(newline="") as handle:
        return sum(1 for _ in csv.reader(handle)) - 1


def jsonl_baseline(path: Path) -> int:
    with path.open() as handle:
        return sum(1 for line in handle if json.loads(line))


def prepare(url: str) -> str:
    """Migrate, register the bench SLIs and return an ingest token."""
    engine = make_engine(url)
    upgrade_to_head(engine)
    with session_scope(make_session_factory(engine)) as session:
        service.register_slis(session, SLIS, now=utcnow())
        token = auth_service.create(
            session, name=f"bench-{uuid.uuid4().hex[:6]}", role="ingest", now=utcnow()
        ).token
    engine.dispose()
    return token


def ingest_file_rate(url: str, path: Path) -> tuple[int, float]:
    engine = make_engine(url)
    factory = make_session_factory(engine)

    def run() -> int:
        with session_scope(factory) as session:
            return service.ingest_file(session, path, clock=utcnow).accepted

    try:
        return timed(run)
    finally:
        engine.dispose()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def server(code: str, env: dict[str, str]) -> Iterator[int]:
    """Run a uvicorn server (``code``) in a subprocess on a free loopback port."""
    port = free_port()
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            [sys.executable, "-c", code, str(port)], env={**os.environ, **env}, stderr=log
        )
        try:
            deadline = time.monotonic() + 60
            while True:
                if process.poll() is not None:
                    log.seek(0)
                    error = log.read().decode(errors="replace")[-2000:]
                    raise RuntimeError(f"server exited with {process.returncode}: {error}")
                with suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
                if time.monotonic() > deadline:
                    raise RuntimeError("server did not start within 60 s")
                time.sleep(0.05)
            try:
                yield port
            except Exception:
                # What the server said before the failure (a crash, a traceback) helps most.
                log.seek(0)
                tail = log.read().decode(errors="replace")[-3000:]
                print(f"server log (exit code {process.poll()}):\n{tail}", file=sys.stderr)
                raise
        finally:
            stop(process)


def batches(count: int) -> list[bytes]:
    """``count`` JSON bodies of BATCH events each, timed around now."""
    rng = random.Random(7)
    now = time.time()
    bodies = []
    for b in range(count):
        events: list[dict[str, object]] = []
        for i in range(BATCH):
            moment = now - 3600 + (b * BATCH + i) * 0.001
            stamp = datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f") + "Z"
            if i % 4 == 3:
                events.append({"time": stamp, "sli": "latency", "value": rng.random()})
            else:
                events.append({"time": stamp, "sli": "availability", "good": 9, "total": 10})
        bodies.append(json.dumps({"events": events}).encode())
    return bodies


def post_all(port: int, bodies: list[bytes], token: str) -> tuple[int, float]:
    """POST every body on one keep-alive connection; returns (events, seconds)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
    try:
        # One warm-up request outside the timing (imports, first connection, caches).
        connection.request("POST", "/api/v1/events", body=bodies[0], headers=headers)
        connection.getresponse().read()
        started = time.perf_counter()
        for body in bodies[1:]:
            connection.request("POST", "/api/v1/events", body=body, headers=headers)
            response = connection.getresponse()
            payload = response.read()
            if response.status != 200:
                raise RuntimeError(f"HTTP {response.status}: {payload[:500]!r}")
        return (len(bodies) - 1) * BATCH, time.perf_counter() - started
    finally:
        connection.close()


def bench_backend(
    name: str, url: str, files: tuple[Path, Path], bodies: list[bytes], baselines: dict[str, float]
) -> list[Row]:
    token = prepare(url)
    rows = []
    for path, baseline in zip(files, ("csv.reader only", "json.loads per line"), strict=True):
        events, seconds = ingest_file_rate(url, path)
        rows.append(
            Row(
                f"ingest_file {path.suffix[1:]}",
                name,
                events,
                seconds,
                baseline,
                baselines[baseline],
                FILE_TARGET,
            )
        )
    env = {"WATCHKEEPER_DATABASE_URL": url, "WATCHKEEPER_RUN_WORKER_IN_PROCESS": "false"}
    with server(SERVER, env) as port:
        events, seconds = post_all(port, bodies, token)
    rows.append(
        Row(
            f"HTTP POST x{BATCH}",
            name,
            events,
            seconds,
            "empty endpoint",
            baselines["empty endpoint"],
            HTTP_TARGET,
        )
    )
    return rows


def print_table(rows: list[Row]) -> None:
    header = (
        f"{'path':<18} {'backend':<10} {'events':>9} {'seconds':>8} {'events/s':>10} "
        f"{'baseline':<20} {'baseline/s':>11} {'ratio':>6}  target"
    )
    print(header)
    print("-" * len(header))
    for row in rows:
        ratio = row.rate / row.baseline_rate if row.baseline_rate else 0.0
        target = ""
        if row.target is not None and row.backend == "sqlite":
            target = f">= {row.target:,} {'ok' if row.rate >= row.target else 'MISSED'}"
        print(
            f"{row.path:<18} {row.backend:<10} {row.events:>9,} {row.seconds:>8.2f} "
            f"{row.rate:>10,.0f} {row.baseline:<20} {row.baseline_rate:>11,.0f} {ratio:>6.2f}"
            f"  {target}"
        )


def main() -> None:
    """Generate the data, run every measurement and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows per data file")
    parser.add_argument("--batches", type=int, default=200, help=f"HTTP batches of {BATCH}")
    parser.add_argument("--no-postgres", action="store_true", help="SQLite only")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="wk-bench-") as scratch:
        directory = Path(scratch)
        print(f"generating {args.rows:,} rows (CSV and JSONL) ...", file=sys.stderr)
        files = generate(directory, args.rows)
        baselines = {}
        events, seconds = timed(lambda: csv_baseline(files[0]))
        baselines["csv.reader only"] = events / seconds
        events, seconds = timed(lambda: jsonl_baseline(files[1]))
        baselines["json.loads per line"] = events / seconds
        bodies = batches(max(args.batches, 2) + 1)
        with server(EMPTY_SERVER, {}) as port:
            events, seconds = post_all(port, bodies, "none")
        baselines["empty endpoint"] = events / seconds

        rows: list[Row] = []
        sqlite_url = f"sqlite:///{directory / 'bench.db'}"
        print("SQLite ...", file=sys.stderr)
        rows += bench_backend("sqlite", sqlite_url, files, bodies, baselines)
        if not args.no_postgres:
            with postgres_schema() as postgres_url:
                if postgres_url is not None:
                    print("PostgreSQL ...", file=sys.stderr)
                    rows += bench_backend("postgresql", postgres_url, files, bodies, baselines)
    print_table(rows)


if __name__ == "__main__":
    main()
