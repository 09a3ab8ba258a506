"""Fixtures of the event-store tests: registered SLIs and an ingest token."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy.orm import Session, sessionmaker

from tests.events.support import SLIS
from watchkeeper.auth import service as auth_service
from watchkeeper.db import utcnow
from watchkeeper.events import service


@pytest.fixture
def registered(session: Session) -> None:
    """The SLIs 'checkout' (counts) and 'latency' (observations, good at or under 0.3)."""
    service.register_slis(session, SLIS, now=utcnow())
    session.commit()


@pytest.fixture
def ingest_headers(session_factory: sessionmaker[Session]) -> dict[str, str]:
    """Authorization headers of a token with the ingest role."""
    with session_factory() as db_session:
        issued = auth_service.create(
            db_session, name=f"collector-{uuid.uuid4().hex[:6]}", role="ingest", now=utcnow()
        )
        db_session.commit()
    return {"Authorization": f"Bearer {issued.token}"}
