"""``watchkeeper slo ...``: validate, convert, apply, list, status, explain, eval."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from watchkeeper.cli import specs as specs_cli
from watchkeeper.cli.context import database_session, parse_time
from watchkeeper.cli.output import console, error_console, guarded, print_json
from watchkeeper.cli.tables import figures_table, status_table
from watchkeeper.db import utcnow
from watchkeeper.slo import service
from watchkeeper.slo.explain import explain as explain_status
from watchkeeper.slo.offline import evaluate_file
from watchkeeper.slo.schemas import SLOStatusRead, status_read
from watchkeeper.specs import load_paths

app = typer.Typer(no_args_is_help=True, help="Manage and inspect SLOs.")
specs_cli.register(app)

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


def _resolve_key(name: str) -> str:
    """Accept ``service/name``, or a bare name when exactly one service has it."""
    if "/" in name:
        return name
    with database_session() as session:
        matches = [r.key for r in service.list_slos(session) if r.name == name]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        from watchkeeper.slo.exceptions import SLONotFound

        raise SLONotFound(f"no SLO named {name!r} has been applied (use service/name)")
    from watchkeeper.errors import InvalidInput

    raise InvalidInput(f"{name!r} is ambiguous: {', '.join(matches)}; use service/name")


@app.command()
@guarded
def apply(
    paths: Annotated[list[Path], typer.Argument(help="Spec files or directories.")],
    period: specs_cli.Period = "30d",
    json_output: JsonOption = False,
) -> None:
    """Validate specs and create or update their SLOs and policies (all or nothing)."""
    spec_set = load_paths(paths, default_period=specs_cli.parse_period(period))
    with database_session() as session:
        result = service.apply(session, spec_set=spec_set, now=utcnow())
    if json_output:
        print_json(result.__dict__)
        return
    for label, keys in (
        ("created", result.created),
        ("updated", result.updated),
        ("unchanged", result.unchanged),
    ):
        for key in keys:
            console.print(f"SLO {key} {label}")
    for label, names in (
        ("created", result.policies_created),
        ("updated", result.policies_updated),
        ("unchanged", result.policies_unchanged),
    ):
        for name in names:
            console.print(f"policy {name} {label}")


@app.command("list")
@guarded
def list_command(
    service_name: Annotated[
        str | None, typer.Option("--service", help="Only this service.")
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """List applied SLOs with their latest status."""
    with database_session() as session:
        records = service.list_slos(session, service=service_name)
        statuses = service.stored_statuses(session, records=records)
        rows = [(r.key, r.source_format, r.sli_name, statuses.get(r.id)) for r in records]
    if json_output:
        print_json(
            [
                {
                    "key": key,
                    "format": fmt,
                    "sli_name": sli,
                    "status": status.model_dump(mode="json") if status else None,
                }
                for key, fmt, sli, status in rows
            ]
        )
        return
    table = Table(title="SLOs")
    for column in ("SLO", "format", "SLI", "SLI value", "budget left", "firing"):
        table.add_column(column)
    for key, fmt, sli, status in rows:
        firing = ", ".join(a.severity for a in status.alerts if a.firing) if status else ""
        table.add_row(
            key,
            fmt,
            sli,
            "[bold red]FAILING[/]"
            if status and status.error
            else "-"
            if not status or status.sli is None
            else f"{status.sli * 100:.3f}%",
            "-"
            if not status or status.error_budget_remaining is None
            else f"{status.error_budget_remaining * 100:.1f}%",
            firing,
        )
    console.print(table)
    for key, _, _, status in rows:
        if status and status.error:
            console.print(f"{key} cannot be evaluated: {status.error}", markup=False)
    if any(status is None for _, _, _, status in rows):
        console.print(
            "SLOs without figures have not been evaluated yet: `watchkeeper serve` or "
            "`watchkeeper worker` evaluates them; `watchkeeper slo status NAME` evaluates now.",
            markup=False,
        )


@app.command()
@guarded
def status(
    name: Annotated[str, typer.Argument(help="SLO as service/name (or a unique name).")],
    json_output: JsonOption = False,
) -> None:
    """Show an SLO's figures now: SLI, budget, burn rates, alerts, forecast."""
    key = _resolve_key(name)
    with database_session() as session:
        evaluation = service.evaluate_now(session, key=key, at=utcnow())
    document = status_read(evaluation.slo, evaluation.status)
    if json_output:
        print_json(document.model_dump(mode="json"))
        return
    console.print(figures_table(document))
    _print_alerts(document)


def _print_alerts(document: SLOStatusRead) -> None:
    table = Table(title="burn-rate alerts")
    for column in ("severity", "long", "short", "factor", "burn long", "burn short", "firing"):
        table.add_column(column)
    for alert in document.alerts:
        table.add_row(
            alert.severity,
            alert.long,
            alert.short,
            f"{alert.factor:.4g}",
            "-" if alert.long_burn_rate is None else f"{alert.long_burn_rate:.4g}",
            "-" if alert.short_burn_rate is None else f"{alert.short_burn_rate:.4g}",
            "[bold red]FIRING[/]" if alert.firing else "no",
        )
    console.print(table)


@app.command()
@guarded
def explain(
    name: Annotated[str, typer.Argument(help="SLO as service/name (or a unique name).")],
    at: Annotated[str | None, typer.Option(help="Evaluation time (RFC 3339 or Unix s).")] = None,
    json_output: JsonOption = False,
) -> None:
    """Show the arithmetic behind an SLO's figures: counts, windows, thresholds."""
    key = _resolve_key(name)
    when = parse_time(at) if at else utcnow()
    with database_session() as session:
        evaluation = service.evaluate_now(session, key=key, at=when)
    explanation = explain_status(evaluation.slo, evaluation.status)
    if json_output:
        print_json(explanation.model_dump(mode="json"))
        return
    table = Table(title=f"{key} at {when.isoformat()}")
    table.add_column("what")
    table.add_column("arithmetic")
    table.add_column("result")
    for step in explanation.steps:
        table.add_row(step.what, step.formula, str(step.result))
    console.print(table)


@app.command("eval")
@guarded
def eval_command(
    spec: Annotated[list[Path], typer.Argument(help="Spec files or directories.")],
    data: Annotated[Path, typer.Option(help="SLI events: CSV with header, or JSONL.")],
    at: Annotated[str | None, typer.Option(help="Evaluation time (default: now).")] = None,
    ignore_unknown: Annotated[
        bool, typer.Option(help="Skip rows naming SLIs the specs do not declare.")
    ] = False,
    json_output: JsonOption = False,
) -> None:
    """Evaluate specs against a data file offline: no server, no database."""
    spec_set = load_paths(spec)
    when = parse_time(at) if at else utcnow()
    result = evaluate_file(spec_set.slos, data, at=when, ignore_unknown=ignore_unknown)
    documents = [status_read(slo, status) for slo, status in result.statuses]
    for note in result.skipped:
        error_console.print(f"skipped {note}")
    if json_output:
        print_json(
            {
                "at": when.isoformat().replace("+00:00", "Z"),
                "slos": [d.model_dump(mode="json") for d in documents],
                "skipped": result.skipped,
            }
        )
        return
    console.print(status_table(documents, title=f"SLOs at {when.isoformat()}"))
