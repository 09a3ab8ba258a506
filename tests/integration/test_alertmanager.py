"""A real Alertmanager 0.25 sends to Watchkeeper through webhook_configs and pagerduty_configs.

Alerts posted to Alertmanager's API arrive as alert groups (one per integration), and when
they are resolved (endsAt in the past) the groups resolve by themselves.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx2
import pytest
from sqlalchemy import Engine

from tests.integration.servers import (
    alertmanager_binary,
    poll,
    start_alertmanager,
    stop,
    wait_ready,
)
from tests.live_server import serving
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

CONFIG = """\
route:
  receiver: watchkeeper
  group_by: [alertname]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: watchkeeper
    webhook_configs:
      - url: {base}/api/v1/integrations/{webhook_key}/alertmanager
        send_resolved: true
    pagerduty_configs:
      - url: {base}/v2/enqueue
        routing_key: {pagerduty_key}
        send_resolved: true
        component: '{{{{ .CommonLabels.service }}}}'
"""


PAGER = """
kind: EscalationPolicy
name: pager
steps:
  - wait: 5m
    targets:
      - user: ann
"""


@pytest.fixture
def alertmanager_config(tmp_path: Path) -> Path:
    return tmp_path / "alertmanager.yml"


@pytest.fixture
def watchkeeper(committing_engine: Engine, tmp_path: Path) -> Iterator[tuple[str, Engine]]:
    settings = Settings(data_dir=tmp_path, run_worker_in_process=False)
    app = create_app(settings, engine=committing_engine)
    with serving(app) as base:
        yield base, committing_engine


def _groups(engine: Engine) -> dict[str, AlertGroup]:
    with session_scope(make_session_factory(engine)) as session:
        return {
            service.integration_by_id(session, integration_id=g.integration_id).name: g
            for g in service.list_groups(session)
        }


def _alert(ends_at: datetime | None = None) -> dict[str, Any]:
    alert: dict[str, Any] = {
        "labels": {"alertname": "CheckoutErrors", "service": "checkout", "severity": "critical"},
        "annotations": {"summary": "checkout errors above 5%", "runbook_url": "https://rb/1"},
        "generatorURL": "http://prometheus.local/graph",
    }
    if ends_at is not None:
        alert["endsAt"] = ends_at.isoformat()
    return alert


def test_alerts_arrive_group_and_resolve(
    watchkeeper: tuple[str, Engine], alertmanager_config: Path, tmp_path: Path
) -> None:
    binary = alertmanager_binary()
    assert binary
    base, engine = watchkeeper
    with session_scope(make_session_factory(engine)) as session:
        people.create_user(session, name="ann", role="editor", now=utcnow())
        people.add_contact(session, name="ann", kind="console", address="tty", now=utcnow())
        oncall_service.apply(session, documents=read_text(PAGER, "pager.yaml"), now=utcnow())
        webhook = service.create_integration(
            session, name="am", type="alertmanager", escalation_policy="pager", now=utcnow()
        )
        pagerduty = service.create_integration(
            session, name="am-pd", type="pagerduty", escalation_policy="pager", now=utcnow()
        )
        keys = (webhook.key, pagerduty.key)
    alertmanager_config.write_text(
        CONFIG.format(base=base, webhook_key=keys[0], pagerduty_key=keys[1])
    )
    log = tmp_path / "alertmanager.log"
    process, am = start_alertmanager(alertmanager_config, tmp_path / "am-data", log)
    try:
        with httpx2.Client(timeout=5) as http:
            wait_ready(http, process, am, log, "alertmanager")
            posted = http.post(f"{am}/api/v2/alerts", json=[_alert()])
            assert posted.status_code == 200, posted.text

            groups = poll(
                "both groups in Watchkeeper", lambda: len(_groups(engine)) == 2 and _groups(engine)
            )
            assert groups["am"].status == "firing"
            assert groups["am"].service == "checkout"
            assert groups["am"].escalation_due_at is not None  # escalation started: it pages
            assert groups["am-pd"].status == "firing"
            assert groups["am-pd"].service == "checkout"
            with session_scope(make_session_factory(engine)) as session:
                detail = service.group_detail(session, group_id=groups["am"].id)
                # Both routes paged ann, each with its own group's page.
                pages = notify_service.list_notifications(session, limit=10)
                assert sorted((n.recipient, n.kind, n.alert_group_id) for n in pages) == sorted(
                    ("ann", "page", g.id) for g in groups.values()
                )
            assert [a["status"] for a in detail["alerts"]] == ["firing"]
            assert detail["alerts"][0]["fingerprint"]

            past = datetime.now(UTC) - timedelta(seconds=5)
            assert http.post(f"{am}/api/v2/alerts", json=[_alert(past)]).status_code == 200

            def resolved() -> dict[str, AlertGroup] | None:
                found = _groups(engine)
                done = all(g.status == "resolved" for g in found.values())
                return found if done and len(found) == 2 else None

            groups = poll("both groups to resolve", resolved)
            assert {g.resolved_how for g in groups.values()} == {"source"}
    finally:
        stop(process)
