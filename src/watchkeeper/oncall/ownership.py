"""Which team owns a schedule or an escalation policy (teams themselves live in auth)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from watchkeeper.auth import teams
from watchkeeper.messages import did_you_mean, shown
from watchkeeper.oncall import repository
from watchkeeper.oncall.exceptions import PolicyNotFound
from watchkeeper.oncall.models import EscalationPolicyRecord, ScheduleRecord
from watchkeeper.oncall.service import schedule_record


@dataclass(frozen=True)
class Owned:
    """The schedules and escalation policies one team owns, by name."""

    schedules: tuple[str, ...]
    escalation_policies: tuple[str, ...]


def _policy_record(session: Session, name: str) -> EscalationPolicyRecord:
    record = repository.get_policy(session, name)
    if record is None:
        names = [r.name for r in repository.list_policies(session)]
        raise PolicyNotFound(f"no escalation policy named {shown(name)}{did_you_mean(name, names)}")
    return record


def _set(
    session: Session, record: ScheduleRecord | EscalationPolicyRecord, team: str | None
) -> None:
    team_id = None if team is None else teams.get_team(session, name=team).id
    if record.owner_team_id != team_id:
        record.owner_team_id = team_id
        session.flush()


def set_schedule_owner(session: Session, *, name: str, team: str | None) -> None:
    """Make ``team`` own the schedule ``name`` (None: no team owns it any more)."""
    _set(session, schedule_record(session, name=name), team)


def set_policy_owner(session: Session, *, name: str, team: str | None) -> None:
    """Make ``team`` own the escalation policy ``name`` (None: no team owns it any more)."""
    _set(session, _policy_record(session, name), team)


def _owner(session: Session, record: ScheduleRecord | EscalationPolicyRecord | None) -> str | None:
    if record is None or record.owner_team_id is None:
        return None
    return teams.team_names(session, [record.owner_team_id])[record.owner_team_id]


def owner_of_schedule(session: Session, *, name: str) -> str | None:
    """The team owning the schedule ``name``; None when no team does or it does not exist
    (yet: whoever creates it may)."""
    return _owner(session, repository.get_schedule(session, name))


def owner_of_escalation_policy(session: Session, *, name: str) -> str | None:
    """The team owning the escalation policy ``name``; None when no team does or it does not
    exist (yet)."""
    return _owner(session, repository.get_policy(session, name))


def owned_by(session: Session) -> dict[int, Owned]:
    """{team id: what it owns} for every team owning a schedule or a policy."""
    schedules: dict[int, list[str]] = {}
    policies: dict[int, list[str]] = {}
    for record in repository.list_schedules(session):
        if record.owner_team_id is not None:
            schedules.setdefault(record.owner_team_id, []).append(record.name)
    for policy in repository.list_policies(session):
        if policy.owner_team_id is not None:
            policies.setdefault(policy.owner_team_id, []).append(policy.name)
    return {
        team_id: Owned(tuple(schedules.get(team_id, ())), tuple(policies.get(team_id, ())))
        for team_id in schedules.keys() | policies.keys()
    }


def release(session: Session, *, team: str) -> None:
    """Give up every schedule and policy ``team`` owns (before the team is deleted)."""
    team_id = teams.get_team(session, name=team).id
    records: list[ScheduleRecord | EscalationPolicyRecord] = [
        *repository.list_schedules(session),
        *repository.list_policies(session),
    ]
    for record in records:
        if record.owner_team_id == team_id:
            record.owner_team_id = None
    session.flush()
