"""The audit log: one row per change of a tracked table, made by a named actor, in the same
transaction; secrets masked; nothing without an actor."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.alerting.conftest import am_alert, am_message
from watchkeeper.alerting import intake
from watchkeeper.alerting import service as alerting
from watchkeeper.alerting.schemas import AlertmanagerMessage
from watchkeeper.auth import audit, people, teams
from watchkeeper.auth import service as tokens
from watchkeeper.auth.audit import Actor
from watchkeeper.auth.models import AuditEvent
from watchkeeper.auth.roles import Permission
from watchkeeper.errors import InvalidInput
from watchkeeper.oncall import ownership
from watchkeeper.oncall import service as oncall
from watchkeeper.oncall.documents import read_text

NOW = datetime(2026, 3, 1, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _recording() -> None:
    audit.install()


def events(session: Session, **filters: Any) -> list[AuditEvent]:
    """Every recorded event, oldest first."""
    return list(reversed(audit.list_events(session, limit=1000, **filters)))


def test_create_update_delete_are_recorded_with_before_and_after(session: Session) -> None:
    audit.bind_actor(session, Actor("cli", "ann"))
    tokens.create(session, name="ci", role="viewer", now=NOW)
    tokens.revoke(session, name="ci", now=NOW + timedelta(hours=1))
    team = teams.create_team(session, name="payments", now=NOW)
    teams.delete_team(session, team=team)

    created, revoked, team_created, team_deleted = events(session)
    assert (created.action, created.object_type, created.summary) == (
        "create",
        "token",
        "created token ci",
    )
    assert (created.actor_kind, created.actor_name) == ("cli", "ann")
    assert created.before is None and created.after is not None
    assert created.after["name"] == "ci" and created.after["role"] == "viewer"
    # An update holds only the changed columns, before and after.
    assert revoked.action == "update" and revoked.object_id == created.object_id
    assert revoked.before == {"revoked_at": None}
    assert revoked.after == {"revoked_at": "2026-03-01T01:00:00+00:00"}
    assert revoked.summary == "updated token ci: revoked_at"
    # A delete holds the whole row as it was.
    assert team_created.action == "create" and team_deleted.action == "delete"
    assert team_deleted.after is None
    assert team_deleted.before == {
        "id": int(team_created.object_id),
        "name": "payments",
        "created_at": "2026-03-01T00:00:00+00:00",
    }


def test_secrets_are_masked(session: Session) -> None:
    audit.bind_actor(session, Actor("token", "admin-ci"))
    issued = tokens.create(session, name="ci", role="viewer", now=NOW)
    integration = alerting.create_integration(session, name="prom", type="alertmanager", now=NOW)
    people.create_user(session, name="ann", role="editor", email="ann@example.com", now=NOW)
    people.add_contact(
        session, name="ann", kind="slack", address="https://hooks.slack.com/services/T/B/X", now=NOW
    )
    people.add_contact(
        session, name="ann", kind="webhook", address="https://example.com/hook?secret=1", now=NOW
    )
    by_type = {}
    for row in events(session):
        by_type.setdefault(row.object_type, []).append(row)
    token_row = by_type["token"][0].after
    assert token_row is not None and token_row["digest"] == "***"
    integration_row = by_type["integration"][0].after
    assert integration_row is not None and integration_row["key"] == "***"
    addresses = {row.after["kind"]: row.after["address"] for row in by_type["contact_method"]}  # type: ignore[index]
    assert addresses == {"email": "ann@example.com", "slack": "***", "webhook": "***"}
    # No secret appears anywhere in the log.
    text = repr([(row.before, row.after, row.summary) for row in events(session)])
    for secret in (issued.token, integration.key, "hooks.slack.com", "secret=1"):
        assert secret not in text


def test_nothing_is_recorded_without_an_actor(session: Session) -> None:
    teams.create_team(session, name="payments", now=NOW)
    tokens.create(session, name="ci", role="viewer", now=NOW)
    assert events(session) == []


def test_a_rolled_back_change_leaves_no_audit_row(session: Session) -> None:
    audit.bind_actor(session, Actor("cli", "ann"))
    teams.create_team(session, name="kept", now=NOW)
    with pytest.raises(RuntimeError), session.begin_nested():
        teams.create_team(session, name="dropped", now=NOW)
        assert [row.summary for row in events(session)][-1] == "created team dropped"
        raise RuntimeError("the unit of work fails")
    assert [row.summary for row in events(session)] == ["created team kept"]


def test_bulk_deletes_of_dependent_rows_are_recorded(session: Session) -> None:
    audit.bind_actor(session, Actor("cli", "ann"))
    people.create_user(session, name="bob", role="viewer", email="bob@example.com", now=NOW)
    people.delete_user(session, name="bob")
    deleted = [(row.object_type, row.action) for row in events(session) if row.action == "delete"]
    # The user's contact method goes in one DELETE statement, then the user row.
    assert deleted == [("contact_method", "delete"), ("user", "delete")]


def test_bookkeeping_columns_alone_are_not_recorded(session: Session) -> None:
    issued = tokens.create(session, name="ci", role="viewer", now=NOW)
    audit.bind_actor(session, Actor("cli", "ann"))
    # Authenticating records the token's last use: no change anyone made.
    token = tokens.authenticate(session, token=issued.token, permission=Permission.READ, now=NOW)
    session.flush()
    assert token.last_used_at == NOW
    assert events(session) == []


def test_alert_intake_records_nothing_and_an_acknowledgement_records_the_state(
    session: Session,
) -> None:
    integration = alerting.create_integration(session, name="prom", type="alertmanager", now=NOW)
    message = AlertmanagerMessage.model_validate(am_message(am_alert("a1")))
    group = intake.ingest_alertmanager(session, integration=integration, message=message, now=NOW)
    session.flush()
    assert events(session) == []
    audit.bind_actor(session, Actor("user", "ann"))
    alerting.acknowledge(session, group_id=group.id, actor="ann", now=NOW + timedelta(minutes=1))
    session.flush()
    (row,) = events(session)
    assert (row.object_type, row.action, row.object_id) == ("alert_group", "update", str(group.id))
    assert row.before is not None and row.after is not None
    assert row.before["status"] == "firing" and row.after["status"] == "acknowledged"
    assert row.after["acknowledged_by"] == "ann"
    # Only the state columns: timers and counters stay out of the log.
    assert set(row.after) <= audit.ALERT_GROUP_STATE


def test_schedule_owner_change_is_recorded(session: Session) -> None:
    people.create_user(session, name="ann", role="editor", now=NOW)
    schedule = "kind: Schedule\nname: primary\ntime_zone: UTC\nlayers:\n  - name: d\n"
    schedule += "    users: [ann]\n    start: 2026-03-01T00:00\n"
    oncall.apply(session, documents=read_text(schedule, "s.yaml"), now=NOW)
    teams.create_team(session, name="payments", now=NOW)
    audit.bind_actor(session, Actor("cli", "ann"))
    ownership.set_schedule_owner(session, name="primary", team="payments")
    (row,) = events(session)
    assert row.summary == "updated schedule primary: owner_team_id"
    assert row.before == {"owner_team_id": None}
    assert row.after is not None and row.after["owner_team_id"] is not None


def test_list_filters_and_pages_newest_first(session: Session) -> None:
    audit.bind_actor(session, Actor("cli", "ann"))
    for name in ("a", "b", "c"):
        teams.create_team(session, name=name, now=NOW)
    audit.bind_actor(session, Actor("token", "deployer"))
    tokens.create(session, name="ci", role="viewer", now=NOW)

    newest = audit.list_events(session, limit=2)
    assert [row.summary for row in newest] == ["created token ci", "created team c"]
    older = audit.list_events(session, limit=2, before_id=newest[-1].id)
    assert [row.summary for row in older] == ["created team b", "created team a"]
    assert [r.summary for r in audit.list_events(session, actor="deployer")] == ["created token ci"]
    assert len(audit.list_events(session, object_type="team")) == 3
    later = datetime.now(UTC) + timedelta(hours=1)
    assert audit.list_events(session, since=later) == []
    assert len(audit.list_events(session, until=later)) == 4
    assert [r.summary for r in audit.iter_events(session, object_type="team")] == [
        "created team a",
        "created team b",
        "created team c",
    ]
    with pytest.raises(InvalidInput, match="type: 'teem' is not one of"):
        audit.list_events(session, object_type="teem")
    with pytest.raises(InvalidInput, match="limit"):
        audit.list_events(session, limit=0)
    count = session.scalar(select(func.count()).select_from(AuditEvent))
    assert count == 4


def test_an_actor_needs_a_known_kind_and_a_name() -> None:
    with pytest.raises(ValueError, match="actor kind"):
        Actor("robot", "x")
    with pytest.raises(ValueError, match="name"):
        Actor("cli", "")
