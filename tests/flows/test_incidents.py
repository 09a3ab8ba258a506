"""Incidents from alerting: auto-declare by routing rule, merged timeline, all groups resolved."""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta

import pytest
from sqlalchemy import Engine, event
from sqlalchemy.orm import Session, sessionmaker

from tests.incident.conftest import NOW, fire
from watchkeeper.alerting import incident_feed, intake, routing
from watchkeeper.alerting import service as alerting_service
from watchkeeper.alerting.exceptions import InvalidRoutes
from watchkeeper.alerting.schemas import ChangeEventIn, ChangePayload
from watchkeeper.auth import people
from watchkeeper.config import Settings
from watchkeeper.errors import Conflict
from watchkeeper.flows import incidents as flow
from watchkeeper.incident import declaration
from watchkeeper.incident import detail as incident_detail
from watchkeeper.incident import links as incident_links
from watchkeeper.incident import service as incidents
from watchkeeper.incident.exceptions import GroupAlreadyInIncident
from watchkeeper.oncall import service as oncall
from watchkeeper.oncall.documents import read_text
from watchkeeper.worker import Worker

MINUTE = timedelta(minutes=1)
ROUTES = [
    {"name": "db pages open incidents", "match": ['service="db"'], "incident": "sev2"},
    {"name": "the rest", "match": []},
]


def test_routing_rule_incident_is_checked_against_the_severities(session: Session) -> None:
    with pytest.raises(InvalidRoutes, match=r"routes\[0\]\.incident: .*SEV9"):
        flow.apply_routes(session, rules=[{"match": [], "incident": "SEV9"}])
    with pytest.raises(InvalidRoutes, match=r"routes\[0\]\.incident"):
        routing.apply(session, rules=[{"match": [], "incident": "SEV2"}])  # no validator
    (rule, _) = flow.apply_routes(session, rules=ROUTES)
    assert rule.incident == "SEV2"  # the configured spelling


def test_auto_declare_once_per_group(session: Session) -> None:
    flow.apply_routes(session, rules=ROUTES)
    db = fire(session, "db down", service="db", at=NOW - 5 * MINUTE)
    api = fire(session, "api slow", service="api", at=NOW - 5 * MINUTE)
    assert alerting_service.get_group(session, group_id=api).incident_severity is None
    (incident_id,) = flow.declare_pending(session, now=NOW)
    incident = incidents.get(session, incident_id)
    assert (incident.title, incident.service, incident.severity) == ("db down", "db", "SEV2")
    assert incident.started_at == NOW - 5 * MINUTE
    assert incident_links.alert_group_ids(session, incident_id) == [db]
    assert alerting_service.get_group(session, group_id=db).incident_id == incident_id
    # Idempotent: the next passes find nothing to do.
    assert flow.declare_pending(session, now=NOW + MINUTE) == []
    assert len(incidents.list_incidents(session)) == 1


def test_auto_declare_skips_groups_already_in_an_open_incident(session: Session) -> None:
    flow.apply_routes(session, rules=ROUTES)
    db = fire(session, "db down", service="db")
    by_hand = declaration.declare_from_alert_group(
        session, alert_group_id=db, severity="SEV1", actor="ann", now=NOW
    )
    with pytest.raises(GroupAlreadyInIncident, match=f"#{by_hand.id}"):
        declaration.declare_from_alert_group(
            session, alert_group_id=db, severity="SEV3", actor="bob", now=NOW
        )
    assert flow.declare_pending(session, now=NOW) == []
    assert alerting_service.get_group(session, group_id=db).incident_id == by_hand.id


def test_a_removed_severity_is_logged_not_retried(session: Session) -> None:
    flow.apply_routes(session, rules=ROUTES)
    db = fire(session, "db down", service="db")
    alerting_service.get_group(session, group_id=db).incident_severity = "SEV9"
    assert flow.declare_pending(session, now=NOW) == []
    group = alerting_service.get_group(session, group_id=db)
    assert group.incident_severity is None
    detail = alerting_service.group_detail(session, group_id=db)
    assert "incident_failed" in {entry["kind"] for entry in detail["log"]}


def _break_declaring_for(monkeypatch: pytest.MonkeyPatch, broken_group: int) -> None:
    """Make declaring fail with an unexpected error for one group only."""
    real = declaration.declare_from_alert_group

    def declare(session: Session, *, alert_group_id: int, **kwargs: object) -> object:
        if alert_group_id == broken_group:
            raise RuntimeError("disk on fire")
        return real(session, alert_group_id=alert_group_id, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(declaration, "declare_from_alert_group", declare)


def _failed_kinds(session: Session, group_id: int) -> list[str]:
    detail = alerting_service.group_detail(session, group_id=group_id)
    return [entry["kind"] for entry in detail["log"] if entry["kind"] == "incident_failed"]


def test_an_unexpected_error_gives_up_that_group_only(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    flow.apply_routes(session, rules=ROUTES)
    broken = fire(session, "db down", service="db")
    healthy = fire(session, "db slow", service="db")
    _break_declaring_for(monkeypatch, broken)
    (incident_id,) = flow.declare_pending(session, now=NOW)
    assert incident_links.alert_group_ids(session, incident_id) == [healthy]
    assert alerting_service.get_group(session, group_id=broken).incident_severity is None
    assert _failed_kinds(session, broken) == ["incident_failed"]
    assert flow.declare_pending(session, now=NOW + MINUTE) == []  # not retried


def test_the_worker_commits_each_group_and_goes_on_after_a_failure(
    settings: Settings,
    session_factory: sessionmaker[Session],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    with session_factory() as session:
        flow.apply_routes(session, rules=ROUTES)
        broken = fire(session, "db down", service="db")
        healthy = fire(session, "db slow", service="db")
        session.commit()
    _break_declaring_for(monkeypatch, broken)
    worker = Worker(settings, session_factory, clock=lambda: NOW)
    with caplog.at_level(logging.WARNING, logger="watchkeeper.incidents"):
        (incident_id,) = worker.incidents_once(NOW)
    assert f"alert group {broken}: declaring failed" in caplog.messages
    assert worker.incidents_once(NOW + MINUTE) == []
    with session_factory() as session:
        assert incident_links.alert_group_ids(session, incident_id) == [healthy]
        assert _failed_kinds(session, broken) == ["incident_failed"]
        assert alerting_service.get_group(session, group_id=healthy).incident_id == incident_id


def test_timeline_merges_group_logs_and_changes(session: Session) -> None:
    group = fire(session, "db down", service="db", at=NOW - 10 * MINUTE)
    source = alerting_service.get_integration(session, name="hooks")
    for minutes, summary in ((90, "too early"), (30, "deploy v2"), (-30, "after the end")):
        intake.ingest_change(
            session,
            integration=source,
            event=ChangeEventIn(
                routing_key=source.key,
                payload=ChangePayload(
                    summary=summary,
                    timestamp=NOW - minutes * MINUTE,
                    custom_details={"service": "db"},
                ),
            ),
            now=NOW,
        )
    incident = declaration.declare_from_alert_group(
        session, alert_group_id=group, severity="SEV2", actor="ann", now=NOW
    )
    alerting_service.acknowledge(session, group_id=group, actor="ann", now=NOW + MINUTE)
    incidents.resolve(session, incident_id=incident.id, actor="ann", now=NOW + 2 * MINUTE)
    detail = incident_detail.show(session, incident_id=incident.id, now=NOW + 60 * MINUTE)
    entries = [(e.source, e.kind, e.text) for e in detail.timeline]
    assert ("change", "change", "deploy v2") in entries
    assert not any(text in ("too early", "after the end") for _, _, text in entries)
    assert (
        "alert_group",
        "alert",
        f"alert group #{group}: acknowledged",
    ) in entries
    assert [e.at for e in detail.timeline] == sorted(e.at for e in detail.timeline)
    # Resolving the incident leaves its alert groups alone.
    assert alerting_service.get_group(session, group_id=group).resolved_at is None


def test_all_groups_resolved_is_noted_once(session: Session) -> None:
    first = fire(session, "db down", service="db")
    second = fire(session, "db slow", service="db")
    incident = declaration.declare(
        session,
        title="db",
        severity="SEV2",
        actor="ann",
        now=NOW,
        alert_group_ids=[first, second],
    )
    fire(session, "db down", service="db", state="resolved", at=NOW + MINUTE)
    assert flow.note_resolved_groups(session, now=NOW + MINUTE) == []
    fire(session, "db slow", service="db", state="resolved", at=NOW + 2 * MINUTE)
    assert flow.note_resolved_groups(session, now=NOW + 3 * MINUTE) == [incident.id]
    assert flow.note_resolved_groups(session, now=NOW + 4 * MINUTE) == []
    notes = [
        e
        for e in incidents.timeline(session, incident.id)
        if e.details and e.details.get(flow.ALL_RESOLVED)
    ]
    assert len(notes) == 1 and notes[0].at == NOW + 2 * MINUTE
    assert incidents.get(session, incident.id).status == "investigating"


def test_the_worker_declares_in_its_incident_loop_and_survives_a_failing_pass(
    settings: Settings,
    session_factory: sessionmaker[Session],
    caplog: pytest.LogCaptureFixture,
) -> None:
    with session_factory() as session:
        flow.apply_routes(session, rules=ROUTES)
        group = fire(session, "db down", service="db")
        session.commit()
    stop = threading.Event()
    calls: list[int] = []

    def clock() -> datetime:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("clock broke")  # the first pass fails
        if len(calls) == 3:
            stop.set()  # the third pass is the last
        return NOW

    fast = settings.model_copy(update={"incident_declare_seconds": 0.001})
    worker = Worker(fast, session_factory, clock=clock)
    with caplog.at_level(logging.ERROR, logger="watchkeeper.incidents"):
        worker.incidents_forever(stop)
    assert len(calls) == 3
    assert caplog.messages == ["incident pass failed"]
    with session_factory() as session:
        (incident_id,) = incident_links.open_incidents_of_group(session, alert_group_id=group)
        assert incident_links.alert_group_ids(session, incident_id.id) == [group]
        assert len(incidents.list_incidents(session)) == 1


def test_finding_resolved_incidents_is_one_query_whatever_is_open(
    session: Session, engine: Engine
) -> None:
    for number in range(12):
        group = fire(session, f"db down {number}", service="db")
        declaration.declare(
            session, title="db", severity="SEV2", actor="ann", now=NOW, alert_group_ids=[group]
        )
    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    event.listen(engine, "before_cursor_execute", count)
    try:
        assert flow.note_resolved_groups(session, now=NOW) == []
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(statements) == 1


def test_a_group_linked_after_the_note_is_noted_again_when_it_resolves(session: Session) -> None:
    first = fire(session, "db down", service="db")
    incident = declaration.declare(
        session, title="db", severity="SEV2", actor="ann", now=NOW, alert_group_ids=[first]
    )
    fire(session, "db down", service="db", state="resolved", at=NOW + MINUTE)
    assert flow.note_resolved_groups(session, now=NOW + MINUTE) == [incident.id]
    second = fire(session, "db slow", service="db", at=NOW + 2 * MINUTE)
    incident_links.link_alert_group(
        session, incident_id=incident.id, alert_group_id=second, actor="ann", now=NOW
    )
    assert flow.note_resolved_groups(session, now=NOW + 3 * MINUTE) == []
    fire(session, "db slow", service="db", state="resolved", at=NOW + 4 * MINUTE)
    assert flow.note_resolved_groups(session, now=NOW + 5 * MINUTE) == [incident.id]
    assert flow.note_resolved_groups(session, now=NOW + 6 * MINUTE) == []
    notes = [
        e.details
        for e in incidents.timeline(session, incident.id)
        if e.details and e.details.get(flow.ALL_RESOLVED)
    ]
    assert [n["alert_group_ids"] for n in notes] == [[first], [first, second]]


def test_the_commander_is_whom_the_first_step_reaches(session: Session) -> None:
    people.create_user(session, name="ann", role="editor", email="ann@example.com", now=NOW)
    oncall.apply(
        session,
        documents=read_text(
            "kind: EscalationPolicy\nname: db-oncall\n"
            "steps:\n  - wait: 5m\n    targets: [{user: ann}]\n",
            "team.yaml",
        ),
        now=NOW,
    )
    flow.apply_routes(
        session,
        rules=[{"match": ['service="db"'], "escalation_policy": "db-oncall", "incident": "SEV1"}],
    )
    fire(session, "db down", service="db")
    (incident_id,) = flow.declare_pending(session, now=NOW)
    roles = incidents.roles(session, incident_id)
    assert [(r.role, r.user_name) for r in roles] == [("commander", "ann")]


def test_a_worker_with_a_stale_read_does_not_note_twice(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    group = fire(session, "db down", service="db")
    incident = declaration.declare(
        session, title="db", severity="SEV2", actor="ann", now=NOW, alert_group_ids=[group]
    )
    fire(session, "db down", service="db", state="resolved", at=NOW + MINUTE)
    # Two workers read the same candidates before either wrote its note.
    stale = incident_links.all_groups_resolved(session)
    assert [incident_id for incident_id, _ in stale] == [incident.id]
    assert flow.note_resolved_groups(session, now=NOW + 2 * MINUTE) == [incident.id]
    monkeypatch.setattr(incident_links, "all_groups_resolved", lambda _session: stale)
    assert flow.note_resolved_groups(session, now=NOW + 2 * MINUTE) == []
    notes = [e for e in incidents.timeline(session, incident.id) if e.details]
    assert sum(1 for e in notes if e.details and e.details.get(flow.ALL_RESOLVED)) == 1


def test_declaring_by_hand_claims_the_group_and_refuses_one_in_an_open_incident(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = fire(session, "db down", service="db")
    first = declaration.declare(
        session, title="db", severity="SEV2", actor="ann", now=NOW, alert_group_ids=[db]
    )
    # The --title path (declare with groups) checks as declaring from the group does.
    with pytest.raises(GroupAlreadyInIncident, match=f"#{first.id}"):
        declaration.declare(
            session, title="again", severity="SEV2", actor="bob", now=NOW, alert_group_ids=[db]
        )
    other = fire(session, "db slow", service="db")
    claimed: list[int] = []
    real = incident_feed.lock_for_incident

    def lock(session: Session, *, group_id: int) -> object:
        claimed.append(group_id)
        return real(session, group_id=group_id)

    monkeypatch.setattr(incident_feed, "lock_for_incident", lock)
    declaration.declare_from_alert_group(
        session, alert_group_id=other, severity="SEV3", actor="ann", now=NOW
    )
    assert claimed == [other]
    monkeypatch.setattr(incident_feed, "lock_for_incident", lambda _s, *, group_id: None)
    third = fire(session, "db gone", service="db")
    with pytest.raises(Conflict, match="being declared by the worker"):
        declaration.declare_from_alert_group(
            session, alert_group_id=third, severity="SEV3", actor="ann", now=NOW
        )
