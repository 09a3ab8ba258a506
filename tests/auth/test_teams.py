"""Teams: members, ownership of services, schedules and escalation policies, and who may
change what a team owns."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.orm import Session

from watchkeeper.auth import people, teams
from watchkeeper.auth.exceptions import (
    InvalidTeam,
    OwnedByAnotherTeam,
    TeamNameTaken,
    TeamNotFound,
)
from watchkeeper.flows import teams as team_flows
from watchkeeper.oncall import service as oncall
from watchkeeper.oncall.documents import read_text
from watchkeeper.oncall.exceptions import PolicyNotFound, ScheduleNotFound

NOW = datetime(2026, 3, 1, tzinfo=UTC)

ONCALL = """
kind: Schedule
name: primary
time_zone: UTC
layers:
  - name: daily
    users: [ann, bob]
    start: 2026-03-01T00:00
---
kind: EscalationPolicy
name: checkout
steps:
  - wait: 5m
    targets: [{schedule: primary}]
"""


@pytest.fixture
def world(session: Session) -> Session:
    """Users ann (payments), bob (search), cid (no team); a schedule and a policy."""
    for name in ("ann", "bob", "cid"):
        people.create_user(session, name=name, role="editor", now=NOW)
    oncall.apply(session, documents=read_text(ONCALL, "oncall.yaml"), now=NOW)
    for team, member in (("payments", "ann"), ("search", "bob")):
        teams.create_team(session, name=team, now=NOW)
        teams.add_member(session, team=team, user=member, now=NOW)
    return session


def test_teams_list_members_and_what_they_own(world: Session) -> None:
    team_flows.set_owner(world, team="payments", service="checkout", now=NOW)
    team_flows.set_owner(world, team="payments", schedule="primary", now=NOW)
    team_flows.set_owner(world, team="search", escalation_policy="checkout", now=NOW)
    teams.add_member(world, team="payments", user="cid", now=NOW)
    teams.add_member(world, team="payments", user="cid", now=NOW)  # again: no change
    listed = {detail.name: detail for detail in team_flows.list_teams(world)}
    payments = listed["payments"]
    assert payments.members == ("ann", "cid")
    assert (payments.services, payments.schedules, payments.escalation_policies) == (
        ("checkout",),
        ("primary",),
        (),
    )
    assert listed["search"].escalation_policies == ("checkout",)
    assert team_flows.owner_of(world, service="checkout") == "payments"
    assert team_flows.owner_of(world, schedule="primary") == "payments"
    assert team_flows.owner_of(world, escalation_policy="checkout") == "search"
    # Another team taking a service over; giving it up.
    team_flows.set_owner(world, team="search", service="checkout", now=NOW)
    assert teams.owner_of_service(world, service="checkout") == "search"
    team_flows.set_owner(world, team=None, service="checkout", now=NOW)
    assert teams.owner_of_service(world, service="checkout") is None
    teams.remove_member(world, team="payments", user="cid")
    assert teams.teams_of_user(world, user_name="cid") == []


def test_deleting_a_team_releases_what_it_owns(world: Session) -> None:
    team_flows.set_owner(world, team="payments", schedule="primary", now=NOW)
    team_flows.set_owner(world, team="payments", service="checkout", now=NOW)
    team_flows.delete_team(world, name="payments")
    assert [detail.name for detail in team_flows.list_teams(world)] == ["search"]
    assert team_flows.owner_of(world, schedule="primary") is None
    assert teams.owner_of_service(world, service="checkout") is None
    assert teams.teams_of_user(world, user_name="ann") == []


def test_bad_team_requests_are_refused(world: Session) -> None:
    with pytest.raises(TeamNameTaken):
        teams.create_team(world, name="payments", now=NOW)
    with pytest.raises(InvalidTeam, match="name: 'Pay Ments' is not a team name"):
        teams.create_team(world, name="Pay Ments", now=NOW)
    with pytest.raises(TeamNotFound, match="did you mean 'payments'"):
        teams.add_member(world, team="paymints", user="ann", now=NOW)
    with pytest.raises(TeamNotFound, match="not a member"):
        teams.remove_member(world, team="payments", user="bob")
    with pytest.raises(ScheduleNotFound):
        team_flows.set_owner(world, team="payments", schedule="nope", now=NOW)
    with pytest.raises(PolicyNotFound):
        team_flows.set_owner(world, team="payments", escalation_policy="nope", now=NOW)
    with pytest.raises(InvalidTeam, match="service:"):
        team_flows.set_owner(world, team="payments", service="a/b", now=NOW)
    with pytest.raises(InvalidTeam, match="exactly one"):
        team_flows.set_owner(world, team="payments", service="a", schedule="primary", now=NOW)


@pytest.mark.parametrize(
    ("user", "role", "allowed"),
    [
        ("ann", "editor", True),  # her team owns it
        ("bob", "editor", False),  # another team owns it
        ("bob", "admin", True),  # admins change anything
        ("cid", "editor", True),  # in no team: ownership does not limit her
    ],
)
def test_only_the_owning_team_may_change_owned_things(
    world: Session, user: str, role: str, allowed: bool
) -> None:
    team_flows.set_owner(world, team="payments", schedule="primary", now=NOW)
    team_flows.set_owner(world, team="payments", service="checkout", now=NOW)
    for target in ({"schedule": "primary"}, {"service": "checkout"}):
        if allowed:
            team_flows.ensure_may_change(world, user_name=user, role=role, **target)
        else:
            with pytest.raises(OwnedByAnotherTeam, match="belongs to team 'payments'"):
                team_flows.ensure_may_change(world, user_name=user, role=role, **target)
    # Things no team owns (or that do not exist yet) are open to every team's members.
    team_flows.ensure_may_change(world, user_name=user, role=role, escalation_policy="checkout")
    team_flows.ensure_may_change(world, user_name=user, role=role, schedule="not-yet")
