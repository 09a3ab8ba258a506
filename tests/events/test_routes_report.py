"""``POST /api/v1/events``: values and counts out of range are a 422 naming the event and
field, and one 422 body lists bad events and unknown SLI names together, bounded."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from watchkeeper.events.models import SLIBucket

T0 = 1_795_428_000
DIGITS_400 = "1" + "0" * 400
VALID_VALUE = f'{{"time": {T0}, "sli": "latency", "value": 0.1}}'
VALID_COUNTS = f'{{"time": {T0}, "sli": "checkout", "good": 1, "total": 1}}'


@pytest.fixture
def headers(ingest_headers: dict[str, str]) -> dict[str, str]:
    """An ingest token's headers for a JSON body."""
    return {**ingest_headers, "Content-Type": "application/json"}


def count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(SLIBucket)) or 0


@pytest.mark.parametrize(
    ("literal", "message"),
    [
        (DIGITS_400, "must be a finite number, got 100000000000...0000 (401 digits)"),
        ("1e400", "must be a finite number, got inf"),
        ("NaN", "must be a finite number, got nan"),
        ("Infinity", "must be a finite number, got inf"),
        ("-Infinity", "must be a finite number, got -inf"),
    ],
)
def test_values_beyond_float_range_are_422(
    client: TestClient,
    session: Session,
    registered: None,
    headers: dict[str, str],
    literal: str,
    message: str,
) -> None:
    # A valid event of the same SLI first, so the bad one meets the fast path.
    bad = f'{{"time": {T0}, "sli": "latency", "value": {literal}}}'
    body = f'{{"events": [{VALID_VALUE}, {bad}]}}'
    response = client.post("/api/v1/events", content=body, headers=headers)
    assert response.status_code == 422, response.text
    assert response.json()["errors"] == [{"index": 1, "field": "value", "message": message}]
    assert count(session) == 0


@pytest.mark.parametrize(
    ("good", "total", "field", "message"),
    [
        ("1", DIGITS_400, "total", "is too large: 100000000000...0000 (401 digits) is over"),
        ("1", str(2**63), "total", f"is too large: {2**63} is over"),
        ("-1", "1", "good", "must not be negative, got -1"),
        ("0.5", "1", "good", "must be an integer, got 0.5"),
        ("1", "true", "total", "must be a non-negative integer, got true"),
    ],
)
def test_counts_that_do_not_fit_are_422(
    client: TestClient,
    session: Session,
    registered: None,
    headers: dict[str, str],
    good: str,
    total: str,
    field: str,
    message: str,
) -> None:
    bad = f'{{"time": {T0}, "sli": "checkout", "good": {good}, "total": {total}}}'
    response = client.post("/api/v1/events", content=f"[{VALID_COUNTS}, {bad}]", headers=headers)
    assert response.status_code == 422, response.text
    [error] = response.json()["errors"]
    assert (error["index"], error["field"]) == (1, field)
    assert error["message"].startswith(message)
    assert count(session) == 0


def test_bad_events_and_unknown_names_in_one_body(
    client: TestClient, session: Session, registered: None, headers: dict[str, str]
) -> None:
    events = [
        {"time": T0, "sli": "checkout", "good": 1, "total": 1},
        {"time": T0, "sli": "checkout", "good": 3, "total": 2},
        {"time": T0, "sli": "checkuot", "good": 1, "total": 1},
        {"time": "later", "sli": "checkuot", "good": 1, "total": 1},
    ]
    response = client.post("/api/v1/events", json=events, headers=headers)
    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "InvalidEvents"
    assert [(e["index"], e["field"]) for e in body["errors"]] == [(1, "good"), (3, "time")]
    assert body["unknown"] == ["checkuot"]
    assert body["unknown_slis"] == [
        {"sli": "checkuot", "count": 2, "indexes": [2, 3], "did_you_mean": "checkout"}
    ]
    assert body["detail"].startswith("2 invalid events and 1 unknown SLI name; first: event 1:")
    assert count(session) == 0


def test_only_unknown_names_keep_the_unknown_sli_error(
    client: TestClient, session: Session, registered: None, headers: dict[str, str]
) -> None:
    events = [{"time": T0, "sli": "checkuot", "good": 1, "total": 1}]
    response = client.post("/api/v1/events", json=events, headers=headers)
    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "UnknownSLI"
    assert body["errors"] == []
    assert body["unknown"] == ["checkuot"]
    assert "did you mean 'checkout'" in body["detail"]


def test_the_error_body_is_bounded(
    client: TestClient, session: Session, registered: None, headers: dict[str, str]
) -> None:
    events = [{"time": T0, "sli": "checkout", "good": 2, "total": 1}] * 4000
    events += [{"time": T0, "sli": f"other-{i}", "value": 1} for i in range(3000)]
    response = client.post("/api/v1/events", json=events, headers=headers)
    assert response.status_code == 422
    body = response.json()
    assert (len(body["errors"]), body["errors_omitted"]) == (50, 3950)
    assert (len(body["unknown"]), body["unknown_omitted"]) == (50, 2950)
    assert len(body["unknown_slis"]) == 50
    assert len(response.content) < 20_000
    assert count(session) == 0


@pytest.mark.parametrize(
    "name", ["\ud800", "check\x00out", "a\nb"], ids=["surrogate", "nul", "newline"]
)
def test_an_sli_name_that_is_not_printable_text_is_a_row_problem(
    client: TestClient, headers: dict[str, str], name: str
) -> None:
    body = json.dumps({"events": [{"time": T0, "sli": name, "good": 1, "total": 1}]})
    response = client.post("/api/v1/events", content=body.encode(), headers=headers)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "sli"
    assert "must be printable text" in response.json()["errors"][0]["message"]


def test_long_unknown_names_are_clipped_in_the_answer(
    client: TestClient, headers: dict[str, str], registered: None
) -> None:
    names = [f"{i}-" + "x" * 150_000 for i in range(20)]
    body = {"events": [{"time": T0, "sli": name, "good": 1, "total": 1} for name in names]}
    response = client.post("/api/v1/events", json=body, headers=headers)
    assert response.status_code == 422
    assert len(response.content) < 40_000  # not the 3 MB of names sent
    answer = response.json()
    assert len(answer["unknown"]) == 20
    assert answer["unknown"][0] == "0-" + "x" * 198 + "... (150,002 characters)"
    assert answer["unknown_slis"][0]["sli"] == answer["unknown"][0]
