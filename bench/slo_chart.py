"""SLO chart: 30 days of 1-minute evaluations (43,200 history rows) downsampled to 1000 points.

Compares the chart service (bucketing in the database) with reading every row through
``slo.service.history`` and bucketing in Python (what a client of the history API does).
Prints one row per database with the median time and the ratio. Run: python bench/slo_chart.py
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, insert, text

from watchkeeper.db import make_engine, make_session_factory
from watchkeeper.flows import specs as spec_flows
from watchkeeper.migrate import upgrade_to_head
from watchkeeper.slo import chart
from watchkeeper.slo import service as slo_service
from watchkeeper.slo.models import SLOHistory
from watchkeeper.specs import load_text

END = datetime(2026, 11, 23, tzinfo=UTC)
ROWS = 43_200
SPEC = """\
apiVersion: watchkeeper/v1
kind: ServiceLevels
service: shop
slos:
  - name: availability
    objective: 0.999
    window: 30d
    sli: {name: shop-requests, kind: ratio}
"""
LABELS = ("1h", "5m", "6h", "30m", "1d", "2h", "3d")


def _fill(factory) -> None:  # type: ignore[no-untyped-def]
    with factory() as session:
        spec_flows.apply(session, spec_set=load_text(SPEC), now=END - timedelta(days=31))
        slo_id = slo_service.get(session, key="shop/availability").id
        start = END - timedelta(days=30)
        rows = [
            {
                "slo_id": slo_id,
                "at": start + timedelta(minutes=i),
                "good": 1.0,
                "total": 1.0,
                "sli": 0.999,
                "budget_remaining": 1 - i / ROWS,
                "objective": 0.999,
                "window_counts": {label: [990 + i % 10, 1000] for label in LABELS},
            }
            for i in range(ROWS)
        ]
        session.execute(insert(SLOHistory), rows)
        session.commit()


def _naive(session) -> int:  # type: ignore[no-untyped-def]
    points = slo_service.history(
        session, key="shop/availability", since=END - timedelta(days=30), until=END, limit=50_000
    )
    width = 30 * 86_400 // 1000
    origin = (END - timedelta(days=30)).timestamp()
    buckets: dict[int, list[float]] = {}
    for p in points:
        b = int((p.at.timestamp() - origin) // width)
        top = buckets.setdefault(b, [0.0] * len(LABELS))
        for i, label in enumerate(LABELS):
            top[i] = max(top[i], p.burn_rates.get(label) or 0.0)
    return len(buckets)


def _median(work, repeat: int = 5) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        work()
        times.append(time.perf_counter() - began)
    return statistics.median(times)


def main() -> None:
    """Print the table."""
    print(f"{'database':<12}{'chart (ms)':>12}{'naive (ms)':>12}{'ratio':>8}")
    urls = [f"sqlite:///{Path(tempfile.mkdtemp()) / 'bench.db'}"]
    if len(sys.argv) > 1:
        urls.append(sys.argv[1])  # e.g. postgresql://postgres@127.0.0.1:5432/test
    for url in urls:
        schema = f"bench_chart_{os.getpid()}"
        if url.startswith("sqlite"):
            engine = make_engine(url)
        else:  # a schema of its own, dropped afterwards
            admin = create_engine(url)
            with admin.begin() as connection:
                connection.execute(text(f'CREATE SCHEMA "{schema}"'))
            engine = create_engine(url, connect_args={"options": f"-csearch_path={schema}"})
        upgrade_to_head(engine)
        factory = make_session_factory(engine)
        _fill(factory)
        with factory() as session:
            drawn = chart.series(session, key="shop/availability", now=END)
            assert len(drawn.times) == 1000, len(drawn.times)
            fast = _median(lambda: chart.series(session, key="shop/availability", now=END))
            slow = _median(lambda: _naive(session), repeat=2)
        print(
            f"{engine.dialect.name:<12}{fast * 1000:>12.1f}{slow * 1000:>12.1f}{slow / fast:>8.1f}"
        )
        engine.dispose()
        if not url.startswith("sqlite"):
            with admin.begin() as connection:
                connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()


if __name__ == "__main__":
    main()
