"""``watchkeeper incident list|show|metrics``: reading incidents and their figures.

The commands are registered on the ``incident`` sub-app by :mod:`watchkeeper.cli.incident`,
in the order its help lists them; the options and output helpers here serve both modules.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

import typer

from watchkeeper.cli.context import cli_state
from watchkeeper.cli.output import console, guarded, print_json
from watchkeeper.cli.tables import Column, fitted_table
from watchkeeper.core.duration import format_duration
from watchkeeper.db import MAX_ROW_ID, utcnow
from watchkeeper.incident import detail as incident_detail
from watchkeeper.incident import figures, service
from watchkeeper.incident.schemas import (
    GroupMetricsRead,
    IncidentDetail,
    IncidentRead,
    MetricsReportRead,
    incident_read,
    metrics_read,
)
from watchkeeper.messages import plural

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]
IdArgument = Annotated[int, typer.Argument(help="The incident's id.", min=1, max=MAX_ROW_ID)]


def say(text: str) -> None:
    """Print a line of plain text (no Rich markup or highlighting)."""
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
        say("no incidents")
    else:
        _list_table(listed)


def _print_detail(detail: IncidentDetail) -> None:
    say(f"#{detail.id} {detail.severity} {detail.status}: {detail.title}")
    if detail.service:
        say(f"service: {detail.service}")
    if detail.summary:
        say(f"summary: {detail.summary}")
    say(
        f"impact started {_when(detail.started_at)}, declared {_when(detail.declared_at)} by "
        f"{detail.declared_by}"
    )
    if detail.acknowledged_at:
        say(f"acknowledged {_when(detail.acknowledged_at)} by {detail.acknowledged_by}")
    if detail.resolved_at:
        say(f"resolved {_when(detail.resolved_at)} by {detail.resolved_by}")
    for role in detail.roles:
        say(f"{role.role}: {role.user}")
    if detail.alert_group_ids:
        say("alert groups: " + ", ".join(f"#{g}" for g in detail.alert_group_ids))
    for budget in detail.budgets:
        if budget.burned is None:
            say(f"SLO {budget.slo}: budget burned unknown ({budget.problem})")
        else:
            say(
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


@guarded
def show(ctx: typer.Context, incident_id: IdArgument, json_output: JsonOption = False) -> None:
    """An incident with its roles, timeline, links and budget burned."""
    with cli_state(ctx).session() as session:
        detail = incident_detail.show(session, incident_id=incident_id, now=utcnow())
    if json_output:
        print_json(detail.model_dump(mode="json"))
    else:
        _print_detail(detail)


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
    say(
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
