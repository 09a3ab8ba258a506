"""``watchkeeper incident ...``: declare, run and measure incidents.

Declaring and running an incident is here; listing, showing and measuring incidents are in
:mod:`watchkeeper.cli.incident_reports`, registered on the same sub-app.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from watchkeeper.cli import incident_reports
from watchkeeper.cli.context import ActorOption, actor_name, cli_state
from watchkeeper.cli.incident_reports import IdArgument, JsonOption, say
from watchkeeper.cli.output import console, fail, guarded, print_json
from watchkeeper.cli.tables import Column, fitted_table
from watchkeeper.db import MAX_ROW_ID, utcnow
from watchkeeper.incident import declaration, links, service, severities
from watchkeeper.incident import detail as incident_detail
from watchkeeper.incident.schemas import IncidentRead, incident_read, severity_read

app = typer.Typer(no_args_is_help=True, help="Declare, run and measure incidents.")
severities_app = typer.Typer(
    invoke_without_command=True, help="List severities, or replace them from a YAML file."
)
app.add_typer(severities_app, name="severities")


def _actor(actor: str | None) -> str:
    return actor_name(actor)


# The read commands, registered here so that ``incident --help`` lists them in this order.
app.command("list")(incident_reports.list_incidents)
app.command()(incident_reports.show)


@app.command()
@guarded
def declare(
    ctx: typer.Context,
    severity: Annotated[str, typer.Option("--severity", help="e.g. SEV2")],
    title: Annotated[
        str | None,
        typer.Option("--title", help="What is wrong (default: the one alert group's title)."),
    ] = None,
    service_name: Annotated[str | None, typer.Option("--service")] = None,
    commander: Annotated[
        str | None, typer.Option("--commander", help="Incident commander.")
    ] = None,
    summary: Annotated[str | None, typer.Option("--summary")] = None,
    slo: Annotated[
        list[str] | None, typer.Option("--slo", help="Link an SLO (service/name); repeatable.")
    ] = None,
    alert_group: Annotated[
        list[int] | None, typer.Option("--alert-group", help="Link an alert group id; repeatable.")
    ] = None,
    actor: ActorOption = None,
    json_output: JsonOption = False,
) -> None:
    """Declare an incident (status investigating); with one --alert-group and no --title,
    title, service, start and SLO come from the group."""
    groups = alert_group or []
    if title is None:
        if len(groups) != 1 or service_name or slo:
            fail("give --title (or exactly one --alert-group, without --service and --slo)")
        _declare_from_group(
            ctx,
            group_id=groups[0],
            severity=severity,
            commander=commander,
            summary=summary,
            title=None,
            actor=actor,
            json_output=json_output,
        )
        return
    now = utcnow()
    with cli_state(ctx).session(actor=_actor(actor)) as session:
        incident = declaration.declare(
            session,
            title=title,
            severity=severity,
            actor=_actor(actor),
            now=now,
            service=service_name,
            summary=summary,
            commander=commander,
            alert_group_ids=alert_group or (),
            slo_keys=slo or (),
        )
        detail = incident_detail.show(session, incident_id=incident.id, now=now)
    if json_output:
        print_json(detail.model_dump(mode="json"))
    else:
        say(f"incident #{detail.id} declared: {detail.severity} {detail.title}")


def _declare_from_group(
    ctx: typer.Context,
    *,
    group_id: int,
    severity: str,
    title: str | None,
    commander: str | None,
    summary: str | None,
    actor: str | None,
    json_output: bool,
) -> None:
    now = utcnow()
    with cli_state(ctx).session(actor=_actor(actor)) as session:
        incident = declaration.declare_from_alert_group(
            session,
            alert_group_id=group_id,
            severity=severity,
            actor=_actor(actor),
            now=now,
            title=title,
            commander=commander,
            summary=summary,
        )
        detail = incident_detail.show(session, incident_id=incident.id, now=now)
    if json_output:
        print_json(detail.model_dump(mode="json"))
    else:
        say(
            f"incident #{detail.id} declared from alert group {group_id}: "
            f"{detail.severity} {detail.title}"
        )


@guarded
def declare_from_alert(
    ctx: typer.Context,
    group_id: Annotated[int, typer.Argument(help="Alert group id.", max=MAX_ROW_ID)],
    severity: Annotated[str, typer.Option("--severity", help="e.g. SEV2")],
    title: Annotated[str | None, typer.Option("--title", help="Default: the group's.")] = None,
    commander: Annotated[
        str | None, typer.Option("--commander", help="Incident commander.")
    ] = None,
    summary: Annotated[str | None, typer.Option("--summary")] = None,
    actor: ActorOption = None,
    json_output: JsonOption = False,
) -> None:
    """Declare an incident from an alert group (title, service, start and SLO from it)."""
    _declare_from_group(
        ctx,
        group_id=group_id,
        severity=severity,
        title=title,
        commander=commander,
        summary=summary,
        actor=actor,
        json_output=json_output,
    )


def _changed(incident: IncidentRead, json_output: bool, message: str) -> None:
    if json_output:
        print_json(incident.model_dump(mode="json"))
    else:
        say(message)


@app.command("ack")
@guarded
def acknowledge(
    ctx: typer.Context,
    incident_id: IdArgument,
    actor: ActorOption = None,
    json_output: JsonOption = False,
) -> None:
    """Acknowledge an incident."""
    with cli_state(ctx).session(actor=_actor(actor)) as session:
        incident = incident_read(
            service.acknowledge(session, incident_id=incident_id, actor=_actor(actor), now=utcnow())
        )
    _changed(
        incident, json_output, f"incident #{incident.id} acknowledged by {incident.acknowledged_by}"
    )


@app.command("status")
@guarded
def set_status(
    ctx: typer.Context,
    incident_id: IdArgument,
    status: Annotated[
        str, typer.Argument(help="investigating, identified, monitoring or resolved")
    ],
    note: Annotated[str | None, typer.Option("--note")] = None,
    actor: ActorOption = None,
    json_output: JsonOption = False,
) -> None:
    """Move an incident to another status."""
    with cli_state(ctx).session(actor=_actor(actor)) as session:
        incident = incident_read(
            service.set_status(
                session,
                incident_id=incident_id,
                status=status,
                actor=_actor(actor),
                now=utcnow(),
                note=note,
            )
        )
    _changed(incident, json_output, f"incident #{incident.id} is {incident.status}")


@app.command()
@guarded
def resolve(
    ctx: typer.Context,
    incident_id: IdArgument,
    note: Annotated[str | None, typer.Option("--note")] = None,
    actor: ActorOption = None,
    json_output: JsonOption = False,
) -> None:
    """Resolve an incident."""
    with cli_state(ctx).session(actor=_actor(actor)) as session:
        incident = incident_read(
            service.resolve(
                session, incident_id=incident_id, actor=_actor(actor), now=utcnow(), note=note
            )
        )
    _changed(incident, json_output, f"incident #{incident.id} resolved")


@app.command()
@guarded
def reopen(
    ctx: typer.Context,
    incident_id: IdArgument,
    note: Annotated[str | None, typer.Option("--note")] = None,
    actor: ActorOption = None,
    json_output: JsonOption = False,
) -> None:
    """Reopen a resolved incident."""
    with cli_state(ctx).session(actor=_actor(actor)) as session:
        incident = incident_read(
            service.reopen(
                session, incident_id=incident_id, actor=_actor(actor), now=utcnow(), note=note
            )
        )
    _changed(incident, json_output, f"incident #{incident.id} reopened")


@app.command()
@guarded
def severity(
    ctx: typer.Context,
    incident_id: IdArgument,
    name: Annotated[str, typer.Argument(help="The new severity, e.g. SEV1.")],
    actor: ActorOption = None,
    json_output: JsonOption = False,
) -> None:
    """Change an incident's severity."""
    with cli_state(ctx).session(actor=_actor(actor)) as session:
        incident = incident_read(
            service.set_severity(
                session, incident_id=incident_id, severity=name, actor=_actor(actor), now=utcnow()
            )
        )
    _changed(incident, json_output, f"incident #{incident.id} is {incident.severity}")


@app.command()
@guarded
def note(
    ctx: typer.Context,
    incident_id: IdArgument,
    text: Annotated[str, typer.Argument(help="The note.")],
    actor: ActorOption = None,
) -> None:
    """Add a note to an incident's timeline."""
    with cli_state(ctx).session(actor=_actor(actor)) as session:
        service.add_note(
            session, incident_id=incident_id, text=text, actor=_actor(actor), now=utcnow()
        )
    say(f"note added to incident #{incident_id}")


@app.command()
@guarded
def role(
    ctx: typer.Context,
    incident_id: IdArgument,
    role_name: Annotated[
        str, typer.Option("--role", help="commander, communications, scribe or responder")
    ],
    user: Annotated[str, typer.Option("--user", help="Who takes the role.")],
    actor: ActorOption = None,
) -> None:
    """Give a person a role in an incident."""
    with cli_state(ctx).session(actor=_actor(actor)) as session:
        service.assign_role(
            session,
            incident_id=incident_id,
            role=role_name,
            user=user,
            actor=_actor(actor),
            now=utcnow(),
        )
    say(f"{user} is {role_name.lower()} of incident #{incident_id}")


@app.command()
@guarded
def link(
    ctx: typer.Context,
    incident_id: IdArgument,
    slo: Annotated[list[str] | None, typer.Option("--slo", help="service/name; repeatable")] = None,
    alert_group: Annotated[
        list[int] | None, typer.Option("--alert-group", help="repeatable")
    ] = None,
    actor: ActorOption = None,
) -> None:
    """Link SLOs and alert groups to an incident."""
    if not slo and not alert_group:
        fail("give --slo or --alert-group")
    now = utcnow()
    with cli_state(ctx).session(actor=_actor(actor)) as session:
        for group_id in alert_group or []:
            links.link_alert_group(
                session,
                incident_id=incident_id,
                alert_group_id=group_id,
                actor=_actor(actor),
                now=now,
            )
        for key in slo or []:
            links.link_slo(
                session, incident_id=incident_id, slo_key=key, actor=_actor(actor), now=now
            )
    say(f"linked to incident #{incident_id}")


# After the lifecycle commands, where ``incident --help`` lists it.
app.command()(incident_reports.metrics)


@severities_app.callback()
@guarded
def list_severities(ctx: typer.Context, json_output: JsonOption = False) -> None:
    """Configured severities, worst first, with their targets."""
    if ctx.invoked_subcommand is not None:
        return
    with cli_state(ctx).session() as session:
        listed = [severity_read(s) for s in severities.list_severities(session)]
    if json_output:
        print_json([s.model_dump(mode="json") for s in listed])
        return
    columns = [
        Column("severity"),
        Column("acknowledge within"),
        Column("resolve within"),
        Column("description", kind="wrap"),
    ]
    rows = [
        [s.name, s.response_target or "-", s.resolution_target or "-", s.description]
        for s in listed
    ]
    console.print(fitted_table(columns, rows, width=console.width, title="severities"))


@severities_app.command("apply")
@guarded
def apply_severities(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="An IncidentSeverities YAML file.")],
) -> None:
    """Replace the severities (a severity incidents use cannot be removed)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"{path}: cannot read: {getattr(exc, 'strerror', None) or exc}")
    parsed = severities.parse_severities(text, str(path))
    with cli_state(ctx).session() as session:
        applied = severities.replace(session, severities=parsed)
    say(f"applied {severities.describe(applied)}")
