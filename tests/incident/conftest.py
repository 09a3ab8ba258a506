"""Fixtures of incident tests: a fixed clock and an SLO with traffic to link."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from tests.policy import traffic
from watchkeeper.alerting import intake
from watchkeeper.alerting import service as alerting_service
from watchkeeper.alerting.exceptions import IntegrationNotFound
from watchkeeper.alerting.schemas import WebhookAlert
from watchkeeper.events import service as events_service
from watchkeeper.flows import specs as spec_flows
from watchkeeper.specs import load_text

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


@pytest.fixture
def api_slo(session: Session) -> str:
    """``api/availability`` (objective 0.99, 30d) with the "fast" traffic: 70 bad of 1000
    events an hour before NOW, 9000 good ten days before."""
    spec_flows.apply(session, spec_set=load_text(traffic.SPEC), now=NOW)
    events_service.ingest(session, traffic.rows("fast", NOW), now=NOW)
    session.flush()
    return "api/availability"


def fire(
    session: Session,
    title: str,
    *,
    service: str = "api",
    state: str = "firing",
    at: datetime = NOW,
    integration: str = "hooks",
) -> int:
    """Send a generic webhook alert through intake (making the integration on first use);
    returns its alert group's id."""
    try:
        source = alerting_service.get_integration(session, name=integration)
    except IntegrationNotFound:
        source = alerting_service.create_integration(
            session, name=integration, type="webhook", now=at
        )
    group = intake.ingest_webhook(
        session,
        integration=source,
        alert=WebhookAlert(title=title, dedup_key=title, state=state, labels={"service": service}),
        now=at,
    )
    assert group is not None
    return group.id


@pytest.fixture
def groups(session: Session) -> list[int]:
    """Three firing alert groups on ``api``, opened two hours before NOW."""
    return [fire(session, f"alert {n}", at=NOW - timedelta(hours=2)) for n in range(3)]
