"""Alert noise per service and pages by business / off / sleep hours per responder."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.orm import Session, sessionmaker

from tests.incident.conftest import NOW, fire
from watchkeeper.alerting import service as alerting_service
from watchkeeper.auth import people
from watchkeeper.db import utcnow
from watchkeeper.errors import InvalidInput
from watchkeeper.incident import burden
from watchkeeper.notify import service as notify_service
from watchkeeper.notify.message import Message

H = timedelta(hours=1)


def _page(session: Session, user: str, at: datetime, key: str, *, kind: str = "page") -> None:
    notify_service.enqueue(
        session,
        channel="console",
        address=user,
        message=Message(kind=kind, title="db down", summary="db down"),
        idempotency_key=key,
        now=at,
        recipient=user,
    )


def test_alert_noise_per_service(session: Session) -> None:
    start = NOW - 5 * H
    fire(session, "flap", service="db", at=start)
    fire(session, "flap", service="db", state="resolved", at=start + H)  # source resolved
    acked = fire(session, "real", service="db", at=start)
    alerting_service.acknowledge(session, group_id=acked, actor="ann", now=start + H)
    fire(session, "real", service="db", state="resolved", at=start + 2 * H)
    by_hand = fire(session, "ignored", service="db", at=start)
    alerting_service.resolve(session, group_id=by_hand, actor="ann", now=start + H)
    fire(session, "still open", service="web", at=start)
    fire(session, "too old", service="web", at=start - 10 * H)
    (db, web) = burden.alert_noise(session, since=start, until=NOW)
    assert (db.service, db.groups, db.auto_resolved_unacknowledged, db.never_acknowledged) == (
        "db",
        3,
        1,
        2,
    )
    assert db.auto_resolved_ratio == pytest.approx(1 / 3)
    assert db.never_acknowledged_ratio == pytest.approx(2 / 3)
    assert (web.groups, web.auto_resolved_unacknowledged, web.never_acknowledged) == (1, 0, 1)
    with pytest.raises(InvalidInput, match="since"):
        burden.alert_noise(session, since=NOW, until=NOW)


def test_pages_by_hours_in_each_responders_zone(session: Session) -> None:
    people.create_user(session, name="ann", role="editor", now=NOW, time_zone="Europe/Berlin")
    people.create_user(session, name="bob", role="editor", now=NOW, time_zone="America/New_York")
    monday = datetime(2026, 11, 23, tzinfo=UTC)
    since, until = monday, monday + 7 * 24 * H
    # Monday 08:30 UTC: 09:30 in Berlin (business), 03:30 in New York (sleep).
    _page(session, "ann", monday + 8.5 * H, "1")
    _page(session, "bob", monday + 8.5 * H, "2")
    # Monday 19:00 UTC: 20:00 in Berlin (off), 14:00 in New York (business).
    _page(session, "ann", monday + 19 * H, "3")
    _page(session, "bob", monday + 19 * H, "4")
    # Not counted: a reminder, a page before the period.
    _page(session, "ann", monday + 19 * H, "5", kind="reminder")
    _page(session, "ann", monday - H, "6")
    (ann, bob) = burden.pages_by_hours(session, since=since, until=until)
    assert (ann.responder, ann.business, ann.off, ann.sleep, ann.total) == ("ann", 1, 1, 0, 2)
    assert (bob.responder, bob.business, bob.off, bob.sleep) == ("bob", 1, 0, 1)
    assert bob.time_zone == "America/New_York"


def test_burden_on_the_api_and_metrics(
    client: TestClient, viewer_headers: dict[str, str], session_factory: sessionmaker[Session]
) -> None:
    now = utcnow()
    with session_factory() as session:
        people.create_user(session, name="cat", role="editor", now=now, time_zone="UTC")
        fire(session, "flap", service="db", at=now - H)
        fire(session, "flap", service="db", state="resolved", at=now - H / 2)
        _page(session, "cat", now - H, "page-1")
        session.commit()
    report = client.get("/api/v1/incidents/metrics", headers=viewer_headers).json()
    assert report["alert_noise"] == [
        {
            "service": "db",
            "groups": 1,
            "auto_resolved_unacknowledged": 1,
            "never_acknowledged": 1,
            "auto_resolved_ratio": 1.0,
            "never_acknowledged_ratio": 1.0,
        }
    ]
    (pages,) = report["pages"]
    assert (pages["responder"], pages["total"]) == ("cat", 1)
    text = client.get("/metrics").text
    families = {f.name: f for f in text_string_to_metric_families(text)}
    (noise,) = families["watchkeeper_alert_groups_noise_ratio"].samples
    assert (noise.labels, noise.value) == ({"service": "db"}, 1.0)
    paged = {
        s.labels["hours"]: s.value
        for s in families["watchkeeper_pages"].samples
        if s.labels["responder"] == "cat"
    }
    assert sum(paged.values()) == 1 and set(paged) == {"business", "off", "sleep"}
