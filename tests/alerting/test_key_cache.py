"""The in-process cache of intake keys: fresh for KEY_CACHE_SECONDS, forgotten at once when
this process disables or deletes the integration."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from tests.alerting.conftest import MakeIntegration, am_alert, am_message
from watchkeeper.alerting import service
from watchkeeper.alerting.exceptions import IntegrationNotFound
from watchkeeper.alerting.models import Integration
from watchkeeper.db import utcnow


def test_disabling_a_key_used_a_moment_ago_refuses_it_at_once(
    client: TestClient, make_integration: MakeIntegration, session_factory: Any
) -> None:
    key = make_integration()
    url = f"/api/v1/integrations/{key}/alertmanager"
    assert client.post(url, json=am_message(am_alert("a1"))).status_code == 200
    with session_factory() as session:
        service.set_disabled(session, name="prom", disabled=True, now=utcnow())
        session.commit()
    assert client.post(url, json=am_message(am_alert("a2"))).status_code == 404
    with session_factory() as session:
        service.set_disabled(session, name="prom", disabled=False, now=utcnow())
        session.commit()
    assert client.post(url, json=am_message(am_alert("a2"))).status_code == 200


def test_deleting_a_key_used_a_moment_ago_refuses_it_at_once(
    client: TestClient, make_integration: MakeIntegration, session_factory: Any
) -> None:
    key = make_integration()
    url = f"/api/v1/integrations/{key}/alertmanager"
    assert client.post(url, json=am_message(am_alert("a1"))).status_code == 200
    with session_factory() as session:
        service.delete_integration(session, name="prom")
        session.commit()
    assert client.post(url, json=am_message(am_alert("a1"))).status_code == 404


def test_a_change_made_by_another_process_is_seen_once_the_entry_expires(
    make_integration: MakeIntegration, session_factory: Any
) -> None:
    key = make_integration()
    with session_factory() as session:
        found = service.intake_integration(session, key=key, at=1000.0)
        assert found.name == "prom"
        # Another process disables it: this process's cache is not told.
        session.execute(update(Integration).values(disabled_at=utcnow()))
        session.commit()
    fresh = 1000.0 + service.KEY_CACHE_SECONDS / 2
    assert service.cached_intake_integration(key=key, at=fresh) is not None
    expired = 1000.0 + service.KEY_CACHE_SECONDS
    assert service.cached_intake_integration(key=key, at=expired) is None
    with session_factory() as session, pytest.raises(IntegrationNotFound):
        service.intake_integration(session, key=key, at=expired)
