"""``watchkeeper report trends``: leadership trends per calendar month (docs/reports.md)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

import typer

from watchkeeper.cli.context import cli_state
from watchkeeper.cli.output import console, guarded, print_json
from watchkeeper.cli.tables import Column, fitted_table
from watchkeeper.core.duration import format_duration
from watchkeeper.db import utcnow
from watchkeeper.flows import trends as trend_flows
from watchkeeper.report.schemas import MonthTrendRead

app = typer.Typer(help="Reports across SLOs, incidents and pages.", no_args_is_help=True)


def _share(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    whole = round(seconds)
    return format_duration(timedelta(seconds=whole)) if whole > 0 else "0s"


def _row(month: MonthTrendRead) -> list[str]:
    label = f"{month.month} (so far)" if month.partial else month.month
    compliance = (
        f"{month.slos_met}/{month.slos_with_data} {_share(month.compliance)}"
        if month.slos_with_data
        else "-"
    )
    severities = " ".join(f"{name}:{n}" for name, n in month.incidents.items() if n) or "0"
    return [
        label,
        compliance,
        _share(month.budget_consumed_median),
        _share(month.budget_consumed_worst)
        + (f" {month.worst_slo}" if month.worst_slo is not None else ""),
        severities,
        _duration(month.mtta_seconds),
        _duration(month.mttr_seconds),
        f"{month.pages} ({month.pages_out_of_hours})",
    ]


@app.command("trends")
@guarded
def trends(
    ctx: typer.Context,
    months: Annotated[
        int,
        typer.Option(
            "--months", min=1, max=trend_flows.MAX_MONTHS, help="Calendar months, current last."
        ),
    ] = 6,
    zone: Annotated[
        str, typer.Option("--zone", help="IANA time zone the months are taken in.")
    ] = "UTC",
    json_output: Annotated[
        bool, typer.Option("--json", help="Print JSON instead of text.")
    ] = False,
) -> None:
    """SLO compliance, budget consumed, incidents, MTTA/MTTR and pages per month."""
    with cli_state(ctx).session() as session:
        report = trend_flows.trends(session, months=months, now=utcnow(), zone=zone)
    if json_output:
        print_json(report.model_dump(mode="json"))
        return
    columns = [
        Column("month"),
        Column("SLOs met"),
        Column("budget median"),
        Column("budget worst", kind="fold", drop=1),
        Column("incidents", kind="fold"),
        Column("MTTA"),
        Column("MTTR"),
        Column("pages (out of hours)", drop=2),
    ]
    rows = [_row(month) for month in report.months]
    title = f"trends ({report.zone})"
    console.print(fitted_table(columns, rows, width=console.width, title=title))
