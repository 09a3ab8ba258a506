"""The escalation runtime: first step at intake, steps on the worker tick, stop and follow-ups."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from tests.alerting.escalation_setup import (
    NOW,
    TEAM,
    apply_team,
    later,
    make_team,
    message_of,
    open_alertmanager,
    outbox,
)
from watchkeeper.alerting import escalation, escalation_config, service
from watchkeeper.alerting.models import AlertGroup
from watchkeeper.auth import people
from watchkeeper.notify.models import Notification, NotificationStatus


def _kinds(session: Session, group: AlertGroup) -> list[str]:
    return [e["kind"] for e in service.group_detail(session, group_id=group.id)["log"]]


def _log(session: Session, group: AlertGroup, kind: str) -> list[str]:
    return [
        e["message"]
        for e in service.group_detail(session, group_id=group.id)["log"]
        if e["kind"] == kind
    ]


def _sent(session: Session, group: AlertGroup) -> list[tuple[str | None, str, str]]:
    return [(n.recipient, n.channel, n.kind) for n in outbox(session, group.id)]


def test_intake_pages_the_on_call_user_at_once(session: Session) -> None:
    make_team(session)
    group = open_alertmanager(session)
    assert sorted(_sent(session, group)) == [
        ("ann", "console", "page"),
        ("ann", "email", "page"),
    ]
    assert all(n.next_attempt_at == NOW for n in outbox(session, group.id))
    assert group.escalation_snapshot is not None
    assert group.escalation_snapshot["name"] == "shop"
    assert (group.escalation_round, group.escalation_step) == (0, 1)
    assert group.escalation_due_at == later(5)
    assert _log(session, group, "notified") == ["page to ann (email, console)"]
    assert _log(session, group, "escalated") == ["shop: step 1 of 2, round 1 of 2"]


def test_no_ack_escalates_repeats_then_exhausts(session: Session) -> None:
    make_team(session)
    group = open_alertmanager(session)
    assert escalation.run_due(session, now=later(4), limit=100) == 0  # not due yet
    assert escalation.run_due(session, now=later(5), limit=100) == 1
    assert ("cid", "console", "page") in _sent(session, group)
    assert group.escalation_due_at == later(15)
    assert (group.escalation_round, group.escalation_step) == (1, 0)
    assert escalation.run_due(session, now=later(15), limit=100) == 1  # round 2, step 1
    assert escalation.run_due(session, now=later(20), limit=100) == 1  # round 2, step 2
    assert group.escalation_due_at == later(30)
    assert escalation.run_due(session, now=later(30), limit=100) == 1  # the last wait passed
    assert group.escalation_due_at is None
    assert escalation.run_due(session, now=later(60), limit=100) == 0
    assert _log(session, group, "escalated") == [
        "shop: step 1 of 2, round 1 of 2",
        "shop: step 2 of 2, round 1 of 2",
        "shop: step 1 of 2, round 2 of 2",
        "shop: step 2 of 2, round 2 of 2",
    ]
    assert len(_log(session, group, "escalation_exhausted")) == 1
    pages = _sent(session, group)
    assert pages.count(("ann", "console", "page")) == 2
    assert pages.count(("cid", "console", "page")) == 2
    # Each page tells where the escalation stands.
    fields = [dict(message_of(n).fields)["Escalation"] for n in outbox(session, group.id)]
    assert "step 2 of 2, round 2 of 2" in fields


def test_ack_between_steps_stops_and_cancels_a_delayed_page(session: Session) -> None:
    make_team(session)
    # cid's console page waits 3 minutes (a notification rule); email at once.
    contacts = people.profile(session, name="cid").contacts
    console = next(c for c in contacts if c.kind == "console")
    email = next(c for c in contacts if c.kind == "email")
    people.add_rule(
        session,
        name="cid",
        contact_id=console.id,
        urgency="high",
        delay=timedelta(minutes=3),
        now=NOW,
    )
    people.add_rule(
        session, name="cid", contact_id=email.id, urgency="high", delay=timedelta(0), now=NOW
    )
    group = open_alertmanager(session)
    escalation.run_due(session, now=later(5), limit=100)
    delayed = next(
        n for n in outbox(session, group.id) if n.recipient == "cid" and n.channel == "console"
    )
    assert delayed.next_attempt_at == later(8)
    service.acknowledge(session, group_id=group.id, actor="ann", now=later(6))
    assert group.escalation_due_at is None
    session.refresh(delayed)
    assert delayed.status == NotificationStatus.CANCELLED
    assert escalation.run_due(session, now=later(60), limit=100) == 0
    assert _log(session, group, "escalated") == [
        "shop: step 1 of 2, round 1 of 2",
        "shop: step 2 of 2, round 1 of 2",
    ]


def test_ack_and_resolve_tell_the_people_paged(session: Session) -> None:
    make_team(session)
    group = open_alertmanager(session)
    escalation.run_due(session, now=later(5), limit=100)
    for notification in outbox(session, group.id):
        notification.status = NotificationStatus.DELIVERED  # as the worker would
    session.flush()
    service.acknowledge(session, group_id=group.id, actor="ann", now=later(6))
    acks = [n for n in outbox(session, group.id) if n.kind == "acknowledged"]
    # ann acknowledged, so only cid (on both channels) hears of it.
    assert sorted((n.recipient, n.channel) for n in acks) == [("cid", "console"), ("cid", "email")]
    assert message_of(acks[0]).title.startswith("[ACKNOWLEDGED] ")
    assert ("Acknowledged by", "ann") in message_of(acks[0]).fields
    service.resolve(session, group_id=group.id, actor="cid", now=later(7))
    resolved = [n for n in outbox(session, group.id) if n.kind == "resolved"]
    assert sorted((n.recipient, n.channel) for n in resolved) == [
        ("ann", "console"),
        ("ann", "email"),
    ]
    assert all(not message_of(n).links or message_of(n).links[-1][0] == "View" for n in resolved)


def test_an_ack_tells_people_paged_before_a_thousand_later_pages(session: Session) -> None:
    make_team(session)
    group = open_alertmanager(session)
    escalation.run_due(session, now=later(5), limit=100)
    first = outbox(session, group.id)
    for notification in first:
        notification.status = NotificationStatus.DELIVERED
    ann = next(n for n in first if n.recipient == "ann")
    # A thousand newer pages, all to ann: cid's older page must still be found.
    session.add_all(
        Notification(
            channel=ann.channel,
            address=ann.address,
            recipient="ann",
            kind=ann.kind,
            message=ann.message,
            idempotency_key=f"flood:{index}",
            status=NotificationStatus.DELIVERED,
            attempts=1,
            next_attempt_at=later(5),
            created_at=later(5),
            alert_group_id=group.id,
        )
        for index in range(1001)
    )
    session.flush()
    service.acknowledge(session, group_id=group.id, actor="ann", now=later(6))
    acks = [n for n in outbox(session, group.id) if n.kind == "acknowledged"]
    assert sorted((n.recipient, n.channel) for n in acks) == [("cid", "console"), ("cid", "email")]


def test_resolve_stops_everything(session: Session) -> None:
    make_team(session)
    group = open_alertmanager(session)
    pending = outbox(session, group.id)
    service.resolve(session, group_id=group.id, actor="bob", now=later(1))
    assert group.escalation_due_at is None
    for notification in pending:
        session.refresh(notification)
    # Pages not yet sent are cancelled; nobody had been paged, so nobody is told.
    assert {n.status for n in pending} == {NotificationStatus.CANCELLED}
    assert [n.kind for n in outbox(session, group.id)] == ["page", "page"]
    assert escalation.run_due(session, now=later(60), limit=100) == 0


def test_a_policy_edited_after_the_start_does_not_change_the_escalation(
    session: Session,
) -> None:
    make_team(session)
    group = open_alertmanager(session)
    apply_team(session, TEAM.replace("user: cid", "user: bob").replace("wait: 5m", "wait: 1m"))
    assert escalation.run_due(session, now=later(1), limit=100) == 0  # still 5m
    escalation.run_due(session, now=later(5), limit=100)
    assert ("cid", "console", "page") in _sent(session, group)
    assert ("bob", "console", "page") not in _sent(session, group)


def test_an_unknown_policy_is_logged_and_the_default_used(session: Session) -> None:
    make_team(session)
    session.info[escalation_config.CONFIG_KEY] = escalation_config.EscalationConfig(
        default_policy="shop"
    )
    # An integration whose policy was deleted after it was set.
    integration = service.create_integration(session, name="prom", type="alertmanager", now=NOW)
    integration.escalation_policy = "nope"
    group = open_alertmanager(session, policy="nope", existing=True)
    assert "escalation policy 'nope'" in _log(session, group, "escalation_error")[0]
    assert _log(session, group, "escalation_policy") == ["using the default policy 'shop'"]
    assert ("ann", "console", "page") in _sent(session, group)


def test_no_policy_and_no_default_pages_nobody_visibly(session: Session) -> None:
    make_team(session)
    group = open_alertmanager(session, policy=None)
    assert outbox(session, group.id) == []
    assert group.escalation_due_at is None
    assert "no escalation policy" in _log(session, group, "not_paged")[0]
    session.info[escalation_config.CONFIG_KEY] = escalation_config.EscalationConfig(
        default_policy="gone"
    )
    other = open_alertmanager(session, policy=None, name="prom2")
    assert "'gone'" in _log(session, other, "not_paged")[0]


def test_low_urgency_notifies_once_and_never_escalates(session: Session) -> None:
    make_team(session)
    # ann gets low-urgency notices by email only.
    email = next(c for c in people.profile(session, name="ann").contacts if c.kind == "email")
    people.add_rule(
        session, name="ann", contact_id=email.id, urgency="low", delay=timedelta(0), now=NOW
    )
    group = open_alertmanager(session, default_urgency="low")
    assert _sent(session, group) == [("ann", "email", "notice")]
    assert message_of(outbox(session, group.id)[0]).urgency == "low"
    assert group.escalation_due_at is None
    assert escalation.run_due(session, now=later(60), limit=100) == 0


def test_unacknowledge_escalates_again_from_the_first_step(session: Session) -> None:
    make_team(session)
    group = open_alertmanager(session)
    service.acknowledge(session, group_id=group.id, actor="ann", now=later(1))
    service.unacknowledge(session, group_id=group.id, actor="ann", now=later(2))
    session.commit()
    pages = [n for n in outbox(session, group.id) if n.kind == "page"]
    assert len(pages) == 4  # the second run's keys differ from the first's
    assert group.escalation_due_at == later(7)


def test_a_deleted_schedule_is_logged_and_the_next_step_still_runs(session: Session) -> None:
    make_team(session)
    group = open_alertmanager(session)
    group.escalation_snapshot = {
        **(group.escalation_snapshot or {}),
        "steps": [
            {"targets": [{"kind": "schedule", "name": "ghost"}], "wait": "5m"},
            {"targets": [{"kind": "user", "name": "cid"}], "wait": "5m"},
        ],
    }
    group.escalation_round, group.escalation_step, group.escalation_due_at = 0, 0, later(1)
    escalation.run_due(session, now=later(1), limit=100)
    assert "ghost" in _log(session, group, "escalation_error")[0]
    escalation.run_due(session, now=later(6), limit=100)
    assert ("cid", "console", "page") in _sent(session, group)


def test_one_tick_moves_groups_at_different_positions_to_their_own_next_steps(
    session: Session,
) -> None:
    make_team(session)
    first = open_alertmanager(session)
    assert escalation.run_due(session, now=later(5), limit=100) == 1
    second = open_alertmanager(session, at=later(5), name="prom2")
    # At +15 min both are due: the first at round 2 step 1, the second at round 1 step 2.
    assert escalation.run_due(session, now=later(15), limit=100) == 2
    assert (first.escalation_round, first.escalation_step) == (1, 1)
    assert first.escalation_due_at == later(20)
    assert (second.escalation_round, second.escalation_step) == (1, 0)
    assert second.escalation_due_at == later(25)
    assert escalation.run_due(session, now=later(19), limit=100) == 0
