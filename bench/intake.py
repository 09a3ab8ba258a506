"""Alert intake throughput and latency, against baselines measured in the same run.

    .venv/bin/python bench/intake.py [--requests 3000] [--seconds 60] [--connections 8]
                                     [--no-postgres] [--no-alertmanager] [--before SRC]

Scenarios, each through a real uvicorn server on a loopback port, ``--connections`` keep-alive
HTTP connections (one thread each) sending a fixed list of requests, stopped after
``--requests`` requests or ``--seconds`` seconds, whichever comes first:

- ``alertmanager``: ``POST /api/v1/integrations/{key}/alertmanager``, 10 alerts per request, a
  realistic mix in thirds: a new group (10 firing alerts), the same group re-sent with one
  alert resolved, and a replay of that last notification (changes nothing);
- ``pagerduty``: ``POST /v2/enqueue`` trigger events, 1 alert per request, the same thirds: a
  new dedup key, a re-trigger with a new summary, a replay.

Both integrations route to a one-step escalation policy: every new group pages its on-call
user and a channel in the intake's own transaction, as in production.

Baselines, same run, same client: ``empty endpoint``, a route added to the same app (same
middleware, same server) that reads the body and answers 202; and ``alertmanager own API``,
the real ``prometheus-alertmanager`` (Debian package) answering ``POST /api/v2/alerts`` with
the same 10 alerts per request (it keeps alerts in memory: not durable).

``--before SRC`` also runs the SQLite scenarios against the package in SRC (a ``src``
directory exported from an older commit, e.g. ``git archive COMMIT src | tar -x -C DIR``), in
the same run, on its own fresh database: a before/after comparison on the same machine load.

Runs on SQLite (a temp file) and on PostgreSQL (127.0.0.1:5432, database ``test``, in a fresh
schema dropped afterwards; skipped with a message when unreachable).

Target on SQLite: >= 1,000 alerts/s with p99 < 100 ms per request; aim: >= half the empty
endpoint's request rate.
"""

from __future__ import annotations

import argparse
import http.client
import json
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from ingest import free_port, server  # bench/ingest.py, beside this script
from latency import stop  # bench/latency.py, beside this script
from postgres import postgres_schema  # bench/postgres.py, beside this script

from watchkeeper.alerting import service
from watchkeeper.auth import people
from watchkeeper.db import make_engine, make_session_factory, session_scope, utcnow
from watchkeeper.migrate import upgrade_to_head
from watchkeeper.oncall import service as oncall_service
from watchkeeper.oncall.documents import read_text

ALERTS_TARGET = 1_000
P99_TARGET_MS = 100.0
ALERTS_PER_GROUP = 10
# Requests between a group's first notification and its re-send (and the re-send and its
# replay): far more than the connections, so one group's requests never race each other, as
# Alertmanager sends one aggregation group's notifications one after the other.
SPACING = 256

_JSON = {"Content-Type": "application/json"}

SERVER = """
import sys, uvicorn
from fastapi import Request, Response
from watchkeeper.app import create_app
from watchkeeper.config import Settings
app = create_app(Settings())

@app.post("/bench/empty", include_in_schema=False)
async def empty(request: Request) -> Response:
    await request.body()
    return Response(b'{"status":"success"}', status_code=202, media_type="application/json")

uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning", access_log=False)
"""

ALERTMANAGER_CONFIG = """
route:
  receiver: blackhole
receivers:
  - name: blackhole
"""


@dataclass
class Request:
    """One HTTP request of a scenario."""

    path: str
    body: bytes
    alerts: int


@dataclass
class Result:
    """One line of the result table."""

    scenario: str
    backend: str
    requests: int
    alerts: int
    seconds: float
    latencies: list[float]
    errors: int

    @property
    def request_rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def alert_rate(self) -> float:
        return self.alerts / self.seconds if self.seconds else 0.0

    def percentile(self, share: float) -> float:
        """Latency in ms at ``share`` (nearest rank)."""
        if not self.latencies:
            return 0.0
        ordered = sorted(self.latencies)
        return 1000 * ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _am_alert(group: int, index: int, *, resolved: bool, start: datetime) -> dict[str, object]:
    labels = {
        "alertname": f"HighErrorRate{group % 17}",
        "service": f"svc-{group % 23}",
        "severity": "critical" if group % 3 == 0 else "warning",
        "instance": f"10.0.{group % 250}.{index}:9100",
        "job": "api",
    }
    return {
        "status": "resolved" if resolved else "firing",
        "labels": labels,
        "annotations": {
            "summary": f"error rate above 5% on {labels['instance']}",
            "runbook_url": "https://runbooks.example/high-error-rate",
        },
        "startsAt": _stamp(start),
        "endsAt": _stamp(start + timedelta(minutes=5)) if resolved else "0001-01-01T00:00:00Z",
        "generatorURL": "http://prometheus.example:9090/graph?g0.expr=errors",
        "fingerprint": f"{group:08x}{index:08x}",
    }


def _am_message(group: int, alerts: list[dict[str, object]]) -> bytes:
    status = "firing" if any(a["status"] == "firing" for a in alerts) else "resolved"
    first = alerts[0]["labels"]
    assert isinstance(first, dict)
    return json.dumps(
        {
            "version": "4",
            "groupKey": f'{{}}:{{alertname="{first["alertname"]}", group="{group}"}}',
            "truncatedAlerts": 0,
            "status": status,
            "receiver": "watchkeeper",
            "groupLabels": {"alertname": first["alertname"], "group": str(group)},
            "commonLabels": {"alertname": first["alertname"], "job": "api"},
            "commonAnnotations": {},
            "externalURL": "http://alertmanager.example:9093",
            "alerts": alerts,
        }
    ).encode()


def _interleave(first: list[Request], second: list[Request], third: list[Request]) -> list[Request]:
    """Slot i sends first[i], second[i - SPACING] and third[i - 2 * SPACING]."""
    ordered = []
    for slot in range(len(first) + 2 * SPACING):
        for part, shift in ((first, 0), (second, SPACING), (third, 2 * SPACING)):
            if 0 <= slot - shift < len(part):
                ordered.append(part[slot - shift])
    return ordered


def alertmanager_requests(key: str, count: int, run: str) -> list[Request]:
    """New groups, re-sends with one alert resolved, and replays of those re-sends."""
    path = f"/api/v1/integrations/{key}/alertmanager"
    start = datetime.now(UTC) - timedelta(minutes=10)
    groups = count // 3 + 1
    new, changed, replay = [], [], []
    for group in range(groups):
        tag = int(run, 16) * 1_000_000 + group
        firing = [_am_alert(tag, i, resolved=False, start=start) for i in range(ALERTS_PER_GROUP)]
        resent = [*firing[:-1], _am_alert(tag, ALERTS_PER_GROUP - 1, resolved=True, start=start)]
        new.append(Request(path, _am_message(tag, firing), ALERTS_PER_GROUP))
        body = _am_message(tag, resent)
        changed.append(Request(path, body, ALERTS_PER_GROUP))
        replay.append(Request(path, body, ALERTS_PER_GROUP))
    return _interleave(new, changed, replay)[:count]


def pagerduty_requests(key: str, count: int, run: str) -> list[Request]:
    """New triggers, re-triggers with a new summary, and replays of the re-triggers."""
    new, changed, replay = [], [], []

    def event(number: int, summary: str) -> bytes:
        return json.dumps(
            {
                "routing_key": key,
                "event_action": "trigger",
                "dedup_key": f"bench-{run}-{number}",
                "payload": {
                    "summary": summary,
                    "source": f"host-{number % 50}.example",
                    "severity": "critical" if number % 4 == 0 else "error",
                    "component": f"svc-{number % 23}",
                    "group": "api",
                    "custom_details": {"region": "eu-west-1", "attempt": number % 7},
                },
            }
        ).encode()

    for number in range(count // 3 + 1):
        new.append(Request("/v2/enqueue", event(number, f"disk full on {number}"), 1))
        again = event(number, f"disk full on {number} (still)")
        changed.append(Request("/v2/enqueue", again, 1))
        replay.append(Request("/v2/enqueue", again, 1))
    return _interleave(new, changed, replay)[:count]


def empty_requests(requests: list[Request]) -> list[Request]:
    """The same bodies sent to the empty endpoint."""
    return [Request("/bench/empty", r.body, r.alerts) for r in requests]


def alertmanager_api_requests(count: int) -> list[Request]:
    """``POST /api/v2/alerts`` bodies with 10 alerts each (Alertmanager's postable alerts)."""
    start = datetime.now(UTC) - timedelta(minutes=10)
    requests = []
    for group in range(count):
        alerts = [
            {
                "labels": a["labels"],
                "annotations": a["annotations"],
                "startsAt": a["startsAt"],
                "generatorURL": a["generatorURL"],
            }
            for a in (
                _am_alert(group, i, resolved=False, start=start) for i in range(ALERTS_PER_GROUP)
            )
        ]
        requests.append(Request("/api/v2/alerts", json.dumps(alerts).encode(), ALERTS_PER_GROUP))
    return requests


def send(
    port: int,
    requests: list[Request],
    *,
    connections: int,
    seconds: float,
    ok: tuple[int, ...],
    rate: float | None = None,
) -> tuple[int, int, float, list[float], int]:
    """Send ``requests`` in order over ``connections`` threads until done or out of time; with
    ``rate``, request i is due i / rate seconds after the start (open loop) and its latency
    counts from when it was due, so a stall is not hidden by requests not sent meanwhile.

    Returns (requests, alerts, seconds, latencies, errors); one warm-up request per connection
    (the first of the list, a replay of it afterwards changes nothing) is not counted.
    """
    lock = threading.Lock()
    position = 0
    latencies: list[float] = []
    totals = {"alerts": 0, "errors": 0}
    started = threading.Barrier(connections + 1)
    deadline = [0.0]
    begin = [0.0]
    go = threading.Event()

    def worker() -> None:
        nonlocal position
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        headers = _JSON
        mine: list[float] = []
        alerts = errors = 0
        try:
            warm = requests[0]
            connection.request("POST", warm.path, body=warm.body, headers=headers)
            connection.getresponse().read()
            started.wait()
            go.wait()
            while True:
                with lock:
                    if position >= len(requests) or time.perf_counter() > deadline[0]:
                        break
                    request = requests[position]
                    position += 1
                    due = begin[0] + (position - 2) / rate if rate else 0.0
                if rate:
                    time.sleep(max(0.0, due - time.perf_counter()))
                began = due if rate else time.perf_counter()
                connection.request("POST", request.path, body=request.body, headers=headers)
                response = connection.getresponse()
                payload = response.read()
                mine.append(time.perf_counter() - began)
                if response.status in ok:
                    alerts += request.alerts
                else:
                    errors += 1
                    if errors == 1:
                        print(f"HTTP {response.status}: {payload[:300]!r}", file=sys.stderr)
        finally:
            connection.close()
            with lock:
                latencies.extend(mine)
                totals["alerts"] += alerts
                totals["errors"] += errors

    # The first request is the warm-up of every connection, sent once alone first (it may open
    # a group), then by each connection (a replay); the timed run starts after it.
    single = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    single.request("POST", requests[0].path, body=requests[0].body, headers=_JSON)
    single.getresponse().read()
    single.close()
    threads = [threading.Thread(target=worker) for _ in range(connections)]
    with lock:
        position = 1
    for thread in threads:
        thread.start()
    started.wait()
    begin[0] = time.perf_counter()
    deadline[0] = begin[0] + seconds
    go.set()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - begin[0]
    return len(latencies), totals["alerts"], elapsed, latencies, totals["errors"]


def measure(
    scenario: str,
    backend: str,
    port: int,
    requests: list[Request],
    args: argparse.Namespace,
    rate: float | None = None,
) -> Result:
    """Run one scenario and keep its figures."""
    ok = (200, 202)
    count, alerts, seconds, latencies, errors = send(
        port, requests, connections=args.connections, seconds=args.seconds, ok=ok, rate=rate
    )
    print(f"  {scenario} on {backend}: {count / seconds:,.0f} req/s", file=sys.stderr)
    return Result(scenario, backend, count, alerts, seconds, latencies, errors)


# Every new group pages: a one-step policy notifying an on-call user on two channels, so the
# intake's work includes snapshotting the policy and writing the page to the outbox.
ONCALL = """
kind: EscalationPolicy
name: bench
steps:
  - wait: 5m
    targets:
      - user: bench-oncall
      - channel: "console:bench"
"""


def prepare(url: str) -> tuple[str, str]:
    """Migrate, create the paged user and policy, and an Alertmanager and a PagerDuty
    integration routed to it; returns their keys."""
    engine = make_engine(url)
    upgrade_to_head(engine)
    suffix = uuid.uuid4().hex[:6]
    with session_scope(make_session_factory(engine)) as session:
        if not people.all_user_names(session):
            people.create_user(session, name="bench-oncall", role="editor", now=utcnow())
            people.add_contact(
                session, name="bench-oncall", kind="console", address="oncall", now=utcnow()
            )
            oncall_service.apply(session, documents=read_text(ONCALL, "bench.yaml"), now=utcnow())
        am = service.create_integration(
            session,
            name=f"bench-am-{suffix}",
            type="alertmanager",
            escalation_policy="bench",
            now=utcnow(),
        )
        pd = service.create_integration(
            session,
            name=f"bench-pd-{suffix}",
            type="pagerduty",
            escalation_policy="bench",
            now=utcnow(),
        )
        keys = am.key, pd.key
    engine.dispose()
    return keys


def bench_backend(
    backend: str, url: str, args: argparse.Namespace, source: str | None = None
) -> list[Result]:
    """Empty endpoint (before and after, averaged: the machine's load drifts), Alertmanager
    webhook and PagerDuty events on one database; ``source`` runs another copy of the code."""
    am_key, pd_key = prepare(url)
    run = uuid.uuid4().hex[:6]
    am_requests = alertmanager_requests(am_key, args.requests + 1, run)
    pd_requests = pagerduty_requests(pd_key, args.requests + 1, run)
    env = {"WATCHKEEPER_DATABASE_URL": url, "WATCHKEEPER_RUN_WORKER_IN_PROCESS": "false"}
    if source is not None:
        env["PYTHONPATH"] = source
    empty = empty_requests(am_requests)
    with server(SERVER, env) as port:
        first = measure("empty endpoint", backend, port, empty, args)
        results = [
            measure("alertmanager x10", backend, port, am_requests, args),
            measure("pagerduty x1", backend, port, pd_requests, args),
        ]
        # The target as stated: 1,000 alerts/s sustained (paced, open loop), p99 latency.
        paced = alertmanager_requests(am_key, args.requests + 1, uuid.uuid4().hex[:6])
        target_rate = ALERTS_TARGET / ALERTS_PER_GROUP
        results.append(
            measure("alertmanager @1000/s", backend, port, paced, args, rate=target_rate)
        )
        last = measure("empty endpoint", backend, port, empty, args)
    both = Result(
        "empty endpoint",
        backend,
        first.requests + last.requests,
        first.alerts + last.alerts,
        first.seconds + last.seconds,
        first.latencies + last.latencies,
        first.errors + last.errors,
    )
    return [both, *results]


@contextmanager
def alertmanager() -> Iterator[int | None]:
    """A real Alertmanager on a free loopback port (no gossip), or None when not installed."""
    binary = shutil.which("prometheus-alertmanager")
    if binary is None:
        print("Alertmanager skipped: prometheus-alertmanager is not installed")
        yield None
        return
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="wk-bench-am-") as scratch:
        config = Path(scratch) / "alertmanager.yml"
        config.write_text(ALERTMANAGER_CONFIG)
        with tempfile.TemporaryFile() as log:
            process = subprocess.Popen(
                [
                    binary,
                    f"--config.file={config}",
                    f"--storage.path={Path(scratch) / 'data'}",
                    f"--web.listen-address=127.0.0.1:{port}",
                    "--cluster.listen-address=",
                ],
                stdout=log,
                stderr=log,
            )
            try:
                deadline = time.monotonic() + 30
                while True:
                    if process.poll() is not None:
                        log.seek(0)
                        raise RuntimeError(f"alertmanager exited: {log.read()[-2000:]!r}")
                    try:
                        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
                        connection.request("GET", "/-/ready")
                        if connection.getresponse().status == 200:
                            break
                    except OSError:
                        pass
                    if time.monotonic() > deadline:
                        raise RuntimeError("alertmanager did not start within 30 s")
                    time.sleep(0.05)
                yield port
            finally:
                stop(process)


def print_table(results: list[Result], baselines: dict[str, float]) -> None:
    """The table: rates, latencies, ratios to the empty endpoint and to Alertmanager."""
    header = (
        f"{'scenario':<22} {'backend':<13} {'requests':>8} {'req/s':>7} {'alerts/s':>9} "
        f"{'p50 ms':>7} {'p99 ms':>7} {'max ms':>7} {'err':>4} {'vs empty':>8} {'vs AM':>6}"
        "  target"
    )
    print(header)
    print("-" * len(header))
    am_rate = baselines.get("alertmanager", 0.0)
    for row in results:
        empty = baselines.get(f"empty {row.backend}", 0.0)
        paced = "@" in row.scenario  # its rate is the pace: no ratio
        versus_empty = f"{row.request_rate / empty:.2f}" if empty and not paced else "-"
        versus_am = f"{row.alert_rate / am_rate:.2f}" if am_rate and not paced else "-"
        target = ""
        if row.backend == "sqlite" and row.scenario == "alertmanager @1000/s":
            # Paced: the rate is the pace (minus the last request's wait); 2 % slack.
            met = row.alert_rate >= 0.98 * ALERTS_TARGET and row.percentile(0.99) < P99_TARGET_MS
            target = f">= {ALERTS_TARGET:,} alerts/s, p99 < {P99_TARGET_MS:.0f} ms: "
            target += "ok" if met else "MISSED"
        print(
            f"{row.scenario:<22} {row.backend:<13} {row.requests:>8,} {row.request_rate:>7,.0f} "
            f"{row.alert_rate:>9,.0f} {row.percentile(0.5):>7.1f} {row.percentile(0.99):>7.1f} "
            f"{row.percentile(1.0):>7.1f} {row.errors:>4} {versus_empty:>8} {versus_am:>6}"
            f"  {target}"
        )
    print(
        "vs empty: request rate / the empty endpoint's on the same backend; "
        "vs AM: alerts/s / Alertmanager's POST /api/v2/alerts; @1000/s: paced, latency from "
        "when each request was due"
    )


def main() -> None:
    """Run every scenario and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3_000, help="requests per scenario")
    parser.add_argument("--seconds", type=float, default=60.0, help="time bound per scenario")
    parser.add_argument("--connections", type=int, default=8, help="concurrent connections")
    parser.add_argument("--no-postgres", action="store_true", help="SQLite only")
    parser.add_argument("--no-alertmanager", action="store_true", help="skip Alertmanager")
    parser.add_argument("--before", metavar="SRC", help="also run SQLite on the code in SRC")
    args = parser.parse_args()
    results: list[Result] = []
    baselines: dict[str, float] = {}
    if not args.no_alertmanager:
        with alertmanager() as port:
            if port is not None:
                print("Alertmanager ...", file=sys.stderr)
                requests = alertmanager_api_requests(args.requests + 1)
                result = measure("alertmanager own API", "in memory", port, requests, args)
                baselines["alertmanager"] = result.alert_rate
                results.append(result)
    with tempfile.TemporaryDirectory(prefix="wk-bench-") as scratch:
        print("SQLite ...", file=sys.stderr)
        backend_results = bench_backend("sqlite", f"sqlite:///{Path(scratch) / 'bench.db'}", args)
        results += backend_results
        if args.before:
            print(f"SQLite, code in {args.before} ...", file=sys.stderr)
            before = str(Path(args.before).resolve())
            url = f"sqlite:///{Path(scratch) / 'before.db'}"
            results += bench_backend("sqlite before", url, args, source=before)
    if not args.no_postgres:
        with postgres_schema() as postgres_url:
            if postgres_url is not None:
                print("PostgreSQL ...", file=sys.stderr)
                results += bench_backend("postgresql", postgres_url, args)
    for row in results:
        if row.scenario == "empty endpoint":
            baselines[f"empty {row.backend}"] = row.request_rate
    print_table(results, baselines)


if __name__ == "__main__":
    main()
