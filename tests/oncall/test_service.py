"""Applying schedules and policies, who is on call, and who to notify."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from watchkeeper.auth import people
from watchkeeper.auth import repository as auth_repository
from watchkeeper.auth.exceptions import UserNameTaken
from watchkeeper.core.escalation import Target, TargetKind
from watchkeeper.db import make_session_factory
from watchkeeper.errors import InvalidInput
from watchkeeper.oncall import repository as oncall_repository
from watchkeeper.oncall import service
from watchkeeper.oncall.documents import read_text
from watchkeeper.oncall.exceptions import (
    NameTaken,
    PolicyNotFound,
    ScheduleNotFound,
    SpanTooLarge,
)
from watchkeeper.oncall.schemas import Recipient
from watchkeeper.specs.problems import SpecError

NOW = datetime(2026, 3, 1, tzinfo=UTC)
EXAMPLE = Path(__file__).parents[2] / "examples" / "oncall" / "team.yaml"


def users(session: Session, *names: str) -> None:
    for name in names:
        people.create_user(session, name=name, role="editor", email=f"{name}@example.com", now=NOW)


def apply(session: Session, text: str) -> service.ApplyResult:
    return service.apply(session, documents=read_text(text, "team.yaml"), now=NOW)


def test_example_applies_and_answers_who(session: Session) -> None:
    users(session, "ann", "bob", "cid", "dan")
    result = service.apply(session, documents=read_text(EXAMPLE.read_text(), str(EXAMPLE)), now=NOW)
    assert result.created == ["checkout-primary"] and result.policies_created == ["checkout"]
    again = service.apply(session, documents=read_text(EXAMPLE.read_text(), "x"), now=NOW)
    assert again.unchanged == ["checkout-primary"] and again.policies_unchanged == ["checkout"]
    # Saturday 14 March: bob's override; Monday 16 March 12:00 UTC: dan's business hours.
    assert service.who(
        session, name="checkout-primary", at=datetime(2026, 3, 14, 12, tzinfo=UTC)
    ) == ("bob",)
    assert service.who(
        session, name="checkout-primary", at=datetime(2026, 3, 16, 12, tzinfo=UTC)
    ) == ("dan",)
    # Weekly from Monday 5 January 09:00 Berlin: week 10 (from 16 March) is bob's (10 % 3 = 1).
    assert service.who(
        session, name="checkout-primary", at=datetime(2026, 3, 16, 20, tzinfo=UTC)
    ) == ("bob",)
    policy = service.escalation_policy(session, "checkout")
    assert policy.repeat == 2 and policy.steps[0].wait == timedelta(minutes=15)


SCHEDULE = """
kind: Schedule
name: primary
time_zone: UTC
layers:
  - name: daily
    users: [ann, bob]
    start: 2026-03-01T00:00
"""


def test_unknown_users_fail_the_whole_apply(session: Session) -> None:
    users(session, "ann")
    with pytest.raises(SpecError, match="unknown users bob"):
        apply(
            session,
            SCHEDULE + "---\nkind: EscalationPolicy\nname: p\n"
            "steps:\n  - wait: 5m\n    targets: [{user: ann}]\n",
        )
    assert service.list_schedules(session) == [] and service.list_policies(session) == []


HEAD = "kind: Schedule\nname: s\ntime_zone: UTC\n"
LAYER = HEAD + "layers:\n  - name: l\n    start: 2026-01-01\n"
POLICY = "kind: EscalationPolicy\nname: p\nsteps:\n  - wait: 5m\n"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (HEAD.replace("UTC", "Nowhere/Land") + "layers: []\n", "time_zone: unknown time zone"),
        (LAYER + "    users: []\n", "the rotation is empty"),
        (LAYER + "    users: [ann]\n    turn: 0h\n", "turn"),
        (
            LAYER + "    users: [ann]\n    turn: 1s\n",
            "team.yaml:8: document 1: layers[0].turn: the turn must be at least 1h",
        ),
        (
            LAYER + "    users: [ann]\n    restrictions: ['mon-fry 09:00-17:00']\n",
            "unknown day 'fry'",
        ),
        (
            LAYER + "    users: [ann]\noverrides:\n  - {user: ann, start: 2026-01-02T00:00:00Z, "
            "end: 2026-01-01T00:00:00Z}\n",
            "overrides[0].end",
        ),
        (POLICY + "    targets: [{channel: 'pager:1'}]\n", "is not KIND:ADDRESS"),
        (POLICY + "    targets: [{schedule: nope}]\n", "unknown schedule 'nope'"),
        (
            POLICY + "    targets: [{channel: 'email:nobody'}]\n",
            "team.yaml:5: document 1: steps[0].targets[0].channel: address: 'nobody' is not an "
            "email address",
        ),
        (
            POLICY + "    targets: [{channel: 'slack:not-a-url'}]\n",
            "steps[0].targets[0].channel: address: a slack address is an http(s) URL",
        ),
        ("kind: Rota\nname: p\n", "unknown kind"),
    ],
)
def test_problems_name_file_line_and_field(session: Session, text: str, message: str) -> None:
    users(session, "ann")
    with pytest.raises(SpecError) as caught:
        apply(session, text)
    assert message in caught.value.detail
    assert caught.value.detail.startswith("team.yaml:")


def test_recipients_expand_and_deduplicate(session: Session) -> None:
    users(session, "ann", "bob")
    people.add_contact(
        session, name="ann", kind="slack", address="https://hooks.example/a", now=NOW
    )
    apply(session, SCHEDULE)
    at = datetime(2026, 3, 2, 12, tzinfo=UTC)  # day 1: bob
    found = service.recipients(
        session,
        targets=[
            Target(TargetKind.SCHEDULE, "primary"),
            Target(TargetKind.USER, "bob"),
            Target(TargetKind.CHANNEL, "webhook:https://hooks.example/ops"),
        ],
        at=at,
        urgency="high",
    )
    assert found == [
        Recipient("bob", "email", "bob@example.com", timedelta(0)),
        Recipient(None, "webhook", "https://hooks.example/ops", timedelta(0)),
    ]
    layer = service.recipients(
        session,
        targets=[Target(TargetKind.SCHEDULE_LAYER, "primary", "daily")],
        at=at,
        urgency="low",
    )
    assert {(r.user, r.kind) for r in layer} == {
        ("ann", "email"),
        ("ann", "slack"),
        ("bob", "email"),
    }


def test_not_found_suggests(session: Session) -> None:
    users(session, "ann", "bob")
    apply(session, SCHEDULE)
    with pytest.raises(ScheduleNotFound, match="did you mean 'primary'"):
        service.who(session, name="primry", at=NOW)
    with pytest.raises(PolicyNotFound):
        service.escalation_policy(session, "none")


def test_a_user_named_on_call_cannot_be_deleted(session: Session) -> None:
    from watchkeeper.auth.exceptions import UserInUse
    from watchkeeper.flows import people as people_flows

    users(session, "ann", "bob", "cid")
    apply(
        session,
        SCHEDULE + "---\nkind: EscalationPolicy\nname: p\n"
        "steps:\n  - wait: 5m\n    targets: [{user: cid}]\n",
    )
    with pytest.raises(UserInUse, match="schedule primary"):
        people_flows.delete_user(session, name="ann")
    with pytest.raises(UserInUse, match="policy p"):
        people_flows.delete_user(session, name="cid")
    people.create_user(session, name="dan", role="viewer", now=NOW)
    people_flows.delete_user(session, name="dan")
    assert people.missing_users(session, names=["dan"]) == ["dan"]


@pytest.mark.parametrize(
    ("handoff", "expected"),
    [("09:30", "09:30"), ('"07:15"', "07:15"), ("25:00", None), ('"7h"', None)],
)
def test_handoff_times_of_day(session: Session, handoff: str, expected: str | None) -> None:
    users(session, "ann")
    text = LAYER + f"    users: [ann]\n    handoff: {handoff}\n"
    if expected is None:
        with pytest.raises(SpecError, match="handoff"):
            apply(session, text)
        return
    apply(session, text)
    stored = service.schedule(session, name="s")
    assert stored.layers[0].start.strftime("%H:%M") == expected


def test_instants_past_the_rotation_math_are_refused_naming_the_field(session: Session) -> None:
    users(session, "ann", "bob", "cid", "dan")
    service.apply(session, documents=read_text(EXAMPLE.read_text(), str(EXAMPLE)), now=NOW)
    end_of_time = datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)
    with pytest.raises(InvalidInput, match=r"^at: 9999-12-31"):
        service.who(session, name="checkout-primary", at=end_of_time)
    with pytest.raises(InvalidInput, match=r"^end: "):
        service.final(session, name="checkout-primary", start=NOW, end=end_of_time)
    with pytest.raises(InvalidInput, match=r"^start: "):
        service.user_shifts(session, user="ann", start=end_of_time, end=end_of_time)
    # The last day allowed still answers.
    last = datetime(9998, 12, 31, 23, tzinfo=UTC)
    assert service.who(session, name="checkout-primary", at=last) in {
        ("ann",),
        ("bob",),
        ("cid",),
        ("dan",),
        (),
    }


def test_a_final_schedule_over_too_many_handoffs_is_a_422(session: Session) -> None:
    users(session, "ann")
    apply(session, LAYER + "    users: [ann]\n    turn: 1h\n")
    start = datetime(2026, 1, 1, tzinfo=UTC)
    shifts, _ = service.final(session, name="s", start=start, end=start + timedelta(days=7))
    assert shifts[0].users == ("ann",)
    with pytest.raises(SpanTooLarge, match="schedule s: span: 2026-01-01") as caught:
        service.final(session, name="s", start=start, end=start + timedelta(days=40 * 365))
    assert caught.value.status_code == 422


def test_a_name_created_concurrently_is_a_409(
    committing_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    factory = make_session_factory(committing_engine)
    with factory() as first:
        users(first, "ann")
        apply(first, LAYER + "    users: [ann]\n")
        first.commit()
    # As if the other request committed just after our look-up.
    monkeypatch.setattr(auth_repository, "get_user", lambda _session, _name: None)
    monkeypatch.setattr(oncall_repository, "get_schedule", lambda _session, _name: None)
    with factory() as second, pytest.raises(UserNameTaken) as user_clash:
        people.create_user(second, name="ann", role="viewer", now=NOW)
    assert user_clash.value.status_code == 409
    with factory() as third, pytest.raises(NameTaken, match="schedule named 's'") as clash:
        apply(third, LAYER + "    users: [ann]\n    turn: weekly\n")
    assert clash.value.status_code == 409


def test_a_user_a_running_escalation_pages_cannot_be_deleted(session: Session) -> None:
    from tests.alerting.escalation_setup import TEAM, apply_team, make_team, open_alertmanager
    from watchkeeper.auth.exceptions import UserInUse
    from watchkeeper.flows import people as people_flows

    make_team(session)
    group = open_alertmanager(session)
    # The policy no longer names cid, but the open group's snapshot still pages cid next.
    apply_team(session, TEAM.replace("      - user: cid", "      - user: bob"))
    with pytest.raises(UserInUse, match=f"running escalation of alert group #{group.id}"):
        people_flows.delete_user(session, name="cid")
