"""The page a responder gets: from every intake, with its fields, SLO context and links."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tests.alerting.conftest import am_alert, am_message
from tests.alerting.escalation_setup import NOW, make_team, message_of, outbox
from tests.slo import scenario
from tests.slo.scenario import AT
from watchkeeper import worker as worker_module
from watchkeeper.alerting import intake, links, repository, service
from watchkeeper.alerting.schemas import AlertmanagerMessage
from watchkeeper.config import Settings
from watchkeeper.events import service as events_service
from watchkeeper.flows import specs as spec_flows
from watchkeeper.specs import load_text
from watchkeeper.worker import Worker


@pytest.fixture(autouse=True)
def private_lock_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """A lock key of this test alone: other suites may run workers on the same PostgreSQL."""
    monkeypatch.setattr(worker_module, "EVALUATION_LOCK_KEY", random.randrange(1 << 40, 1 << 50))


ANN_ONLY = """
kind: EscalationPolicy
name: shop
steps:
  - wait: 5m
    targets:
      - user: ann
"""


def _team(session_factory: sessionmaker[Session], policy: str = ANN_ONLY) -> None:
    with session_factory() as session:
        make_team(session, policy)
        session.commit()


def _integration(session_factory: sessionmaker[Session], type: str) -> str:
    with session_factory() as session:
        integration = service.create_integration(
            session, name=type, type=type, escalation_policy="shop", now=NOW
        )
        session.commit()
        return integration.key


def _pages(session: Session) -> list[tuple[str | None, str, str]]:
    session.expire_all()
    return sorted((n.recipient, n.channel, n.kind) for n in outbox(session))


def test_an_alertmanager_page_says_what_fired_and_its_ack_link_works(
    client: TestClient, session_factory: sessionmaker[Session], session: Session
) -> None:
    _team(session_factory)
    key = _integration(session_factory, "alertmanager")
    body = am_message(
        am_alert("a1", instance="web-1"), am_alert("a2", instance="web-2"), truncated=3
    )
    # Alertmanager sends the annotations all alerts share (a rule's runbook) as common ones.
    body["commonAnnotations"]["runbook_url"] = "https://runbooks.example/errors"
    response = client.post(f"/api/v1/integrations/{key}/alertmanager", json=body)
    assert response.status_code == 200, response.text
    assert _pages(session) == [("ann", "console", "page"), ("ann", "email", "page")]
    page = message_of(outbox(session)[0])
    assert page.title.startswith("[FIRING:2] ")
    assert page.summary == "errors are high"
    fields = dict(page.fields)
    assert fields["Service"] == "checkout"
    assert fields["Urgency"] == "high"
    assert fields["Alerts"] == "2 firing of 2 (3 more truncated by Alertmanager)"
    assert fields["Integration"] == "alertmanager"
    assert fields["Escalation"] == "step 1 of 1, round 1 of 1"
    assert fields["Since"] == "2026-01-01T10:00:00+00:00"
    urls = dict(page.links)
    assert urls["Runbook"] == "https://runbooks.example/errors"
    assert urls["Source"] == "http://prometheus/graph"
    assert urls["View"].endswith(f"/api/v1/alert-groups/{page.alert_group_id}")
    # The link is signed for ann and for this group; posting it acknowledges as ann.
    token = urls["Acknowledge"].rsplit("/a/", 1)[1]
    secret = links.link_secret(session, configured=None, now=NOW)
    link = links.verify(token, secret=secret, now=NOW)
    assert (link.recipient, link.action, link.group_id) == ("ann", "ack", page.alert_group_id)
    assert client.post(f"/a/{token}").status_code == 200
    session.expire_all()
    group = service.get_group(session, group_id=page.alert_group_id or 0)
    assert (group.status, group.acknowledged_by, group.escalation_due_at) == (
        "acknowledged",
        "ann",
        None,
    )


def test_pagerduty_and_webhook_alerts_page_too(
    client: TestClient, session_factory: sessionmaker[Session], session: Session
) -> None:
    _team(session_factory)
    pd_key = _integration(session_factory, "pagerduty")
    event = {
        "routing_key": pd_key,
        "event_action": "trigger",
        "dedup_key": "disk",
        "client_url": "https://monitoring.example/disk",
        "payload": {"summary": "disk full", "source": "db-1", "severity": "critical"},
    }
    assert client.post("/v2/enqueue", json=event).status_code == 202
    hook_key = _integration(session_factory, "webhook")
    alert = {"title": "queue backlog", "dedup_key": "q", "link": "https://runbooks/q"}
    assert client.post(f"/api/v1/integrations/{hook_key}/webhook", json=alert).status_code == 202
    session.expire_all()
    by_title = {message_of(n).title: message_of(n) for n in outbox(session)}
    assert set(by_title) == {"[FIRING:1] disk full", "[FIRING:1] queue backlog"}
    assert dict(by_title["[FIRING:1] disk full"].links)["Source"] == (
        "https://monitoring.example/disk"
    )
    assert dict(by_title["[FIRING:1] queue backlog"].fields)["Integration"] == "webhook"


SLO_POLICY = ANN_ONLY.replace("name: shop", "name: slo-pages")
RUNBOOK_SPEC = scenario.SPEC.replace(
    "    sli: {name: shop-requests, kind: ratio}\n",
    "    sli: {name: shop-requests, kind: ratio}\n"
    "    alerting: {page: {runbook_url: https://runbooks.example/shop}}\n",
)


def test_an_slo_page_carries_budget_burn_rate_and_forecast(
    settings: Settings, session_factory: sessionmaker[Session], session: Session
) -> None:
    _team(session_factory, SLO_POLICY)
    spec_flows.apply(session, spec_set=load_text(RUNBOOK_SPEC), now=AT - timedelta(days=40))
    events_service.ingest(session, scenario.event_rows(), now=AT)
    session.commit()
    worker = Worker(
        settings.model_copy(update={"default_escalation_policy": "slo-pages"}), session_factory
    )
    worker.run_once(AT - timedelta(minutes=1))  # figures stored before the burn is seen
    worker.run_once(AT)
    session.expire_all()
    pages = [
        n
        for n in outbox(session)
        if message_of(n).title.endswith("availability is burning its error budget (page)")
    ]
    assert {(n.recipient, n.kind) for n in pages} == {("ann", "page")}
    page = message_of(pages[0])
    fields = dict(page.fields)
    assert fields["SLO"] == "shop/availability"
    assert fields["Objective"] == "99% over 30d"
    assert fields["Budget left"].endswith("%")
    # The burn over the firing alert's long and short windows, e.g. "6.41x over 6h / 11.1x
    # over 30m" (the worker logged burns 6.4103/11.111 and 20/100 for its two alerts).
    assert fields["Burn rate"] in ("6.41x over 6h / 11.1x over 30m", "20x over 1h / 100x over 5m")
    assert fields["Forecast exhaustion"].startswith(("would exhaust at ", "not at this rate"))
    assert dict(page.links)["Runbook"] == "https://runbooks.example/shop"
    # The ticket-severity burn of the latency SLO notifies without paging.
    ticket = [
        n
        for n in outbox(session)
        if "latency" in message_of(n).title and "ticket" in message_of(n).title
    ]
    assert ticket and {n.kind for n in ticket} == {"notice"}


def test_a_new_groups_page_counts_from_memory_equal_the_stored_alerts(session: Session) -> None:
    integration = service.create_integration(
        session, name="am-memory", type="alertmanager", now=NOW
    )
    body = am_message(
        am_alert("m1", starts_at="2026-01-01T12:30:00+02:00", instance="web-1"),
        am_alert("m2", starts_at="2026-01-01T11:00:00Z", instance="web-2"),
        am_alert("m3", "resolved", starts_at="2026-01-01T09:00:00Z", instance="web-3"),
        group_key="memory",
    )
    group = intake.ingest_alertmanager(
        session,
        integration=integration,
        message=AlertmanagerMessage.model_validate(body),
        now=NOW,
    )
    from_memory = repository.written_figures(session, [group.id])
    assert from_memory == repository.page_figures(session, [group.id])
    firing, total, since, url = from_memory[group.id]
    assert (firing, total, url) == (2, 3, "http://prometheus/graph")
    assert since is not None and since.isoformat() == "2026-01-01T09:00:00+00:00"


def test_several_source_urls_leave_the_count_to_the_query(session: Session) -> None:
    integration = service.create_integration(session, name="am-urls", type="alertmanager", now=NOW)
    other = am_alert("u2", instance="web-2")
    other["generatorURL"] = "http://prometheus-b/graph"
    body = am_message(am_alert("u1", instance="web-1"), other, group_key="urls")
    group = intake.ingest_alertmanager(
        session,
        integration=integration,
        message=AlertmanagerMessage.model_validate(body),
        now=NOW,
    )
    # Which URL the aggregate's max picks depends on the database's collation.
    assert repository.written_figures(session, [group.id]) == {}
    assert repository.page_figures(session, [group.id])[group.id][:2] == (2, 2)
