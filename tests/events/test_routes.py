"""``POST /api/v1/events``: authentication, limits, error bodies and storage."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from watchkeeper.config import Settings
from watchkeeper.events.models import SLIBucket

T0 = 1_795_428_000
MAX_BATCH = 5


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """App settings with a small batch limit, so 413 is cheap to reach."""
    return Settings(data_dir=tmp_path, run_worker_in_process=False, max_event_batch=MAX_BATCH)


def buckets(session: Session) -> list[tuple[int, int, int]]:
    query = select(SLIBucket.start, SLIBucket.good, SLIBucket.total).order_by(SLIBucket.start)
    return [tuple(row) for row in session.execute(query)]  # type: ignore[misc]


def count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(SLIBucket)) or 0


EVENTS = [
    {"time": "2026-11-23T10:00:00Z", "sli": "checkout", "good": 9, "total": 10},
    {"time": T0 + 30, "sli": "checkout", "good": 1, "total": 1},
    {"time": T0 + 61, "sli": "latency", "value": 0.1},
    {"time": T0 + 62, "sli": "latency", "value": 0.9},
]


def test_events_are_stored(
    client: TestClient, session: Session, registered: None, ingest_headers: dict[str, str]
) -> None:
    response = client.post("/api/v1/events", json={"events": EVENTS}, headers=ingest_headers)
    assert response.status_code == 200, response.text
    assert response.json() == {"accepted": 4, "buckets": 2}
    assert buckets(session) == [(T0, 10, 11), (T0 + 60, 1, 2)]
    registry = client.app.state.metrics.registry  # type: ignore[attr-defined]
    assert registry.get_sample_value("watchkeeper_events_ingested_total") == 4


def test_a_bare_array_body_and_an_admin_token_work(
    client: TestClient, session: Session, registered: None, admin_headers: dict[str, str]
) -> None:
    response = client.post("/api/v1/events", json=EVENTS[:1], headers=admin_headers)
    assert response.status_code == 200
    assert response.json() == {"accepted": 1, "buckets": 1}


def test_missing_or_invalid_token_is_401(
    client: TestClient, session: Session, registered: None
) -> None:
    response = client.post("/api/v1/events", json=EVENTS)
    assert response.status_code == 401
    assert response.json()["error"] == "MissingToken"
    bad = {"Authorization": "Bearer wk_not_a_token"}
    assert client.post("/api/v1/events", json=EVENTS, headers=bad).status_code == 401
    assert count(session) == 0


def test_a_read_only_token_is_403(
    client: TestClient, session: Session, registered: None, viewer_headers: dict[str, str]
) -> None:
    response = client.post("/api/v1/events", json=EVENTS, headers=viewer_headers)
    assert response.status_code == 403
    assert response.json()["error"] == "RoleNotAllowed"
    assert count(session) == 0


def test_too_many_events_is_413(
    client: TestClient, session: Session, registered: None, ingest_headers: dict[str, str]
) -> None:
    events = [EVENTS[1]] * (MAX_BATCH + 1)
    response = client.post("/api/v1/events", json=events, headers=ingest_headers)
    assert response.status_code == 413
    body = response.json()
    assert body["error"] == "BatchTooLarge"
    assert f"at most {MAX_BATCH}" in body["detail"]
    assert count(session) == 0


def test_an_oversized_body_is_413_before_parsing(
    client: TestClient, registered: None, ingest_headers: dict[str, str]
) -> None:
    body = b"[" + b" " * (MAX_BATCH * 1024 + 10) + b"]"
    response = client.post(
        "/api/v1/events",
        content=body,
        headers={**ingest_headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 413


def test_invalid_events_are_422_with_per_event_errors(
    client: TestClient, session: Session, registered: None, ingest_headers: dict[str, str]
) -> None:
    events = [
        EVENTS[0],
        {"time": "2026-11-23T10:00:00", "sli": "checkout", "good": 1, "total": 1},
        {"time": T0, "sli": "checkout", "good": 3, "total": 2},
        {"time": T0, "sli": "latency", "good": 1, "total": 1},
    ]
    response = client.post("/api/v1/events", json={"events": events}, headers=ingest_headers)
    assert response.status_code == 422
    registry = client.app.state.metrics.registry  # type: ignore[attr-defined]
    assert registry.get_sample_value("watchkeeper_ingest_rejected_batches_total") == 1
    body = response.json()
    assert body["error"] == "InvalidEvents"
    assert body["detail"].startswith("3 invalid events; first: event 1: time:")
    assert body["errors"] == [
        {
            "index": 1,
            "field": "time",
            "message": "time '2026-11-23T10:00:00' has no UTC offset: add Z or +HH:MM",
        },
        {"index": 2, "field": "good", "message": "good (3) exceeds total (2)"},
        {
            "index": 3,
            "field": "good",
            "message": "SLI 'latency' takes observations: send value, not good and total",
        },
    ]
    assert count(session) == 0


def test_kind_mismatch_is_422_with_its_index(
    client: TestClient, session: Session, registered: None, ingest_headers: dict[str, str]
) -> None:
    events = [EVENTS[0], {"time": T0, "sli": "latency", "good": 1, "total": 1}]
    response = client.post("/api/v1/events", json=events, headers=ingest_headers)
    assert response.status_code == 422
    assert response.json()["errors"][0]["index"] == 1
    assert count(session) == 0


def test_unknown_sli_is_422(
    client: TestClient, session: Session, registered: None, ingest_headers: dict[str, str]
) -> None:
    events = [EVENTS[0], {**EVENTS[0], "sli": "checkuot"}]
    response = client.post("/api/v1/events", json=events, headers=ingest_headers)
    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "UnknownSLI"
    assert body["unknown"] == ["checkuot"]
    assert "did you mean 'checkout'" in body["detail"]
    assert count(session) == 0


@pytest.mark.parametrize("content", [b"{not json", b'{"events": 5}', b'"text"', b'{"evnts": []}'])
def test_malformed_bodies_are_422(
    client: TestClient, registered: None, ingest_headers: dict[str, str], content: bytes
) -> None:
    response = client.post(
        "/api/v1/events",
        content=content,
        headers={**ingest_headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 422
    assert response.json()["error"] == "InvalidInput"


def test_openapi_documents_the_body(client: TestClient) -> None:
    operation = client.get("/openapi.json").json()["paths"]["/api/v1/events"]["post"]
    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    batch, array = schema["oneOf"]
    assert set(batch["properties"]["events"]["items"]["properties"]) >= {
        "time",
        "sli",
        "good",
        "total",
        "value",
    }
    assert array["type"] == "array"


def test_a_deeply_nested_body_is_a_422(client: TestClient, admin_headers: dict[str, str]) -> None:
    response = client.post(
        "/api/v1/events",
        content="[" * 5_000,
        headers={**admin_headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 422
    assert "nested too deeply" in response.json()["detail"]
