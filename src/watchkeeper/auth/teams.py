"""Teams: who belongs to which team, and which services each team owns.

Ownership limits who may change things, not who may see them: SLOs, alerts, incidents and
schedules stay readable by everyone with read access, because whoever responds to an incident
has to see every service it touches. Team names, members and what each team owns are readable
the same way (responders look up who owns a service to page them).

The on-call domain keeps its own owner column on schedules and escalation policies and builds
on this module; :mod:`watchkeeper.flows.teams` puts both together for adapters.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from watchkeeper.auth import people, repository
from watchkeeper.auth.exceptions import (
    InvalidTeam,
    OwnedByAnotherTeam,
    TeamNameTaken,
    TeamNotFound,
)
from watchkeeper.auth.models import Team, TeamMember, TeamService
from watchkeeper.auth.roles import Role
from watchkeeper.messages import did_you_mean, shown

TEAM_NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")
MAX_SERVICE = 200


@dataclass(frozen=True)
class TeamView:
    """A team with its members' names and the services it owns, each sorted."""

    id: int
    name: str
    created_at: datetime
    members: tuple[str, ...]
    services: tuple[str, ...]


def validate_name(name: str) -> str:
    """A team name as stored, or InvalidTeam naming the field."""
    if not isinstance(name, str) or TEAM_NAME.fullmatch(name) is None:
        raise InvalidTeam(
            f"name: {shown(name)} is not a team name (1 to 64 characters: lower-case letters, "
            "digits, '.', '_' or '-', starting with a letter or digit)"
        )
    return name


def validate_service(service: str) -> str:
    """A service name as SLOs and alerts carry it, or InvalidTeam naming the field."""
    if (
        not isinstance(service, str)
        or not 0 < len(service) <= MAX_SERVICE
        or service != service.strip()
        or "/" in service
        or not service.isprintable()
    ):
        raise InvalidTeam(
            f"service: {shown(service)} is not a service name (1 to {MAX_SERVICE} printable "
            "characters without '/' or surrounding spaces)"
        )
    return service


def create_team(session: Session, *, name: str, now: datetime) -> Team:
    """Create an empty team."""
    validate_name(name)
    if repository.get_team(session, name) is not None:
        raise TeamNameTaken(f"a team named {name!r} exists")
    team = Team(name=name, created_at=now)
    try:
        with session.begin_nested():
            repository.add_team_row(session, team)
    except IntegrityError:  # created concurrently
        raise TeamNameTaken(f"a team named {name!r} exists") from None
    return team


def get_team(session: Session, *, name: str) -> Team:
    """The team named ``name``, or TeamNotFound with a suggestion."""
    team = repository.get_team(session, name)
    if team is None:
        hint = did_you_mean(name, [t.name for t in repository.list_teams(session)])
        raise TeamNotFound(f"no team named {shown(name)}{hint}")
    return team


def delete_team(session: Session, *, team: Team) -> None:
    """Delete a team, its memberships and its services' ownership (row by row, so the audit
    log records each); what the on-call domain lets it own must be given up first."""
    for row in repository.team_rows(session, team.id):
        repository.delete_team_row(session, row)
    repository.delete_team_row(session, team)


def add_member(session: Session, *, team: str, user: str, now: datetime) -> TeamView:
    """Add a user to a team (adding a member again changes nothing)."""
    found = get_team(session, name=team)
    member = people.get_user(session, name=user)
    if repository.membership(session, found.id, member.id) is None:
        repository.add_team_row(
            session, TeamMember(team_id=found.id, user_id=member.id, added_at=now)
        )
    return view(session, team=found)


def remove_member(session: Session, *, team: str, user: str) -> TeamView:
    """Take a user out of a team; TeamNotFound when they are not in it."""
    found = get_team(session, name=team)
    member = people.get_user(session, name=user)
    row = repository.membership(session, found.id, member.id)
    if row is None:
        raise TeamNotFound(f"user {user!r} is not a member of team {team!r}")
    repository.delete_team_row(session, row)
    return view(session, team=found)


def set_service_owner(session: Session, *, service: str, team: str | None, now: datetime) -> None:
    """Make ``team`` own ``service`` (None: no team owns it any more)."""
    validate_service(service)
    owned = repository.service_ownership(session, service)
    if team is None:
        if owned is not None:
            repository.delete_team_row(session, owned)
        return
    found = get_team(session, name=team)
    if owned is None:
        repository.add_team_row(
            session, TeamService(service=service, team_id=found.id, created_at=now)
        )
    elif owned.team_id != found.id:
        owned.team_id = found.id
        session.flush()


def owner_of_service(session: Session, *, service: str) -> str | None:
    """The name of the team owning ``service``, if one does."""
    owned = repository.service_ownership(session, service)
    return None if owned is None else team_names(session, [owned.team_id])[owned.team_id]


def team_names(session: Session, team_ids: Sequence[int]) -> dict[int, str]:
    """{team id: name} of these teams."""
    return {team.id: team.name for team in repository.teams_by_id(session, team_ids)}


def teams_of_user(session: Session, *, user_name: str) -> list[str]:
    """The names of the teams ``user_name`` belongs to, sorted (none for an unknown user)."""
    return repository.team_names_of_user(session, user_name)


def view(session: Session, *, team: Team) -> TeamView:
    """One team with its members and services."""
    return list_teams(session, only=team)[0]


def list_teams(session: Session, *, only: Team | None = None) -> list[TeamView]:
    """Every team (or ``only``), by name, with members and services."""
    teams = [only] if only is not None else repository.list_teams(session)
    ids = [team.id for team in teams]
    members = repository.member_names(session, ids)
    services = repository.owned_services(session, ids)
    return [
        TeamView(
            id=team.id,
            name=team.name,
            created_at=team.created_at,
            members=tuple(sorted(name for team_id, name in members if team_id == team.id)),
            services=tuple(sorted(name for team_id, name in services if team_id == team.id)),
        )
        for team in teams
    ]


def check_may_change(
    session: Session, *, user_name: str, role: str, owners: Mapping[str, str | None]
) -> None:
    """Refuse (OwnedByAnotherTeam) when a team member who is not an admin would change
    something owned by a team they are not in; ``owners`` maps what is changed ("schedule
    'primary'") to its owning team's name, or None.

    Admins may change anything. Users in no team are not limited by ownership (their role
    alone decides), so an organisation that does not use teams sees no difference. Things no
    team owns stay open to every user whose role may change them.
    """
    if role == Role.ADMIN:
        return
    mine = teams_of_user(session, user_name=user_name)
    if not mine:
        return
    for what, owner in owners.items():
        if owner is not None and owner not in mine:
            raise OwnedByAnotherTeam(
                f"{what} belongs to team {owner!r}; {user_name!r} is in "
                f"{', '.join(repr(name) for name in mine)}"
            )
