"""The notifications API: list with filters, show, retry; tokens and error shapes."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.notify.fakes import AT, page
from watchkeeper.notify import service
from watchkeeper.notify.message import Message
from watchkeeper.notify.models import NotificationStatus


def _add(session: Session, key: str, group: int, status: str = "pending") -> int:
    row = service.enqueue(
        session,
        channel="slack",
        address="https://hooks.slack.example/services/T0/B0/secret-token",
        message=page(group=group),
        idempotency_key=key,
        now=AT,
        recipient="alice",
    )
    row.status = status
    if status == NotificationStatus.FAILED:
        row.last_error = "the receiver answered HTTP 400"
    session.commit()
    return row.id


def test_list_show_and_filter(
    client: TestClient, session: Session, viewer_headers: dict[str, str]
) -> None:
    first = _add(session, "a", 1)
    second = _add(session, "b", 2, "failed")
    listed = client.get("/api/v1/notifications", headers=viewer_headers)
    assert listed.status_code == 200
    assert [n["id"] for n in listed.json()] == [second, first]
    shown = listed.json()[0]
    assert shown["address"] == "https://hooks.slack.example/…"  # the hook's token stays hidden
    assert shown["title"] == page().title
    assert shown["last_error"] == "the receiver answered HTTP 400"
    failed = client.get("/api/v1/notifications?status=failed", headers=viewer_headers).json()
    assert [n["id"] for n in failed] == [second]
    by_group = client.get("/api/v1/notifications?alert_group_id=1", headers=viewer_headers)
    assert [n["id"] for n in by_group.json()] == [first]
    detail = client.get(f"/api/v1/notifications/{first}", headers=viewer_headers).json()
    assert detail["message"]["fields"] == [["Service", "checkout"]]


def test_bad_filter_and_unknown_id_answer_in_the_error_shape(
    client: TestClient, viewer_headers: dict[str, str]
) -> None:
    bad = client.get("/api/v1/notifications?status=lost", headers=viewer_headers)
    assert bad.status_code == 422
    assert bad.json()["error"] == "InvalidNotification"
    assert "status" in bad.json()["detail"]
    missing = client.get("/api/v1/notifications/999999", headers=viewer_headers)
    assert missing.status_code == 404
    assert missing.json() == {
        "error": "NotificationNotFound",
        "detail": "no notification with id 999999",
    }


def test_retry_needs_write_and_a_failed_row(
    client: TestClient,
    session: Session,
    viewer_headers: dict[str, str],
    admin_headers: dict[str, str],
) -> None:
    failed = _add(session, "f", 1, "failed")
    pending = _add(session, "p", 1)
    assert client.post(f"/api/v1/notifications/{failed}/retry").status_code == 401
    denied = client.post(f"/api/v1/notifications/{failed}/retry", headers=viewer_headers)
    assert denied.status_code == 403
    retried = client.post(f"/api/v1/notifications/{failed}/retry", headers=admin_headers)
    assert retried.status_code == 200
    assert (retried.json()["status"], retried.json()["attempts"]) == ("pending", 0)
    conflict = client.post(f"/api/v1/notifications/{pending}/retry", headers=admin_headers)
    assert conflict.status_code == 409
    assert conflict.json()["error"] == "NotRetryable"


def test_metrics_count_notifications_by_channel_and_status(
    client: TestClient, session: Session
) -> None:
    _add(session, "a", 1)
    _add(session, "b", 1, "failed")
    _add(session, "c", 2, "failed")
    body = client.get("/metrics").text
    assert 'watchkeeper_notifications{channel="slack",status="failed"} 2.0' in body
    assert 'watchkeeper_notifications{channel="slack",status="pending"} 1.0' in body


def test_signed_action_links_are_shown_in_full_to_admins_only(
    client: TestClient,
    session: Session,
    viewer_headers: dict[str, str],
    admin_headers: dict[str, str],
) -> None:
    ack = "https://wk.example/actions/ack?group=7&sig=secret-signature"
    row = service.enqueue(
        session,
        channel="console",
        address="stdout",
        message=Message(kind="page", title="t", summary="s", links=(("Acknowledge", ack),)),
        idempotency_key="signed",
        now=AT,
        recipient="alice",
    )
    session.commit()
    seen = client.get(f"/api/v1/notifications/{row.id}", headers=viewer_headers).json()
    assert seen["message"]["links"] == [["Acknowledge", "https://wk.example/…"]]
    assert "secret-signature" not in json.dumps(seen)
    full = client.get(f"/api/v1/notifications/{row.id}", headers=admin_headers).json()
    assert full["message"]["links"] == [["Acknowledge", ack]]


def test_an_alert_group_filter_past_what_an_id_holds_is_refused_naming_it(
    client: TestClient, viewer_headers: dict[str, str]
) -> None:
    # The filter went to the database as it was: an overflow there, answered 500.
    for group in (2**31, 2**80, 0):
        response = client.get(
            "/api/v1/notifications", params={"alert_group_id": group}, headers=viewer_headers
        )
        assert response.status_code == 422, response.text
        assert response.json()["detail"].startswith("query.alert_group_id: ")
