"""Teams across domains: ownership of services (auth) and of on-call config (oncall)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from watchkeeper.auth import teams
from watchkeeper.auth.exceptions import InvalidTeam
from watchkeeper.oncall import ownership


@dataclass(frozen=True)
class TeamDetail:
    """A team: members, and the services, schedules and escalation policies it owns."""

    name: str
    created_at: datetime
    members: tuple[str, ...]
    services: tuple[str, ...]
    schedules: tuple[str, ...]
    escalation_policies: tuple[str, ...]


def list_teams(session: Session, *, name: str | None = None) -> list[TeamDetail]:
    """Every team (or the one named), by name, with members and all it owns."""
    views = (
        [teams.view(session, team=teams.get_team(session, name=name))]
        if name is not None
        else teams.list_teams(session)
    )
    owned = ownership.owned_by(session)
    details = []
    for view in views:
        own = owned.get(view.id, ownership.Owned((), ()))
        details.append(
            TeamDetail(
                name=view.name,
                created_at=view.created_at,
                members=view.members,
                services=view.services,
                schedules=tuple(sorted(own.schedules)),
                escalation_policies=tuple(sorted(own.escalation_policies)),
            )
        )
    return details


def set_owner(
    session: Session,
    *,
    team: str | None,
    now: datetime,
    service: str | None = None,
    schedule: str | None = None,
    escalation_policy: str | None = None,
) -> None:
    """Make ``team`` own one service, schedule or escalation policy (None: release it)."""
    given = [value for value in (service, schedule, escalation_policy) if value is not None]
    if len(given) != 1:
        raise InvalidTeam("give exactly one of service, schedule or escalation policy")
    if service is not None:
        teams.set_service_owner(session, service=service, team=team, now=now)
    elif schedule is not None:
        ownership.set_schedule_owner(session, name=schedule, team=team)
    elif escalation_policy is not None:
        ownership.set_policy_owner(session, name=escalation_policy, team=team)


def owner_of(
    session: Session,
    *,
    service: str | None = None,
    schedule: str | None = None,
    escalation_policy: str | None = None,
) -> str | None:
    """The team owning one service, schedule or escalation policy, if a team does."""
    if service is not None:
        return teams.owner_of_service(session, service=service)
    if schedule is not None:
        return ownership.owner_of_schedule(session, name=schedule)
    if escalation_policy is not None:
        return ownership.owner_of_escalation_policy(session, name=escalation_policy)
    raise InvalidTeam("give one of service, schedule or escalation policy")


def delete_team(session: Session, *, name: str) -> None:
    """Delete a team: it gives up what it owns and its members leave it."""
    team = teams.get_team(session, name=name)
    ownership.release(session, team=name)
    teams.delete_team(session, team=team)


def ensure_may_change(
    session: Session,
    *,
    user_name: str,
    role: str,
    service: str | None = None,
    schedule: str | None = None,
    escalation_policy: str | None = None,
) -> None:
    """Refuse (OwnedByAnotherTeam, 403) a change by ``user_name`` to a service, schedule or
    escalation policy owned by a team they are not in; admins, users in no team and things
    no team owns pass (see :func:`watchkeeper.auth.teams.check_may_change`)."""
    owners: dict[str, str | None] = {}
    if service is not None:
        owners[f"service {service!r}"] = teams.owner_of_service(session, service=service)
    if schedule is not None:
        owners[f"schedule {schedule!r}"] = ownership.owner_of_schedule(session, name=schedule)
    if escalation_policy is not None:
        owners[f"escalation policy {escalation_policy!r}"] = ownership.owner_of_escalation_policy(
            session, name=escalation_policy
        )
    teams.check_may_change(session, user_name=user_name, role=role, owners=owners)
