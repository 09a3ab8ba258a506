"""Dashboard page times with 1,000 SLOs, 10,000 alert groups and 10,000 incidents stored.

    .venv/bin/python bench/pages.py [--requests 100] [--clients 4] [--reuse] [--db PATH]
                                    [--history-slos N] [--no-postgres] [--quick]

Seeds a database (bench/pages_seed.py: SLOs with 30 days of evaluations every 10 minutes,
alert groups through the webhook intake, incidents with timelines through the incident
services), starts the real server (uvicorn, a loopback port, no in-process worker), signs a
dashboard user in through ``POST /login`` and requests each page with httpx2 clients:
``--requests`` sequential requests per page after a warm-up, then the same number shared by
``--clients`` concurrent clients (each its own connection).

Pages: ``/healthz`` (the baseline: no database, no template), the overview ``/``, the SLO
list ``/slos``, an SLO's detail ``/slos/{service}/{name}`` and its chart data over 30 days
(``chart.json?from=...&to=...``: the number of points returned is printed), the incident and
alert lists (first page of the open ones; page 1 and page 100 of all). A page not served yet
(404) is listed as missing.

Time per request is the time to the full response on loopback (client side); the server's
own time is the ``Server-Timing: app;dur=`` header. Each page's p95 is judged against the
150 ms target; the ratio is its median over /healthz's, same run, same clients.

SQLite: the seeded file is kept (``--db``, default in the temp directory) and reused with
``--reuse`` (migrated to head first). PostgreSQL (127.0.0.1:5432, database ``test``): a fresh
schema, migrated, filled with a row-for-row copy of the SQLite file (COPY), dropped afterwards.
"""

from __future__ import annotations

import argparse
import re
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

import httpx2 as httpx
from ingest import server  # bench/ingest.py, beside this script
from latency import percentile  # bench/latency.py, beside this script
from pages_seed import Seeded, Sizes, seed, stored  # bench/pages_seed.py, beside this script
from postgres import postgres_schema  # bench/postgres.py, beside this script
from sqlalchemy import Engine, Integer, text

from watchkeeper.auth import people, sessions
from watchkeeper.auth import service as auth_service
from watchkeeper.db import make_engine, make_session_factory, session_scope, utcnow
from watchkeeper.migrate import upgrade_to_head
from watchkeeper.tables import Base

TARGET_MS = 150.0
USER = "bench-viewer"
PASSWORD = "bench-pages-password-1"

SERVER = """
import sys, uvicorn
from watchkeeper.app import create_app, settle_heap
from watchkeeper.config import Settings
app = create_app(Settings())
settle_heap()  # as `watchkeeper serve` does before serving
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning", access_log=False)
"""


@dataclass
class Timing:
    """One page's measured requests."""

    page: str
    backend: str
    mode: str
    client_ms: list[float] = field(default_factory=list)
    server_ms: list[float] = field(default_factory=list)
    errors: int = 0
    missing: bool = False
    points: int | None = None

    def quantile(self, share: float, *, server_side: bool = False) -> float:
        values = self.server_ms if server_side else self.client_ms
        return percentile(values, share) if values else float("nan")


def pages_for(seeded: Seeded) -> list[tuple[str, str]]:
    """(label, path) of every measured page; the SLO is the first, burning one."""
    service, name = seeded.slo_keys[0].split("/", 1)
    base = f"/slos/{quote(service)}/{quote(name)}"
    end = seeded.now + timedelta(minutes=1)
    start = end - timedelta(days=30)
    window = f"from={quote(start.isoformat())}&to={quote(end.isoformat())}"
    return [
        ("/healthz", "/healthz"),
        ("overview /", "/"),
        ("overview live part", "/overview/live"),
        ("SLO list", "/slos"),
        ("SLO detail", base),
        ("SLO chart 30d", f"{base}/chart.json?{window}"),
        ("API chart 30d", f"/api/v1{base}/chart?{window}"),
        ("incidents (open)", "/incidents"),
        ("incidents all p1", "/incidents?status=all"),
        ("incidents all p100", "/incidents?status=all&page=100"),
        ("alerts (open)", "/alerts"),
        ("alerts all p100", "/alerts?status=all&page=100"),
    ]


def make_viewer(engine: Engine) -> str:
    """A dashboard user with a password (kept across --reuse runs); returns a new read-only
    API token for the JSON API."""
    with session_scope(make_session_factory(engine)) as session:
        if USER not in people.all_user_names(session):
            people.create_user(session, name=USER, role="viewer", now=utcnow())
        sessions.set_password(session, name=USER, password=PASSWORD, now=utcnow())
        name = f"bench-pages-{uuid.uuid4().hex[:8]}"
        return auth_service.create(session, name=name, role="viewer", now=utcnow()).token


def sign_in(base: str) -> dict[str, str]:
    """Sign in through the form as a browser does; returns the session cookie."""
    with httpx.Client(base_url=base, timeout=30) as client:
        form = client.get("/login")
        token = re.search(r'name="login_token" value="([^"]+)"', form.text)
        assert token is not None, "no sign-in token in the form"
        answer = client.post(
            "/login",
            data={"name": USER, "password": PASSWORD, "login_token": token.group(1), "next": "/"},
        )
        assert answer.status_code == 303, f"sign-in answered {answer.status_code}"
        return {"wk_session": client.cookies["wk_session"]}


def _server_ms(response: httpx.Response) -> float | None:
    header = response.headers.get("server-timing", "")
    match = re.search(r"app;dur=([0-9.]+)", header)
    return float(match.group(1)) if match else None


def _points(response: httpx.Response) -> int | None:
    try:
        return len(response.json()["times"])
    except (ValueError, KeyError, TypeError):
        return None


def _request(client: httpx.Client, path: str, timing: Timing) -> httpx.Response:
    began = time.perf_counter()
    response = client.get(path)
    response.read()
    elapsed = (time.perf_counter() - began) * 1000
    if response.status_code != 200:
        timing.errors += 1
        if timing.errors == 1:
            print(f"{path}: HTTP {response.status_code} {response.text[:200]!r}", file=sys.stderr)
        return response
    timing.client_ms.append(elapsed)
    server_ms = _server_ms(response)
    if server_ms is not None:
        timing.server_ms.append(server_ms)
    return response


@dataclass(frozen=True)
class Client:
    """How to reach the server as the signed-in viewer."""

    base: str
    cookies: dict[str, str]
    headers: dict[str, str]

    def open(self) -> httpx.Client:
        """A new client: its own keep-alive connection."""
        return httpx.Client(
            base_url=self.base, cookies=self.cookies, headers=self.headers, timeout=60
        )


def sequential(
    client_of: Client, label: str, path: str, args: argparse.Namespace, backend: str
) -> Timing:
    """``--warmup`` unmeasured requests, then ``--requests`` one after another."""
    timing = Timing(label, backend, "1 client")
    with client_of.open() as client:
        first = client.get(path)
        if first.status_code == 404:
            timing.missing = True
            return timing
        timing.points = _points(first) if "chart" in label else None
        for _ in range(args.warmup - 1):
            client.get(path)
        for _ in range(args.requests):
            _request(client, path, timing)
    return timing


def concurrent(
    client_of: Client, label: str, path: str, args: argparse.Namespace, backend: str
) -> Timing:
    """``--requests`` requests shared by ``--clients`` clients, each its own connection."""
    timing = Timing(label, backend, f"{args.clients} clients")
    lock = threading.Lock()
    remaining = [args.requests]
    parts: list[Timing] = []

    def run() -> None:
        mine = Timing(label, backend, timing.mode)
        with client_of.open() as client:
            client.get(path)  # its connection's warm-up
            while True:
                with lock:
                    if remaining[0] <= 0:
                        break
                    remaining[0] -= 1
                _request(client, path, mine)
        with lock:
            parts.append(mine)

    threads = [threading.Thread(target=run) for _ in range(args.clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for part in parts:
        timing.client_ms += part.client_ms
        timing.server_ms += part.server_ms
        timing.errors += part.errors
    return timing


def measure(url: str, seeded: Seeded, args: argparse.Namespace, backend: str) -> list[Timing]:
    """Start the server on ``url``, sign in and time every page, alone then concurrently."""
    engine = make_engine(url)
    token = make_viewer(engine)
    engine.dispose()
    env = {"WATCHKEEPER_DATABASE_URL": url, "WATCHKEEPER_RUN_WORKER_IN_PROCESS": "false"}
    results: list[Timing] = []
    with server(SERVER, env) as port:
        base = f"http://127.0.0.1:{port}"
        # The browser's cookie for the pages, the bearer token for the JSON API.
        cookies = sign_in(base)
        headers = {"Authorization": f"Bearer {token}"}
        for label, path in pages_for(seeded):
            print(f"  {backend}: {label} ...", file=sys.stderr, flush=True)
            client = Client(base, cookies, headers)
            alone = sequential(client, label, path, args, backend)
            results.append(alone)
            if not alone.missing and args.clients > 1:
                together = concurrent(client, label, path, args, backend)
                together.points = alone.points
                results.append(together)
    return results


def print_table(results: list[Timing]) -> None:
    """p50/p95/p99 per page and mode, the server's p95, the ratio to /healthz, the verdict."""
    header = (
        f"{'page':<20} {'backend':<10} {'mode':<10} {'n':>4} {'p50 ms':>7} {'p95 ms':>7} "
        f"{'p99 ms':>7} {'srv p95':>7} {'x healthz':>9} {'points':>6}  p95 < 150 ms"
    )
    print(header)
    print("-" * len(header))
    baselines = {
        (r.backend, r.mode): statistics.median(r.client_ms)
        for r in results
        if r.page == "/healthz" and r.client_ms
    }
    for row in results:
        if row.missing:
            print(f"{row.page:<20} {row.backend:<10} {'-':<10} not served yet (404)")
            continue
        if not row.client_ms:
            print(f"{row.page:<20} {row.backend:<10} {row.mode:<10} all {row.errors} failed")
            continue
        base = baselines.get((row.backend, row.mode))
        ratio = f"{statistics.median(row.client_ms) / base:.1f}" if base else "-"
        p95 = row.quantile(0.95)
        verdict = "" if row.page == "/healthz" else ("PASS" if p95 < TARGET_MS else "FAIL")
        if row.errors:
            verdict += f" ({row.errors} errors)"
        points = "" if row.points is None else str(row.points)
        print(
            f"{row.page:<20} {row.backend:<10} {row.mode:<10} {len(row.client_ms):>4} "
            f"{row.quantile(0.5):>7.1f} {p95:>7.1f} {row.quantile(0.99):>7.1f} "
            f"{row.quantile(0.95, server_side=True):>7.1f} {ratio:>9} {points:>6}  {verdict}"
        )
    print(
        "ms: time to the full response on loopback; srv p95: the Server-Timing header (the "
        "app's own time); x healthz: median / /healthz's median, same backend and mode"
    )


# -- PostgreSQL: a row-for-row copy of the seeded SQLite file ----------------------------


def copy_to_postgres(sqlite_path: Path, url: str) -> None:
    """Migrate the schema, empty it and COPY every table of the SQLite file into it."""
    engine = make_engine(url)
    upgrade_to_head(engine)
    tables = list(Base.metadata.sorted_tables)
    source = sqlite3.connect(sqlite_path)
    began = time.perf_counter()
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql("SET LOCAL TIME ZONE 'UTC'")
            names = ", ".join(f'"{t.name}"' for t in tables)
            # Migrations seed some rows (severities): the copy brings them again.
            connection.exec_driver_sql(f"TRUNCATE {names} CASCADE")
            raw = connection.connection.driver_connection
            assert raw is not None
            with raw.cursor() as cursor:
                for table in tables:
                    columns = [c.name for c in table.columns]
                    listed = ", ".join(f'"{c}"' for c in columns)
                    rows = source.execute(f'SELECT {listed} FROM "{table.name}"')
                    statement = f'COPY "{table.name}" ({listed}) FROM STDIN'
                    with cursor.copy(statement) as copy:
                        for row in rows:
                            copy.write_row(row)
            for table in tables:
                key = [c for c in table.primary_key.columns if isinstance(c.type, Integer)]
                if len(table.primary_key.columns) == 1 and key and key[0].autoincrement:
                    column = key[0].name
                    connection.execute(
                        text(
                            f"SELECT setval(pg_get_serial_sequence('{table.name}', '{column}'), "
                            f'COALESCE((SELECT MAX("{column}") FROM "{table.name}"), 0) + 1, '
                            "false)"
                        )
                    )
            connection.exec_driver_sql("ANALYZE")
    finally:
        source.close()
        engine.dispose()
    print(f"  PostgreSQL copy: {time.perf_counter() - began:.0f} s", file=sys.stderr)


def main() -> None:
    """Seed (or reuse), measure on SQLite and PostgreSQL, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=100, help="measured requests per page")
    parser.add_argument("--warmup", type=int, default=5, help="unmeasured requests first")
    parser.add_argument("--clients", type=int, default=4, help="concurrent clients")
    parser.add_argument(
        "--db", type=Path, default=Path(tempfile.gettempdir()) / "wk-bench-pages.db"
    )
    parser.add_argument("--reuse", action="store_true", help="reuse --db if it is seeded")
    parser.add_argument("--history-slos", type=int, default=None, help="SLOs with history")
    parser.add_argument("--no-postgres", action="store_true", help="SQLite only")
    parser.add_argument("--quick", action="store_true", help="100 SLOs, 1,000 groups/incidents")
    args = parser.parse_args()
    sizes = Sizes(history_slos=args.history_slos)
    if args.quick:
        sizes = Sizes(slos=100, alert_groups=1_000, incidents=1_000, history_slos=args.history_slos)
        args.requests = min(args.requests, 30)
        if args.db == parser.get_default("db"):
            args.db = args.db.with_name("wk-bench-pages-quick.db")
    url = f"sqlite:///{args.db}"
    engine = make_engine(url)
    if args.reuse and args.db.exists():
        upgrade_to_head(engine)
        seeded = stored(engine)
        print(f"reusing {args.db}: {len(seeded.slo_keys):,} SLOs", file=sys.stderr)
    else:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{args.db}{suffix}").unlink(missing_ok=True)
        upgrade_to_head(engine)
        seeded = seed(engine, sizes, datetime.now(UTC))
    engine.dispose()
    print(
        f"stored: {len(seeded.slo_keys):,} SLOs, {seeded.history_rows:,} history rows, "
        f"{seeded.alert_groups:,} alert groups, {seeded.incidents:,} incidents",
        flush=True,
    )
    results = measure(url, seeded, args, "sqlite")
    if not args.no_postgres:
        with postgres_schema() as postgres_url:
            if postgres_url is not None:
                print("PostgreSQL: copying the seeded rows ...", file=sys.stderr)
                copy_to_postgres(args.db, postgres_url)
                results += measure(postgres_url, seeded, args, "postgresql")
    print_table(results)


if __name__ == "__main__":
    main()
