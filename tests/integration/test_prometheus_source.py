"""A real Prometheus 2.42 as an SLO source: live evaluation, outage, unreachable, backfill,
backtest, and agreement with the rules ``watchkeeper rules generate`` writes.

One Prometheus per module, on a free loopback port with a temporary data dir, scraping a
test exporter (prometheus_client on loopback) every 0.9 s and evaluating, every second, the
default-mode rules the real CLI generated for the live SLO. Before it starts, history is
written with ``promtool tsdb create-blocks-from openmetrics`` so backfill and backtest have
known answers: 100 requests a minute, 1 % bad for three hours, then 10 % bad for three hours
(``backfill_requests_total``); and 100 requests a minute with one 30-minute outage at 50 %
bad (``outage_requests_total``).
"""

from __future__ import annotations

import math
import subprocess
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry, Counter, start_http_server
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from tests.cli_runner import invoke
from tests.conftest import migrated_engine
from tests.integration.prometheus_world import (
    HISTORY_SPEC,
    HISTORY_START_HOURS,
    HISTORY_SWITCH_HOURS,
    HOUR,
    LIVE_SPEC,
    OUTAGE_SPEC,
    OUTAGE_START_MINUTES,
    Exporter,
    PrometheusServer,
    Setup,
    factory_for,
    history_anchor,
    history_file,
    settings_for,
)
from tests.integration.servers import binary, poll
from tests.live_server import free_port
from watchkeeper.alerting.models import AlertGroup
from watchkeeper.core.slo import Severity
from watchkeeper.db import session_scope
from watchkeeper.flows import specs as spec_flows
from watchkeeper.slo import backtest as slo_backtest
from watchkeeper.slo import service
from watchkeeper.slo.backfill import backfill
from watchkeeper.sources import registry as sources
from watchkeeper.sources.exceptions import SourceUnreachable
from watchkeeper.specs import load_text
from watchkeeper.worker import Worker

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    """History blocks, an exporter and a Prometheus scraping it every second."""
    prometheus_binary = binary("prometheus", "prometheus")
    promtool = binary("promtool", "prometheus")
    root = tmp_path_factory.mktemp("prometheus")
    data = root / "data"
    data.mkdir()
    anchor = history_anchor()
    history = root / "history.om"
    history_file(history, anchor)
    subprocess.run(
        [promtool, "tsdb", "create-blocks-from", "openmetrics", str(history), str(data)],
        check=True,
        capture_output=True,
        timeout=120,
    )

    registry = CollectorRegistry()
    counter = Counter("live_requests", "Requests served.", ["code"], registry=registry)
    good, bad = counter.labels(code="200"), counter.labels(code="500")
    exporter = Exporter(port=free_port())
    server, server_thread = start_http_server(exporter.port, addr="127.0.0.1", registry=registry)

    def traffic() -> None:
        while not exporter.stop.wait(0.1):
            good.inc(exporter.good_per_tick)
            bad.inc(exporter.bad_per_tick)

    thread = threading.Thread(target=traffic, name="test-exporter-traffic", daemon=True)
    thread.start()
    config = root / "prometheus.yml"
    # Scrapes every 0.9 s and rules every 1 s drift apart, so a test can pick a rule
    # evaluation that no scrape raced (see _settled_evaluation).
    config.write_text(
        "global: {scrape_interval: 900ms, evaluation_interval: 1s}\n"
        f"rule_files: ['{_live_rules(root)}']\n"
        "scrape_configs:\n"
        "  - job_name: exporter\n"
        f"    static_configs: [{{targets: ['127.0.0.1:{exporter.port}']}}]\n"
    )
    prometheus = PrometheusServer(prometheus_binary, config, data, free_port())
    prometheus.start()
    try:
        yield Setup(prometheus, exporter, anchor)
    finally:
        prometheus.stop()
        exporter.stop.set()
        thread.join(timeout=5)
        server.shutdown()
        server.server_close()
        server_thread.join(timeout=5)


def _live_rules(root: Path) -> Path:
    """The live SLO's rules, written by the real ``watchkeeper rules generate`` (default mode).

    One change: the windows from a day up are evaluated every 2 minutes and the period every
    4; the test evaluates those groups every second like the others, so it need not wait
    minutes for their first evaluation. Their expressions are untouched.
    """
    spec = root / "live.yaml"
    spec.write_text(LIVE_SPEC)
    rules = root / "live.rules.yml"
    result = invoke("rules", "generate", str(spec), "-o", str(rules))
    assert result.exit_code == 0, result.output
    text = rules.read_text()
    assert text.count("interval: 2m") + text.count("interval: 4m") >= 1, text
    rules.write_text(
        text.replace("interval: 2m", "interval: 1s").replace("interval: 4m", "interval: 1s")
    )
    return rules


@pytest.fixture
def database(tmp_path: Path) -> Iterator[Engine]:
    with migrated_engine("sqlite", tmp_path / "watchkeeper.db", prefix="wk_prom") as engine:
        yield engine


@pytest.fixture
def registries() -> Iterator[list[sources.SourceRegistry]]:
    """Registries made by a test, closed after it (their connection pools)."""
    made: list[sources.SourceRegistry] = []
    yield made
    for registry in made:
        registry.close()


def test_backfill_from_history_blocks_has_the_known_answers(
    setup: Setup,
    database: Engine,
    tmp_path: Path,
    registries: list[sources.SourceRegistry],
) -> None:
    if setup.prometheus.process is None:
        setup.prometheus.start()
    settings = settings_for(tmp_path, setup.prometheus.url)
    factory = factory_for(database, settings, registries)
    anchor = setup.anchor
    with session_scope(factory) as session:
        spec_flows.apply(session, spec_set=load_text(HISTORY_SPEC), now=anchor)
    with session_scope(factory) as session:
        result = backfill(
            session,
            key="past/requests",
            now=anchor,
            interval=timedelta(minutes=5),
            start=anchor - timedelta(hours=HISTORY_START_HOURS),
        )
    assert result.points == HISTORY_START_HOURS * 12
    with session_scope(factory) as session:
        points = {
            p.at: p
            for p in service.history(
                session, key="past/requests", since=anchor - timedelta(hours=9), until=anchor
            )
        }
    assert len(points) == HISTORY_START_HOURS * 12

    def at(hours: float) -> Any:
        return points[anchor - timedelta(hours=hours)]

    # Windows wholly inside the first stretch: 100 a minute, 1 % bad; burn rate 1.
    for hours in (7, 6.5, 6, 5.5, 5):
        point = at(hours)
        assert point.total == pytest.approx(6000, rel=1e-6)
        assert point.sli == pytest.approx(0.99, rel=1e-9)
        assert point.burn_rates["5m"] == pytest.approx(1.0, rel=1e-6)
    # Inside the second stretch: 10 % bad, burn rate 10.
    for hours in (4, 3, 2.5, 2):
        point = at(hours)
        assert point.sli == pytest.approx(0.90, rel=1e-9)
        assert point.burn_rates["1h"] == pytest.approx(10.0, rel=1e-6)
    # Half an hour across the switch: 30 min at 1 % and 30 min at 10 %.
    across = at(HISTORY_SWITCH_HOURS - 0.5)
    assert across.sli == pytest.approx(1 - (30 * 1 + 30 * 10) / 6000, rel=1e-3)
    # An hour after the history ends the window is empty: no data, not 100 %.
    assert at(0.5).total == 0 and at(0.5).sli is None


def test_backtest_over_history_blocks_pages_at_the_known_minutes(
    setup: Setup,
    database: Engine,
    tmp_path: Path,
    registries: list[sources.SourceRegistry],
) -> None:
    if setup.prometheus.process is None:
        setup.prometheus.start()
    factory = factory_for(database, settings_for(tmp_path, setup.prometheus.url), registries)
    anchor = setup.anchor
    history_start = anchor - timedelta(hours=HISTORY_START_HOURS)
    with session_scope(factory) as session:
        spec_flows.apply(session, spec_set=load_text(OUTAGE_SPEC), now=anchor)
    start, end = history_start + timedelta(hours=1), history_start + timedelta(hours=4)
    with session_scope(factory) as session:
        result = slo_backtest.run(
            session, key="outage/requests", start=start, end=end, now=anchor
        ).result

    # By hand, in minutes from the outage's start O (the history's 1-minute buckets are exact:
    # samples every 15 s, so increase(...[1m]) is the minute's own count). The page fires at
    # t when both burn rates are above 14.4, the budget being 1 % of requests:
    # - short window [t - 5m, t): 500 requests, b outage minutes of 50 bad each:
    #   (50 b / 500) / 0.01 = 10 b > 14.4 when b >= 2;
    # - long window [t - 1h, t): 6,000 requests, B outage minutes: (50 B / 6000) / 0.01
    #   = B / 1.2 > 14.4 when B >= 18 (17 gives 14.17).
    # During the outage B = t - O, so it fires at O + 18 (b = 5 then). The outage ends at
    # O + 30; afterwards B stays 30 until O + 60 while b = O + 35 - t, 2 up to O + 33 and 1
    # at O + 34: it clears at O + 34, after 16 minutes.
    outage = history_start + timedelta(minutes=OUTAGE_START_MINUTES)
    assert result.steps == 3 * 60 + 1
    assert [(e.severity, e.fired_at, e.cleared_at) for e in result.episodes] == [
        (Severity.PAGE, outage + timedelta(minutes=18), outage + timedelta(minutes=34))
    ]
    (page,) = result.episodes
    assert page.duration == timedelta(minutes=16) and not page.firing_at_start
    # Peak: the long window holds all 30 outage minutes from O + 30: 1500 / 6000 / 0.01 = 25.
    assert page.peak_burn_rate == pytest.approx(25.0, rel=1e-6)
    # Budget consumed while it fired, [O + 18, O + 34): 12 outage minutes (O + 18 .. O + 29)
    # of 50 bad = 600 bad of 1,600 requests; the 1-hour SLO window ending at O + 34 holds
    # 6,000 requests, a budget of 60 bad: 600 / 60 = 10 (ten times the budget).
    assert page.bad == pytest.approx(600, rel=1e-6)
    assert page.total == pytest.approx(1600, rel=1e-6)
    assert page.window_total == pytest.approx(6000, rel=1e-6)
    assert page.budget_consumed == pytest.approx(10.0, rel=1e-6)
    # The whole range, 180 minutes: 30 x 50 = 1,500 bad of 18,000; the SLO window ending at
    # the end holds 6,000 requests (budget 60): 1500 / 60 = 25 budgets.
    assert result.summary[Severity.PAGE].alerts == 1
    assert result.summary[Severity.PAGE].firing == timedelta(minutes=16)
    assert all(s.alerts == 0 for v, s in result.summary.items() if v is not Severity.PAGE)
    assert result.bad == pytest.approx(1500, rel=1e-6)
    assert result.total == pytest.approx(18000, rel=1e-6)
    assert result.budget_consumed == pytest.approx(25.0, rel=1e-6)


LIVE_SERIES = '{watchkeeper_service="live", watchkeeper_slo="requests"}'
FIRING = 'ALERTS{alertstate="firing", watchkeeper_service="live", watchkeeper_slo="requests"}'
# A scrape is stamped with its start time and stored when its answer arrives (a few ms on
# loopback): a rule evaluation this soon after a scrape's stamp may not have seen it.
SCRAPE_RACE_SECONDS = 0.15


def _settled_evaluation(prometheus: PrometheusServer, record: str, after: float) -> float:
    """The latest time after ``after`` at which Prometheus evaluated the rule group that
    records ``record`` (its samples' own timestamps) with no scrape racing the evaluation."""

    def find() -> float | None:
        records = prometheus.samples(record + LIVE_SERIES, 30)
        asked = time.time()
        scrapes = [t for t, _ in prometheus.samples('live_requests_total{code="200"}', 30)]
        for at, _ in reversed(records):
            if at <= after:
                return None
            # Scrapes stamped by ``asked - 1`` are long stored, so the list is complete there.
            if at < asked - 1 and not any(at - SCRAPE_RACE_SECONDS <= s <= at for s in scrapes):
                return at
        return None

    found: float = poll(f"a settled evaluation of {record}", find, deadline=20)
    return found


def _agreement(
    prometheus: PrometheusServer, factory: sessionmaker[Session], *, after: float
) -> tuple[dict[str, float], set[str]]:
    """Compare the recorded burn rates and period error ratio with Watchkeeper's evaluation
    at the same rule evaluation times, and Prometheus' firing alerts with Watchkeeper's;
    the recorded burn rates and the severities firing."""
    # Each group is compared at its own evaluation time: the recorded value is what the rule
    # computed then, and Watchkeeper queries the same instant (`time=` of the SLO's queries).
    at_short = _settled_evaluation(prometheus, "watchkeeper_slo:burn_rate:ratio10s", after)
    at_long = _settled_evaluation(prometheus, "watchkeeper_slo:error_ratio:ratio1h", after)
    with session_scope(factory) as session:
        short = service.evaluate_now(
            session, key="live/requests", at=datetime.fromtimestamp(at_short, UTC)
        ).status
        long = service.evaluate_now(
            session, key="live/requests", at=datetime.fromtimestamp(at_long, UTC)
        ).status
    recorded: dict[str, float] = {}
    for window, at, status in (
        ("5s", at_short, short),
        ("10s", at_short, short),
        ("1h", at_long, long),
    ):
        value = prometheus.query(f"watchkeeper_slo:burn_rate:ratio{window}{LIVE_SERIES}", at)
        assert value is not None, window
        ours = status.burn_rates[timedelta(seconds=timedelta_seconds(window))]
        assert ours == pytest.approx(value, rel=1e-6, abs=1e-12), window
        recorded[window] = value
    error_ratio = prometheus.query(f"watchkeeper_slo:error_ratio:ratio1h{LIVE_SERIES}", at_long)
    assert error_ratio is not None and long.sli is not None
    assert 1 - long.sli == pytest.approx(error_ratio, rel=1e-6, abs=1e-12)
    # Alerts: the latest evaluation of the alert group by the short windows' time (it reads
    # the records evaluated by then); the callers compare in a steady phase only.
    theirs = {a["metric"]["watchkeeper_severity"] for a in prometheus.vector(FIRING, at_short)}
    ours_firing = {a.severity.value for a in short.alerts if a.firing}
    assert ours_firing == theirs
    return recorded, ours_firing


def timedelta_seconds(window: str) -> int:
    """Seconds of a window written like ``5s`` or ``1h``."""
    return int(window[:-1]) * {"s": 1, "m": 60, "h": HOUR}[window[-1]]


def test_generated_rules_agree_with_watchkeeper_healthy_and_in_an_outage(
    setup: Setup,
    database: Engine,
    tmp_path: Path,
    registries: list[sources.SourceRegistry],
) -> None:
    prometheus, exporter = setup.prometheus, setup.exporter
    if prometheus.process is None:
        prometheus.start()
    factory = factory_for(database, settings_for(tmp_path, prometheus.url), registries)
    with session_scope(factory) as session:
        spec_flows.apply(session, spec_set=load_text(LIVE_SPEC), now=datetime.now(UTC))
    try:
        # Healthy: 1 % of requests fail, a burn rate near 1, far below the page's 14.4.
        exporter.good_per_tick, exporter.bad_per_tick = 99, 1
        recorded, firing = _agreement(prometheus, factory, after=time.time() + 2)
        assert firing == set()
        assert 0 < recorded["5s"] < 2 and recorded["1h"] > 0

        # An outage: half the requests fail, a burn rate rising towards 50. Once Prometheus
        # fires, the burn rates only rise: the phase is steady for the comparison.
        exporter.good_per_tick, exporter.bad_per_tick = 10, 10
        poll("the generated page alert to fire", lambda: prometheus.vector(FIRING, time.time()))
        recorded, firing = _agreement(prometheus, factory, after=time.time())
        assert firing == {"page"}
        assert recorded["5s"] > 14.4 and recorded["10s"] > 14.4
    finally:
        exporter.good_per_tick, exporter.bad_per_tick = 20, 0


def test_live_figures_agree_with_prometheus_and_an_outage_pages(
    setup: Setup,
    database: Engine,
    tmp_path: Path,
    registries: list[sources.SourceRegistry],
) -> None:
    prometheus, exporter = setup.prometheus, setup.exporter
    if prometheus.process is None:
        prometheus.start()
    settings = settings_for(tmp_path, prometheus.url)
    factory = factory_for(database, settings, registries)
    with session_scope(factory) as session:
        spec_flows.apply(session, spec_set=load_text(LIVE_SPEC), now=datetime.now(UTC))

    poll(
        "3 s of healthy traffic in Prometheus",
        lambda: (
            (
                prometheus.query(
                    'count_over_time(live_requests_total{code="200"}[15s])', time.time()
                )
                or 0
            )
            >= 12
        ),
    )
    exporter.good_per_tick, exporter.bad_per_tick = 10, 10  # an outage: 50 % errors
    burn_10s = (
        '(1 - sum(increase(live_requests_total{code!~"5.."}[10s])) '
        "/ sum(increase(live_requests_total[10s]))) / 0.01"
    )
    poll(
        "the outage in Prometheus' own 5s and 10s burn rates",
        lambda: (prometheus.query(burn_10s, time.time()) or 0) > 20,
    )
    moment = math.floor(time.time())
    when = datetime.fromtimestamp(moment, UTC)
    with session_scope(factory) as session:
        status = service.evaluate_now(session, key="live/requests", at=when).status
    for window in ("5s", "10s", "5m", "1h"):
        seconds = {"5s": 5, "10s": 10, "5m": 300, "1h": 3600}[window]
        own = prometheus.query(burn_10s.replace("[10s]", f"[{window}]"), moment)
        ours = status.burn_rates[timedelta(seconds=seconds)]
        assert own is not None and ours is not None
        assert ours == pytest.approx(own, rel=1e-9, abs=1e-9), window
    sli_1h = prometheus.query(
        'sum(increase(live_requests_total{code!~"5.."}[1h])) '
        "/ sum(increase(live_requests_total[1h]))",
        moment,
    )
    assert status.sli == pytest.approx(sli_1h, rel=1e-12)
    assert [a.firing for a in status.alerts] == [True]

    # The worker stores the same figures and pages through alert intake.
    worker = Worker(settings, factory)
    registries.append(worker.sources)
    worker.run_once(when)
    report = worker.last_source_report
    assert report is not None and report.evaluated == 1 and not report.failures
    assert [(t.slo_key, t.firing) for t in report.transitions] == [("live/requests", True)]
    with session_scope(factory) as session:
        stored = service.stored_status(session, record=service.get(session, key="live/requests"))
        groups = session.scalars(select(AlertGroup)).all()
    assert stored is not None and stored.error is None
    assert stored.burn_rates["10s"] == pytest.approx(status.burn_rates[timedelta(seconds=10)])
    assert any("live/requests" in g.title for g in groups)

    # Prometheus stops: "source unreachable", never good or bad, the page stays firing.
    prometheus.stop()
    later = when + timedelta(seconds=5)
    worker.run_once(later)
    report = worker.last_source_report
    assert report is not None and report.unreachable == 1 and report.transitions == []
    with session_scope(factory) as session:
        down = service.stored_status(session, record=service.get(session, key="live/requests"))
        with pytest.raises(SourceUnreachable, match="source unreachable"):
            service.evaluate_now(session, key="live/requests", at=later)
    assert down is not None and down.error is not None
    assert down.error.startswith("source unreachable: SLO 'live/requests'")
    assert [a.firing for a in down.alerts] == [] or all(a.firing for a in down.alerts)
