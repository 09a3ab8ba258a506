"""A sender gets a 2xx only for a stored alert: a failing commit answers 5xx, stores nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, event
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tests.alerting.conftest import am_alert, am_message
from watchkeeper.alerting import service
from watchkeeper.alerting.models import AlertGroup
from watchkeeper.app import create_app
from watchkeeper.config import Settings
from watchkeeper.db import make_session_factory, session_scope, utcnow


def test_a_failing_commit_is_a_5xx_and_nothing_is_stored(
    committing_engine: Engine, tmp_path: Path
) -> None:
    factory = make_session_factory(committing_engine)
    with session_scope(factory) as session:
        key = service.create_integration(
            session, name="prom", type="alertmanager", now=utcnow()
        ).key
        pd_key = service.create_integration(session, name="pd", type="pagerduty", now=utcnow()).key
    app = create_app(
        Settings(data_dir=tmp_path, run_worker_in_process=False), engine=committing_engine
    )

    def failing_factory() -> Session:
        session = factory()

        def wrote(db_session: Session, _context: Any) -> None:
            db_session.info["wrote"] = True

        def refuse(db_session: Session) -> None:
            if db_session.info.get("wrote"):  # the key look-up writes nothing and commits
                raise RuntimeError("the database went away")

        event.listen(session, "after_flush", wrote)
        event.listen(session, "before_commit", refuse)
        return session

    app.state.session_factory = failing_factory
    with TestClient(app, raise_server_exceptions=False) as client:
        body: Any = am_message(am_alert("a1"))
        response = client.post(f"/api/v1/integrations/{key}/alertmanager", json=body)
        assert response.status_code >= 500
        pd = {
            "routing_key": pd_key,
            "event_action": "trigger",
            "payload": {"summary": "s", "source": "x", "severity": "info"},
        }
        assert client.post("/v2/enqueue", json=pd).status_code >= 500
    with session_scope(factory) as session:
        assert service.list_groups(session) == []


def test_a_clash_with_a_concurrent_intake_is_a_retryable_503_in_each_sender_s_shape(
    committing_engine: Engine, tmp_path: Path
) -> None:
    factory = make_session_factory(committing_engine)
    with session_scope(factory) as session:
        am_key = service.create_integration(
            session, name="prom", type="alertmanager", now=utcnow()
        ).key
        pd_key = service.create_integration(session, name="pd", type="pagerduty", now=utcnow()).key
    app = create_app(
        Settings(data_dir=tmp_path, run_worker_in_process=False), engine=committing_engine
    )

    def racing_factory() -> Session:
        # What PostgreSQL answers the loser of two first notifications of one key.
        session = factory()

        def clash(db_session: Session, _context: Any, _instances: Any) -> None:
            if any(isinstance(row, AlertGroup) for row in db_session.new):
                raise IntegrityError("INSERT INTO alert_group", {}, Exception("uq_open_key"))

        event.listen(session, "before_flush", clash)
        return session

    app.state.session_factory = racing_factory
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.post(
            f"/api/v1/integrations/{am_key}/alertmanager", json=am_message(am_alert("a1"))
        )
        assert response.status_code == 503, response.text
        assert set(response.json()) == {"error", "detail"} and "retry" in response.text
        pd = {
            "routing_key": pd_key,
            "event_action": "trigger",
            "payload": {"summary": "s", "source": "x", "severity": "info"},
        }
        response = client.post("/v2/enqueue", json=pd)
        assert response.status_code == 503, response.text
        assert response.json()["status"] == "retry" and response.json()["errors"]
