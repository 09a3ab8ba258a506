"""The Prometheus source tests' world: history written for promtool, a test exporter with
controllable traffic, a restartable Prometheus, the SLO specs, and the settings and session
factories the tests use (fixtures stay in test_prometheus_source.py)."""

from __future__ import annotations

import subprocess
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx2
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from tests.integration.servers import poll
from watchkeeper.config import Settings
from watchkeeper.db import make_session_factory
from watchkeeper.sources import registry as sources

HOUR = 3600
# History in the blocks: per minute 100 requests; bad 1 for the first 3 h, 10 for the next 3 h.
HISTORY_START_HOURS = 8  # before the anchor (the last whole hour)
HISTORY_SWITCH_HOURS = 5
HISTORY_END_HOURS = 2
# The outage series: 100 requests a minute over the same span, none bad except 50 a minute
# in the 30 minutes from 120 minutes after the history starts.
OUTAGE_START_MINUTES = 120
OUTAGE_MINUTES = 30
OUTAGE_BAD_PER_MINUTE = 50

LIVE_SPEC = """\
apiVersion: watchkeeper/v1
kind: SLO
service: live
name: requests
objective: 0.99
window: 1h
sli:
  name: live-requests
  source: prometheus
  prometheus:
    good: sum(increase(live_requests_total{code!~"5.."}[{{.window}}]))
    total: sum(increase(live_requests_total[{{.window}}]))
alerting: {windows: [{severity: page, long: 10s, short: 5s, factor: 14.4}]}
"""
HISTORY_SPEC = """\
apiVersion: watchkeeper/v1
kind: SLO
service: past
name: requests
objective: 0.99
window: 1h
sli:
  name: past-requests
  source: prometheus
  prometheus:
    bad: sum(increase(backfill_requests_total{code="500"}[{{.window}}]))
    total: sum(increase(backfill_requests_total[{{.window}}]))
alerting: {windows: [{severity: page, long: 1h, short: 5m, factor: 14.4}]}
"""
OUTAGE_SPEC = HISTORY_SPEC.replace("past", "outage").replace("backfill_", "outage_")


def history_anchor() -> datetime:
    return datetime.now(UTC).replace(minute=0, second=0, microsecond=0)


def history_file(path: Path, anchor: datetime) -> None:
    """Counters every 15 s from anchor - 8 h to anchor - 2 h, as OpenMetrics text."""
    start = int(anchor.timestamp()) - HISTORY_START_HOURS * HOUR
    switch = int(anchor.timestamp()) - HISTORY_SWITCH_HOURS * HOUR
    end = int(anchor.timestamp()) - HISTORY_END_HOURS * HOUR
    outage = start + OUTAGE_START_MINUTES * 60
    lines = ["# HELP backfill_requests Requests served.", "# TYPE backfill_requests counter"]
    for code in ("200", "500"):
        for moment in range(start, end + 1, 15):
            minutes_before = (min(moment, switch) - start) / 60
            minutes_after = max(moment - switch, 0) / 60
            bad = 1 * minutes_before + 10 * minutes_after
            total = 100 * (minutes_before + minutes_after)
            value = bad if code == "500" else total - bad
            lines.append(f'backfill_requests_total{{code="{code}"}} {value!r} {moment}')
    lines += ["# HELP outage_requests Requests served.", "# TYPE outage_requests counter"]
    for code in ("200", "500"):
        for moment in range(start, end + 1, 15):
            total = 100 * (moment - start) / 60
            minutes_out = min(max(moment - outage, 0) / 60, OUTAGE_MINUTES)
            bad = OUTAGE_BAD_PER_MINUTE * minutes_out
            value = bad if code == "500" else total - bad
            lines.append(f'outage_requests_total{{code="{code}"}} {value!r} {moment}')
    lines.append("# EOF")
    path.write_text("\n".join(lines) + "\n")


@dataclass
class Exporter:
    """Live counters served on loopback, incremented by a thread at a settable rate."""

    port: int
    good_per_tick: int = 20  # healthy traffic from the start, while Prometheus starts
    bad_per_tick: int = 0
    stop: threading.Event = field(default_factory=threading.Event)


@dataclass
class PrometheusServer:
    """The module's Prometheus: start, stop, its URL."""

    binary: str
    config: Path
    data: Path
    port: int
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                self.binary,
                f"--config.file={self.config}",
                f"--storage.tsdb.path={self.data}",
                f"--web.listen-address=127.0.0.1:{self.port}",
                "--storage.tsdb.retention.time=15d",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

        def ready() -> bool:
            try:
                return httpx2.get(f"{self.url}/-/ready", timeout=1).status_code == 200
            except httpx2.HTTPError:
                return False

        poll("Prometheus ready", ready)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.process = None

    def vector(self, query: str, at: float) -> list[dict[str, Any]]:
        """The series ``query`` returns at Unix time ``at`` (instant or range vector)."""
        response = httpx2.post(
            f"{self.url}/api/v1/query", data={"query": query, "time": f"{at:.3f}"}, timeout=10
        )
        result: list[dict[str, Any]] = response.json()["data"]["result"]
        return result

    def query(self, query: str, at: float) -> float | None:
        result = self.vector(query, at)
        return float(result[0]["value"][1]) if result else None

    def samples(self, selector: str, seconds: int) -> list[tuple[float, float]]:
        """The raw (timestamp, value) samples of the one series ``selector`` picks over the
        last ``seconds`` (a range-vector query returns each sample with its own time)."""
        result = self.vector(f"{selector}[{seconds}s]", time.time())
        assert len(result) <= 1, result
        return [(float(t), float(v)) for t, v in result[0]["values"]] if result else []


@dataclass
class Setup:
    prometheus: PrometheusServer
    exporter: Exporter
    anchor: datetime


def settings_for(tmp_path: Path, url: str) -> Settings:
    return Settings(
        data_dir=tmp_path,
        run_worker_in_process=False,
        prometheus_url=url,
        prometheus_retries=0,
        prometheus_timeout_seconds=5,
        prometheus_deadline_seconds=10,
    )


def factory_for(
    engine: Engine, settings: Settings, registries: list[sources.SourceRegistry]
) -> sessionmaker[Session]:
    factory = make_session_factory(engine)
    registry = sources.registry_from_settings(settings)
    registries.append(registry)
    sources.configure(factory, registry)
    return factory
