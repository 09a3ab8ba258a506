"""Generated burn-rate alerts travel Prometheus -> Alertmanager -> Watchkeeper and page.

One scenario per module, with real servers on loopback: a test exporter (prometheus_client)
serves request counters whose error ratio the test sets; a real Prometheus 2.42 scrapes it
every second and evaluates, every second, the rules ``watchkeeper rules generate`` wrote for
two SLOs over those counters (one in the default mode, one with ``--compat sloth``); it sends
its alerts to a real Alertmanager 0.25, whose webhook receiver is a live Watchkeeper's
Alertmanager integration, paging a user through an escalation policy.

The scenario runs healthy traffic, then an outage (every request fails), then healthy
traffic again, and records what Prometheus and Watchkeeper showed in each phase; the tests
check one mode each. Alert windows are short (1m and 15s) so the page fires within seconds.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2
import pytest
from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.metrics_core import CounterMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import Engine

from tests.cli_runner import invoke
from tests.conftest import migrated_engine
from tests.integration import servers
from tests.live_server import free_port, serving
from watchkeeper.alerting import service
from watchkeeper.alerting.models import AlertGroup
from watchkeeper.app import create_app
from watchkeeper.auth import people
from watchkeeper.config import Settings
from watchkeeper.db import make_session_factory, session_scope, utcnow
from watchkeeper.notify import service as notify_service
from watchkeeper.oncall import service as oncall_service
from watchkeeper.oncall.documents import read_text

pytestmark = pytest.mark.integration

REQUESTS_PER_SECOND = 50.0

# One SLO per mode, both over the exporter's counters; the alert windows are short so the
# page alert fires a few seconds into the outage and clears a few seconds after it.
SPEC = """\
apiVersion: watchkeeper/v1
kind: ServiceLevels
service: checkout
labels: {{team: payments}}
slos:
  - name: {name}
    objective: 0.99
    window: 1h
    sli:
      source: prometheus
      prometheus:
        bad: sum(increase(checkout_requests_failed_total[{{{{.window}}}}]))
        total: sum(increase(checkout_requests_total[{{{{.window}}}}]))
    alerting:
      page: {{runbook_url: "https://runbooks.example.com/checkout/{name}"}}
      ticket: {{enabled: false}}
      windows:
        - {{severity: page, long: 1m, short: 15s, factor: 14.4}}
"""
EXACT_SLO = "availability"
SLOTH_SLO = "availability-sloth"
EXACT_ALERT = "CheckoutAvailabilityErrorBudgetBurn"
SLOTH_ALERT = "CheckoutAvailabilitySlothErrorBudgetBurn"

# No relabelling: the intake reads the generated rules' own service (and Sloth's severity)
# labels when an alert has no `service` (`severity`), as docs/rules.md shows.
PROMETHEUS_CONFIG = """\
global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
  - {exact_rules}
  - {sloth_rules}
scrape_configs:
  - job_name: checkout
    static_configs:
      - targets: ["127.0.0.1:{exporter_port}"]
alerting:
  alertmanagers:
    - static_configs:
        - targets: ["{alertmanager}"]
"""

ALERTMANAGER_CONFIG = """\
route:
  receiver: watchkeeper
  group_by: [alertname]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: watchkeeper
    webhook_configs:
      - url: {base}/api/v1/integrations/{key}/alertmanager
        send_resolved: true
"""

PAGER = """
kind: EscalationPolicy
name: pager
steps:
  - wait: 5m
    targets:
      - user: ann
"""


class Traffic(Collector):
    """Request counters that grow with the clock at a steady rate, a set share failing.

    Counting from the clock at each scrape (instead of a thread adding to counters) keeps the
    rate exact and needs nothing running between scrapes.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._at = time.monotonic()
        self._total = 0.0
        self._failed = 0.0
        self._error_ratio = 0.0

    def _advance(self) -> None:
        now = time.monotonic()
        served = REQUESTS_PER_SECOND * (now - self._at)
        self._total += served
        self._failed += served * self._error_ratio
        self._at = now

    def fail(self, error_ratio: float) -> None:
        """From now on, ``error_ratio`` of the requests fail."""
        with self._lock:
            self._advance()
            self._error_ratio = error_ratio

    def collect(self) -> Iterator[Metric]:
        """The counters as of this scrape."""
        with self._lock:
            self._advance()
            total, failed = self._total, self._failed
        yield CounterMetricFamily("checkout_requests", "Requests served.", value=total)
        yield CounterMetricFamily("checkout_requests_failed", "Requests failed.", value=failed)


@contextlib.contextmanager
def _exporter(traffic: Traffic) -> Iterator[int]:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(traffic)
    port = free_port()
    server, thread = start_http_server(port, addr="127.0.0.1", registry=registry)
    try:
        yield port
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@dataclass
class Scenario:
    """What each phase showed: Prometheus' records and alerts, Watchkeeper's groups and pages."""

    healthy_records: dict[str, float] = field(default_factory=dict)
    healthy_alerts: list[dict[str, Any]] = field(default_factory=list)
    healthy_groups: list[AlertGroup] = field(default_factory=list)
    firing: dict[str, AlertGroup] = field(default_factory=dict)
    firing_details: dict[str, dict[str, Any]] = field(default_factory=dict)
    pages: list[tuple[str, str, int | None]] = field(default_factory=list)
    seconds_to_page: float = 0.0
    resolved: dict[str, AlertGroup] = field(default_factory=dict)
    rules: dict[str, str] = field(default_factory=dict)


def _generate(tmp_path: Path, name: str, *compat: str) -> Path:
    """Rules for the SLO ``name`` written by the real CLI command."""
    spec = tmp_path / f"{name}.yaml"
    spec.write_text(SPEC.format(name=name))
    rules = tmp_path / f"{name}.rules.yml"
    result = invoke("rules", "generate", str(spec), *compat, "-o", str(rules))
    assert result.exit_code == 0, result.output
    return rules


def _groups(engine: Engine) -> dict[str, AlertGroup]:
    """Watchkeeper's alert groups by alert name (Alertmanager groups by it)."""
    with session_scope(make_session_factory(engine)) as session:
        return {str(g.labels.get("alertname")): g for g in service.list_groups(session)}


def _query(http: httpx2.Client, prometheus: str, promql: str) -> list[dict[str, Any]]:
    answer = http.get(f"{prometheus}/api/v1/query", params={"query": promql})
    assert answer.status_code == 200, answer.text
    result: list[dict[str, Any]] = answer.json()["data"]["result"]
    return result


def _both(engine: Engine, status: str) -> Callable[[], dict[str, AlertGroup] | None]:
    """A check that both modes' alerts have a group in ``status``."""

    def done() -> dict[str, AlertGroup] | None:
        found = _groups(engine)
        wanted = {EXACT_ALERT, SLOTH_ALERT}
        ready = wanted <= found.keys() and all(found[a].status == status for a in wanted)
        return found if ready else None

    return done


def _run(tmp_path: Path, engine: Engine) -> Scenario:
    scenario = Scenario()
    exact_rules = _generate(tmp_path, EXACT_SLO)
    sloth_rules = _generate(tmp_path, SLOTH_SLO, "--compat", "sloth")
    scenario.rules = {EXACT_SLO: exact_rules.read_text(), SLOTH_SLO: sloth_rules.read_text()}
    with session_scope(make_session_factory(engine)) as session:
        people.create_user(session, name="ann", role="editor", now=utcnow())
        people.add_contact(session, name="ann", kind="console", address="tty", now=utcnow())
        oncall_service.apply(session, documents=read_text(PAGER, "pager.yaml"), now=utcnow())
        key = service.create_integration(
            session, name="prometheus", type="alertmanager", escalation_policy="pager", now=utcnow()
        ).key
    traffic = Traffic()
    app = create_app(Settings(data_dir=tmp_path, run_worker_in_process=False), engine=engine)
    with contextlib.ExitStack() as stack, httpx2.Client(timeout=5) as http:
        exporter_port = stack.enter_context(_exporter(traffic))
        base = stack.enter_context(serving(app))
        am_config = tmp_path / "alertmanager.yml"
        am_config.write_text(ALERTMANAGER_CONFIG.format(base=base, key=key))
        am_log = tmp_path / "alertmanager.log"
        am_process, am = servers.start_alertmanager(am_config, tmp_path / "am-data", am_log)
        stack.callback(servers.stop, am_process)
        prometheus_config = tmp_path / "prometheus.yml"
        prometheus_config.write_text(
            PROMETHEUS_CONFIG.format(
                exact_rules=exact_rules,
                sloth_rules=sloth_rules,
                exporter_port=exporter_port,
                alertmanager=am.removeprefix("http://"),
            )
        )
        prometheus_log = tmp_path / "prometheus.log"
        prometheus_process, prometheus = servers.start_prometheus(
            prometheus_config, tmp_path / "prometheus-data", prometheus_log
        )
        stack.callback(servers.stop, prometheus_process)
        servers.wait_ready(http, am_process, am, am_log, "alertmanager")
        servers.wait_ready(http, prometheus_process, prometheus, prometheus_log, "prometheus")

        # Healthy: both modes' long-window records exist and say nothing is failing.
        records = {
            "exact": f'watchkeeper_slo:burn_rate:ratio1m{{watchkeeper_slo="{EXACT_SLO}"}}',
            "sloth": f'slo:sli_error:ratio_rate1m{{sloth_slo="{SLOTH_SLO}"}}',
        }

        def healthy() -> dict[str, float] | None:
            found = {mode: _query(http, prometheus, promql) for mode, promql in records.items()}
            if not all(found.values()):
                return None
            return {mode: float(result[0]["value"][1]) for mode, result in found.items()}

        scenario.healthy_records = servers.poll("healthy records in Prometheus", healthy)
        scenario.healthy_alerts = _query(http, prometheus, "ALERTS")
        scenario.healthy_groups = list(_groups(engine).values())

        # Outage: every request fails until both alerts have paged through Alertmanager.
        outage_start = time.monotonic()
        traffic.fail(1.0)
        scenario.firing = servers.poll(
            "both burn-rate alerts firing in Watchkeeper", _both(engine, "firing")
        )
        scenario.seconds_to_page = time.monotonic() - outage_start
        with session_scope(make_session_factory(engine)) as session:
            scenario.firing_details = {
                name: service.group_detail(session, group_id=group.id)
                for name, group in scenario.firing.items()
            }
            scenario.pages = [
                (n.recipient, n.kind, n.alert_group_id)
                for n in notify_service.list_notifications(session, limit=10)
            ]

        # Recovery: the short window empties of failures, the alerts clear and groups resolve.
        traffic.fail(0.0)
        scenario.resolved = servers.poll("both groups to resolve", _both(engine, "resolved"))
    return scenario


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scenario]:
    servers.prometheus_binary()
    servers.alertmanager_binary()
    tmp_path = tmp_path_factory.mktemp("e2e")
    # SQLite only: the intake's database work is covered on both backends by
    # test_alertmanager.py; this scenario is about the path there, and takes ~40 s.
    with migrated_engine("sqlite", tmp_path / "watchkeeper.db", prefix="wk_e2e") as engine:
        yield _run(tmp_path, engine)


def test_healthy_traffic_records_no_burn_and_opens_nothing(scenario: Scenario) -> None:
    assert scenario.healthy_records == {"exact": 0.0, "sloth": 0.0}
    assert scenario.healthy_alerts == []
    assert scenario.healthy_groups == []


@pytest.mark.parametrize(
    ("alert", "slo", "own_labels", "annotation"),
    [
        (
            EXACT_ALERT,
            EXACT_SLO,
            {"watchkeeper_slo": EXACT_SLO, "watchkeeper_severity": "page"},
            ("description", "Burn rate "),
        ),
        (
            SLOTH_ALERT,
            SLOTH_SLO,
            {"sloth_slo": SLOTH_SLO, "sloth_severity": "page"},
            ("title", "burn rate is too fast"),
        ),
    ],
    ids=["default", "compat-sloth"],
)
def test_generated_page_alert_opens_a_group_and_pages(
    scenario: Scenario,
    alert: str,
    slo: str,
    own_labels: dict[str, str],
    annotation: tuple[str, str],
) -> None:
    assert f"alert: {alert}" in scenario.rules[slo]
    group = scenario.firing[alert]
    assert group.source == "alertmanager"
    # The page's title is the summary, its templates filled in by Prometheus.
    assert group.title == group.annotations["summary"]
    assert f"checkout{'/' if alert == EXACT_ALERT else ' '}{slo} " in group.title
    # The intake reads `service` and `severity` from the generated rules' own labels
    # (`watchkeeper_service`; `sloth_service` and `sloth_severity` for Sloth's rules).
    assert group.service == "checkout"
    assert group.severity == "page"
    assert group.labels["alertname"] == alert
    assert own_labels.items() <= group.labels.items()
    assert group.labels["team"] == "payments"  # the spec's labels travel with the alert
    assert group.annotations["runbook_url"] == f"https://runbooks.example.com/checkout/{slo}"
    key, text = annotation
    assert text in group.annotations[key]
    assert group.escalation_due_at is not None  # escalation started
    assert ("ann", "page", group.id) in scenario.pages
    alerts = scenario.firing_details[alert]["alerts"]
    assert [a["status"] for a in alerts] == ["firing"]
    assert scenario.seconds_to_page < 60


def test_one_page_per_alert(scenario: Scenario) -> None:
    by_group = sorted(group_id for _, kind, group_id in scenario.pages if kind == "page")
    assert by_group == sorted(g.id for g in scenario.firing.values())


@pytest.mark.parametrize("alert", [EXACT_ALERT, SLOTH_ALERT], ids=["default", "compat-sloth"])
def test_group_resolves_when_traffic_recovers(scenario: Scenario, alert: str) -> None:
    group = scenario.resolved[alert]
    assert group.id == scenario.firing[alert].id
    assert group.status == "resolved"
    assert group.resolved_how == "source"
