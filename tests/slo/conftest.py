"""Fixtures of the SLO domain tests: the hand-worked ``shop`` scenario applied and ingested."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from tests.slo import scenario
from tests.slo.scenario import AT
from watchkeeper.events import service as events_service
from watchkeeper.flows import specs as spec_flows
from watchkeeper.flows.specs import ApplyResult
from watchkeeper.specs import load_text


@pytest.fixture
def shop(session: Session) -> ApplyResult:
    """The scenario's SLOs and policy, applied an hour before AT."""
    spec_set = load_text(scenario.SPEC + "---\n" + scenario.POLICY)
    return spec_flows.apply(session, spec_set=spec_set, now=AT.replace(hour=11))


@pytest.fixture
def shop_events(session: Session, shop: ApplyResult) -> None:
    """The scenario's events in the store (written at AT)."""
    events_service.ingest(session, scenario.event_rows(), now=AT)
