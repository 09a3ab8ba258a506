"""``watchkeeper incident ...``: declare, run and measure incidents."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer

from watchkeeper.cli.context import ActorOption, actor_name, cli_state
from watchkeeper.cli.output import console, fail, guarded, print_json
from watchkeeper.cli.tables import Column, fitted_table
from watchkeeper.core.duration import format_duration
from watchkeeper.db import MAX_ROW_ID, utcnow
from watchkeeper.incident import declaration, figures, links, service, severities
from watchkeeper.incident import detail as incident_detail
from watchkeeper.incident.schemas import (
    GroupMetricsRead,
    IncidentDetail,
    IncidentRead,
    MetricsReportRead,
    incident_read,
    metrics_read,
    severity_read,
)
from watchkeeper.messages import plural

app = typer.Typer(no_args_is_help=True, help="Declare, run and measure incidents.")
severities_app = typer.Typer(
    invoke_without_command=True, help="List severities, or replace them from a YAML file."
)
app.add_typer(severities_app, name="severities")

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]
IdArgument = Annotated[int, typer.Argument(help="The incident's id.", min=1, max=MAX_ROW_ID)]


def _actor(actor: str | None) -> str:
    return actor_name(actor)


def _say(text: str) -> None:
    console.print(text, markup=False, highlight=False, soft_wrap=True)


def _when(moment: datetime | None) -> str:
    return "-" if moment is None else moment.strftime("%Y-%m-%d %H:%M:%SZ")


def _seconds(value: float | None) -> str:
    if value is None:
        return "-"
    whole = round(value)
    return format_duration(timedelta(seconds=whole)) if whole > 0 else "0s"


def _list_table(incidents: list[IncidentRead]) -> None:
    columns = [
        Column("id", kind="result"),
        Column("severity"),
        Column("status"),
        Column("service", kind="fold"),
        Column("title", kind="wrap"),
        Column("declared", drop=1),
    ]
    rows = [
        [str(i.id), i.severity, i.status, i.service or "-", i.title, _when(i.declared_at)]
        for i in incidents
    ]
    console.print(fitted_table(columns, rows, width=console.width, title="incidents"))


@app.command("list")
@guarded
def list_incidents(
    ctx: typer.Context,
    status: Annotated[
        str | None, typer.Option("--status", help="investigating, identified, ... or open")
    ] = None,
    service_name: Annotated[
        str | None, typer.Option("--service", help="Only this service.")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=1)] = service.DEFAULT_LIMIT,
    json_output: JsonOption = False,
) -> None:
    """Incidents, newest first."""
    with cli_state(ctx).session() as session:
        listed = [
            incident_read(i)
            for i in service.list_incidents(
                session, status=status, service=service_name, limit=limit
            )
        ]
    if json_output:
        print_json([i.model_dump(mode="json") for i in listed])
    elif not listed:
        _say("no incidents")
    else:
        _list_table(listed)


def _print_detail(detail: IncidentDetail) -> None:
    _say(f"#{detail.id} {detail.severity} {detail.status}: {detail.title}")
    if detail.service:
        _say(f"service: {detail.service}")
    if detail.summary:
        _say(f"summary: {detail.summary}")
    _say(
        f"impact started {_when(detail.started_at)}, declared {_when(detail.declared_at)} by "
        f"{detail.declared_by}"
    )
    if detail.acknowledged_at:
        _say(f"acknowledged {_when(detail.acknowledged_at)} by {detail.acknowledged_by}")
    if detail.resolved_at:
        _say(f"resolved {_when(detail.resolved_at)} by {detail.resolved_by}")
    for role in detail.roles:
        _say(f"{role.role}: {role.user}")
    if detail.alert_group_ids:
        _say("alert groups: " + ", ".join(f"#{g}" for g in detail.alert_group_ids))
    for budget in detail.budgets:
        if budget.burned is None:
            _say(f"SLO {budget.slo}: budget burned unknown ({budget.problem})")
        else:
            _say(
                f"SLO {budget.slo}: {budget.burned:.2%} of its {budget.window} error budget "
                f"burned (burn rate {budget.burn_rate:.3g})"
            )
    columns = [
        Column("at"),
        Column("kind"),
        Column("from", drop=2),
        Column("actor", drop=1),
        Column("text", kind="wrap"),
    ]
    rows = [[_when(t.at), t.kind, t.source, t.actor or "-", t.text] for t in detail.timeline]
    console.print(fitted_table(columns, rows, width=console.width, title="timeline"))


@app.command()
@guarded
def show(ctx: typer.Context, incident_id: IdArgument, json_output: JsonOption = False) -> None:
    """An incident with its roles, timeline, links and budget burned."""
    with cli_state(ctx).session() as session:
        detail = incident_detail.show(session, incident_id=incident_id, now=utcnow())
    if json_output:
        print_json(detail.model_dump(mode="json"))
    else:
        _print_detail(detail)


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
    with cli_state(ctx).session() as session:
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
        _say(f"incident #{detail.id} declared: {detail.severity} {detail.title}")


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
    with cli_state(ctx).session() as session:
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
        _say(
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
        _say(message)


@app.command("ack")
@guarded
def acknowledge(
    ctx: typer.Context,
    incident_id: IdArgument,
    actor: ActorOption = None,
    json_output: JsonOption = False,
) -> None:
    """Acknowledge an incident."""
    with cli_state(ctx).session() as session:
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
    with cli_state(ctx).session() as session:
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
    with cli_state(ctx).session() as session:
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
    with cli_state(ctx).session() as session:
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
    with cli_state(ctx).session() as session:
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
    with cli_state(ctx).session() as session:
        service.add_note(
            session, incident_id=incident_id, text=text, actor=_actor(actor), now=utcnow()
        )
    _say(f"note added to incident #{incident_id}")


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
    with cli_state(ctx).session() as session:
        service.assign_role(
            session,
            incident_id=incident_id,
            role=role_name,
            user=user,
            actor=_actor(actor),
            now=utcnow(),
        )
    _say(f"{user} is {role_name.lower()} of incident #{incident_id}")


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
    with cli_state(ctx).session() as session:
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
    _say(f"linked to incident #{incident_id}")


def _metrics_table(title: str, groups: list[GroupMetricsRead], *, by: str) -> None:
    columns = [
        Column(by, kind="fold"),
        Column("incidents", justify="right"),
        Column("open", justify="right"),
        Column("MTTA", justify="right"),
        Column("MTTR", justify="right"),
        Column("MTBF", justify="right", drop=1),
        Column("ack late", justify="right", drop=2),
        Column("fix late", justify="right", drop=2),
    ]
    rows = [
        [
            (g.service or "(no service)") if by == "service" else (g.severity or "-"),
            str(g.count),
            str(g.open),
            _seconds(g.mtta_seconds),
            _seconds(g.mttr_seconds),
            _seconds(g.mtbf_seconds),
            str(g.response_breaches),
            str(g.resolution_breaches),
        ]
        for g in groups
    ]
    console.print(fitted_table(columns, rows, width=console.width, title=title))


@app.command()
@guarded
def metrics(
    ctx: typer.Context,
    since: Annotated[
        str, typer.Option("--since", help="A duration back from now (30d) or a time.")
    ] = "30d",
    until: Annotated[str | None, typer.Option("--until", help="Default: now.")] = None,
    json_output: JsonOption = False,
) -> None:
    """MTTA, MTTR, MTBF and target breaches of incidents that started in the period."""
    now = utcnow()
    with cli_state(ctx).session() as session:
        start, end = figures.period(since=since, until=until, now=now)
        report = metrics_read(service.metrics(session, since=start, until=end, now=now))
    if json_output:
        print_json(report.model_dump(mode="json"))
        return
    overall = report.overall
    _say(
        f"{plural(overall.count, 'incident')} started "
        f"{_when(report.since)} to {_when(report.until)}; "
        f"{report.open_now} open now; MTTA {_seconds(overall.mtta_seconds)}, "
        f"MTTR {_seconds(overall.mttr_seconds)}, MTBF {_seconds(overall.mtbf_seconds)}"
    )
    if report.by_service:
        _metrics_table("by service", report.by_service, by="service")
        _metrics_table("by severity", report.by_severity, by="severity")
    _burden_tables(report)


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


def _burden_tables(report: MetricsReportRead) -> None:
    if report.alert_noise:
        columns = [
            Column("service"),
            Column("alert groups"),
            Column("auto-resolved unacked"),
            Column("never acked"),
        ]
        rows = [
            [
                n.service or "-",
                str(n.groups),
                f"{n.auto_resolved_unacknowledged} ({_ratio(n.auto_resolved_ratio)})",
                f"{n.never_acknowledged} ({_ratio(n.never_acknowledged_ratio)})",
            ]
            for n in report.alert_noise
        ]
        console.print(fitted_table(columns, rows, width=console.width, title="alert noise"))
    if report.pages:
        columns = [
            Column("responder"),
            Column("time zone", drop=1),
            Column("business"),
            Column("off"),
            Column("sleep"),
            Column("total"),
        ]
        rows = [
            [p.responder, p.time_zone, str(p.business), str(p.off), str(p.sleep), str(p.total)]
            for p in report.pages
        ]
        console.print(fitted_table(columns, rows, width=console.width, title="pages by hours"))


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
    _say(f"applied {severities.describe(applied)}")
