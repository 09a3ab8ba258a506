"""Fixtures of the alerting tests: integrations and Alertmanager notifications."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from watchkeeper.alerting import service
from watchkeeper.db import utcnow

MakeIntegration = Callable[..., str]


@pytest.fixture
def make_integration(session_factory: sessionmaker[Session]) -> MakeIntegration:
    """Create (and commit) an integration; returns its key."""

    def make(name: str = "prom", type: str = "alertmanager", **options: Any) -> str:
        with session_factory() as session:
            integration = service.create_integration(
                session, name=name, type=type, now=utcnow(), **options
            )
            session.commit()
            return integration.key

    return make


def am_alert(
    fingerprint: str,
    status: str = "firing",
    *,
    starts_at: str = "2026-01-01T10:00:00Z",
    ends_at: str = "0001-01-01T00:00:00Z",
    **labels: str,
) -> dict[str, Any]:
    """One alert as Alertmanager's webhook sends it."""
    return {
        "status": status,
        "labels": {"alertname": "HighErrors", "service": "checkout", **labels},
        "annotations": {"summary": "errors are high"},
        "startsAt": starts_at,
        "endsAt": ends_at,
        "generatorURL": "http://prometheus/graph",
        "fingerprint": fingerprint,
    }


def am_message(
    *alerts: dict[str, Any], group_key: str = '{}:{alertname="HighErrors"}', truncated: int = 0
) -> dict[str, Any]:
    """An Alertmanager webhook v4 body around ``alerts``."""
    firing = any(a["status"] == "firing" for a in alerts)
    return {
        "version": "4",
        "groupKey": group_key,
        "truncatedAlerts": truncated,
        "status": "firing" if firing else "resolved",
        "receiver": "watchkeeper",
        "groupLabels": {"alertname": "HighErrors"},
        "commonLabels": {"alertname": "HighErrors", "service": "checkout", "severity": "critical"},
        "commonAnnotations": {"summary": "errors are high"},
        "externalURL": "http://alertmanager:9093",
        "alerts": list(alerts),
    }
