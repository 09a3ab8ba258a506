"""Fixtures of incident tests: a fixed clock and an SLO with traffic to link."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.orm import Session

from tests.policy import traffic
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
