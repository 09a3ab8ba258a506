"""POST /api/v1/slos/{service}/{name}/backfill: editors recompute history from the source."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tests.cli.test_backfill_cli import BUILT_IN
from tests.sources.model import SPEC, ModelPrometheus
from watchkeeper.db import utcnow
from watchkeeper.events import service as events_service
from watchkeeper.sources import registry as sources

SLOS = "/api/v1/slos"
YAML = {"Content-Type": "application/yaml"}


def test_an_editor_backfills_from_the_event_store(
    client: TestClient,
    admin_headers: dict[str, str],
    viewer_headers: dict[str, str],
    session_factory: sessionmaker[Session],
) -> None:
    assert client.post(SLOS, content=BUILT_IN, headers={**admin_headers, **YAML}).status_code == 200
    now = utcnow()
    with session_factory() as session:
        rows = [
            {
                "time": (now - timedelta(minutes=m)).timestamp(),
                "sli": "shop-requests",
                "good": 9,
                "total": 10,
            }
            for m in range(1, 50)
        ]
        events_service.ingest(session, rows, now=now)
        session.commit()
    url = f"{SLOS}/shop/checkout/backfill"
    assert client.post(url, headers=viewer_headers).status_code == 403
    response = client.post(url, headers=admin_headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["key"] == "shop/checkout" and body["source"] == "watchkeeper"
    assert body["points"] == 12
    history = client.get(
        f"{SLOS}/shop/checkout/history",
        params={"since": (now - timedelta(hours=1)).isoformat()},
        headers=viewer_headers,
    )
    assert len(history.json()) == 12
    assert history.json()[-1]["sli"] == 0.9


def test_backfill_errors_are_json(
    client: TestClient, admin_headers: dict[str, str], session_factory: sessionmaker[Session]
) -> None:
    assert client.post(SLOS, content=SPEC, headers={**admin_headers, **YAML}).status_code == 200
    url = f"{SLOS}/api/availability/backfill"
    unconfigured = client.post(url, headers=admin_headers)
    assert unconfigured.status_code == 409
    assert unconfigured.json()["error"] == "SourceNotConfigured"
    sources.configure(session_factory, ModelPrometheus(down=True).registry())
    down = client.post(url, headers=admin_headers)
    assert down.status_code == 503
    assert down.json()["error"] == "SourceUnreachable"
    assert down.json()["detail"].startswith("source unreachable: SLO 'api/availability'")
    late = client.post(url, params={"from": "2030-01-01T00:00:00"}, headers=admin_headers)
    assert late.status_code == 422
