"""``watchkeeper team ...``: teams, their members and what they own."""

from __future__ import annotations

from typing import Annotated

import typer

from watchkeeper.auth import teams
from watchkeeper.cli.context import cli_state
from watchkeeper.cli.output import console, fail, guarded, print_json
from watchkeeper.cli.tables import Column, fitted_table
from watchkeeper.db import utcnow
from watchkeeper.flows import teams as team_flows

app = typer.Typer(no_args_is_help=True, help="Teams: members, and the things each owns.")

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]
TeamArgument = Annotated[str, typer.Argument(help="The team's name.")]
UserArgument = Annotated[str, typer.Argument(help="The user's name.")]


def _say(text: str) -> None:
    console.print(text, markup=False, highlight=False)


def _document(detail: team_flows.TeamDetail) -> dict[str, object]:
    return {
        "name": detail.name,
        "created_at": detail.created_at.isoformat(),
        "members": list(detail.members),
        "services": list(detail.services),
        "schedules": list(detail.schedules),
        "escalation_policies": list(detail.escalation_policies),
    }


def _show(ctx: typer.Context, name: str, json_output: bool, message: str) -> None:
    with cli_state(ctx).session() as session:
        detail = team_flows.list_teams(session, name=name)[0]
    if json_output:
        print_json(_document(detail))
        return
    _say(message)


@app.command()
@guarded
def create(ctx: typer.Context, name: TeamArgument, json_output: JsonOption = False) -> None:
    """Create an empty team."""
    with cli_state(ctx).session() as session:
        teams.create_team(session, name=name, now=utcnow())
    _show(ctx, name, json_output, f"team {name} created")


@app.command()
@guarded
def delete(ctx: typer.Context, name: TeamArgument) -> None:
    """Delete a team; what it owned is owned by no team afterwards."""
    with cli_state(ctx).session() as session:
        team_flows.delete_team(session, name=name)
    _say(f"team {name} deleted")


@app.command("add-member")
@guarded
def add_member(
    ctx: typer.Context, team: TeamArgument, user: UserArgument, json_output: JsonOption = False
) -> None:
    """Add a user to a team."""
    with cli_state(ctx).session() as session:
        teams.add_member(session, team=team, user=user, now=utcnow())
    _show(ctx, team, json_output, f"{user} is a member of team {team}")


@app.command("remove-member")
@guarded
def remove_member(
    ctx: typer.Context, team: TeamArgument, user: UserArgument, json_output: JsonOption = False
) -> None:
    """Take a user out of a team."""
    with cli_state(ctx).session() as session:
        teams.remove_member(session, team=team, user=user)
    _show(ctx, team, json_output, f"{user} left team {team}")


@app.command()
@guarded
def own(
    ctx: typer.Context,
    team: TeamArgument,
    service: Annotated[str | None, typer.Option("--service", help="A service.")] = None,
    schedule: Annotated[str | None, typer.Option("--schedule", help="A schedule.")] = None,
    escalation_policy: Annotated[
        str | None, typer.Option("--escalation-policy", help="An escalation policy.")
    ] = None,
    release: Annotated[
        bool, typer.Option("--release", help="Give it up instead: no team owns it afterwards.")
    ] = False,
    json_output: JsonOption = False,
) -> None:
    """Make a team own one service, schedule or escalation policy (or give it up)."""
    given = {
        "service": service,
        "schedule": schedule,
        "escalation policy": escalation_policy,
    }
    named = [(kind, value) for kind, value in given.items() if value is not None]
    if len(named) != 1:
        fail("give exactly one of --service, --schedule or --escalation-policy")
    kind, thing = named[0]
    with cli_state(ctx).session() as session:
        teams.get_team(session, name=team)
        target = {"service": service, "schedule": schedule, "escalation_policy": escalation_policy}
        if release and team_flows.owner_of(session, **target) != team:
            fail(f"team {team} does not own {kind} {thing}")
        team_flows.set_owner(session, team=None if release else team, now=utcnow(), **target)
    verb = "no longer owns" if release else "owns"
    _show(ctx, team, json_output, f"team {team} {verb} {kind} {thing}")


@app.command("list")
@guarded
def list_command(ctx: typer.Context, json_output: JsonOption = False) -> None:
    """List teams with their members and what they own."""
    with cli_state(ctx).session() as session:
        details = team_flows.list_teams(session)
    if json_output:
        print_json([_document(detail) for detail in details])
        return
    columns = [
        Column("team", kind="fold"),
        Column("members", kind="wrap"),
        Column("owns", kind="wrap"),
    ]
    rows = []
    for detail in details:
        owned = [
            *(f"service {name}" for name in detail.services),
            *(f"schedule {name}" for name in detail.schedules),
            *(f"escalation policy {name}" for name in detail.escalation_policies),
        ]
        rows.append([detail.name, ", ".join(detail.members) or "-", ", ".join(owned) or "-"])
    console.print(fitted_table(columns, rows, width=console.width, title="Teams"))
