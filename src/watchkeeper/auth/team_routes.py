"""JSON API of teams: anyone with read access lists them; admins change them."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Response

from watchkeeper.auth import teams
from watchkeeper.auth.exceptions import TeamNotFound
from watchkeeper.auth.roles import Permission
from watchkeeper.auth.schemas import TeamCreate, TeamRead
from watchkeeper.db import utcnow
from watchkeeper.dependencies import AdminToken, ReadToken, SessionDep, json_body, json_body_openapi
from watchkeeper.flows import teams as team_flows

router = APIRouter(prefix="/api/v1", tags=["teams"])


def _read(detail: team_flows.TeamDetail) -> TeamRead:
    return TeamRead(
        name=detail.name,
        created_at=detail.created_at,
        members=list(detail.members),
        services=list(detail.services),
        schedules=list(detail.schedules),
        escalation_policies=list(detail.escalation_policies),
    )


def _team(session: SessionDep, name: str) -> TeamRead:
    return _read(team_flows.list_teams(session, name=name)[0])


@router.get("/teams", response_model=list[TeamRead])
def list_teams(session: SessionDep, _token: ReadToken) -> list[TeamRead]:
    """Every team with its members and what it owns."""
    return [_read(detail) for detail in team_flows.list_teams(session)]


@router.get("/teams/{name}", response_model=TeamRead)
def get_team(name: str, session: SessionDep, _token: ReadToken) -> TeamRead:
    """One team with its members and what it owns."""
    return _team(session, name)


TeamBody = Annotated[TeamCreate, Depends(json_body(TeamCreate, Permission.ADMIN))]


@router.post(
    "/teams",
    status_code=201,
    response_model=TeamRead,
    openapi_extra=json_body_openapi(TeamCreate),
    responses={409: {"description": "A team with that name exists (TeamNameTaken)."}},
)
def create_team(body: TeamBody, session: SessionDep, _token: AdminToken) -> TeamRead:
    """Create an empty team."""
    teams.create_team(session, name=body.name, now=utcnow())
    return _team(session, body.name)


@router.delete("/teams/{name}", status_code=204)
def delete_team(name: str, session: SessionDep, _token: AdminToken) -> Response:
    """Delete a team: what it owned is owned by no team afterwards."""
    team_flows.delete_team(session, name=name)
    return Response(status_code=204)


@router.put("/teams/{name}/members/{user}", response_model=TeamRead)
def add_member(name: str, user: str, session: SessionDep, _token: AdminToken) -> TeamRead:
    """Add a user to the team (again: no change)."""
    teams.add_member(session, team=name, user=user, now=utcnow())
    return _team(session, name)


@router.delete("/teams/{name}/members/{user}", response_model=TeamRead)
def remove_member(name: str, user: str, session: SessionDep, _token: AdminToken) -> TeamRead:
    """Take a user out of the team."""
    teams.remove_member(session, team=name, user=user)
    return _team(session, name)


# What a team can own, as the path names it.
Ownable = Literal["services", "schedules", "escalation-policies"]


def _own(session: SessionDep, name: str, kind: Ownable, thing: str, *, release: bool) -> TeamRead:
    target = {
        "service": thing if kind == "services" else None,
        "schedule": thing if kind == "schedules" else None,
        "escalation_policy": thing if kind == "escalation-policies" else None,
    }
    teams.get_team(session, name=name)
    if release and team_flows.owner_of(session, **target) != name:
        raise TeamNotFound(f"team {name!r} does not own {kind.rstrip('s')} {thing!r}")
    team_flows.set_owner(session, team=None if release else name, now=utcnow(), **target)
    return _team(session, name)


@router.put("/teams/{name}/{kind}/{thing}", response_model=TeamRead)
def own(name: str, kind: Ownable, thing: str, session: SessionDep, _token: AdminToken) -> TeamRead:
    """Make the team own a service, schedule or escalation policy; a team that owned it
    before no longer does."""
    return _own(session, name, kind, thing, release=False)


@router.delete("/teams/{name}/{kind}/{thing}", response_model=TeamRead)
def disown(
    name: str, kind: Ownable, thing: str, session: SessionDep, _token: AdminToken
) -> TeamRead:
    """Give up a service, schedule or escalation policy the team owns."""
    return _own(session, name, kind, thing, release=True)
