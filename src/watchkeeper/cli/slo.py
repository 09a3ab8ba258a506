"""``watchkeeper slo ...``: validate, convert, apply, list, status, explain, eval."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.text import Text
from sqlalchemy.orm import Session

from watchkeeper.cli import backfill as backfill_cli
from watchkeeper.cli import backtest as backtest_cli
from watchkeeper.cli import specs as specs_cli
from watchkeeper.cli.context import cli_state, parse_time
from watchkeeper.cli.events import report_invalid_events
from watchkeeper.cli.export import export_slos
from watchkeeper.cli.numbers import sli_percent
from watchkeeper.cli.output import console, error_console, guarded, print_json
from watchkeeper.cli.tables import (
    Column,
    alerts_table,
    budget_cell,
    figures_table,
    fitted_table,
    status_table,
)
from watchkeeper.db import utcnow
from watchkeeper.errors import InvalidInput
from watchkeeper.events.exceptions import InvalidEvents
from watchkeeper.flows import specs as spec_flows
from watchkeeper.slo import service
from watchkeeper.slo.exceptions import SLONotFound
from watchkeeper.slo.explain import explain as explain_status
from watchkeeper.slo.offline import evaluate_file
from watchkeeper.slo.schemas import status_read
from watchkeeper.specs import load_paths

app = typer.Typer(no_args_is_help=True, help="Manage and inspect SLOs.")
specs_cli.register(app)
backtest_cli.register(app)
app.command("export")(export_slos)
app.command("backfill")(backfill_cli.backfill_command)

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


def _resolve_key(session: Session, name: str) -> str:
    """Accept ``service/name``, or a bare name when exactly one service has it."""
    if "/" in name:
        return name
    matches = [r.key for r in service.list_slos(session) if r.name == name]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise SLONotFound(f"no SLO named {name!r} has been applied (use service/name)")
    raise InvalidInput(f"{name!r} is ambiguous: {', '.join(matches)}; use service/name")


@app.command()
@guarded
def apply(
    ctx: typer.Context,
    paths: Annotated[list[Path], typer.Argument(help="Spec files or directories.")],
    period: specs_cli.Period = "30d",
    no_backfill: Annotated[
        bool,
        typer.Option(
            "--no-backfill",
            help="Do not load the history of newly created Prometheus SLOs from Prometheus.",
        ),
    ] = False,
    json_output: JsonOption = False,
) -> None:
    """Validate specs and create or update their SLOs and policies (all or nothing); new
    Prometheus SLOs get their SLO window's history backfilled (see `slo backfill`)."""
    spec_set = load_paths(paths, default_period=specs_cli.parse_period(period))
    state = cli_state(ctx)
    with state.session() as session:
        result = spec_flows.apply(session, spec_set=spec_set, now=utcnow())
    backfilled = [] if no_backfill else backfill_cli.backfill_created(state, result.created)
    if json_output:
        print_json({**result.__dict__, "backfilled": [b.key for b in backfilled]})
        return
    for label, keys in (
        ("created", result.created),
        ("updated", result.updated),
        ("unchanged", result.unchanged),
    ):
        for key in keys:
            console.print(f"SLO {key} {label}", markup=False, highlight=False)
    for label, names in (
        ("created", result.policies_created),
        ("updated", result.policies_updated),
        ("unchanged", result.policies_unchanged),
    ):
        for name in names:
            console.print(f"policy {name} {label}", markup=False, highlight=False)
    for done in backfilled:
        console.print(backfill_cli.describe(done), markup=False, highlight=False, soft_wrap=True)


@app.command("list")
@guarded
def list_command(
    ctx: typer.Context,
    service_name: Annotated[
        str | None, typer.Option("--service", help="Only this service.")
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """List applied SLOs with their latest status."""
    with cli_state(ctx).session() as session:
        records = service.list_slos(session, service=service_name)
        statuses = service.stored_statuses(session, records=records)
        rows = [(r.key, r.source_format, r.sli_name, statuses.get(r.id)) for r in records]
        evaluated_by = {r.key: service.evaluated_by(r) for r in records}
    if json_output:
        print_json(
            [
                {
                    "key": key,
                    "format": fmt,
                    "sli_name": sli,
                    "status": status.model_dump(mode="json") if status else None,
                    "evaluated_by": evaluated_by[key],
                }
                for key, fmt, sli, status in rows
            ]
        )
        return
    columns = [
        Column("SLO", kind="fold"),
        Column("format", drop=2),
        Column("SLI", kind="fold", drop=1),
        Column("SLI value", justify="right"),
        Column("budget left", justify="right"),
        Column("firing", kind="wrap"),
    ]
    cells = [
        [
            key,
            fmt,
            sli,
            "catalogued"
            if evaluated_by[key] is None
            else Text("FAILING", style="bold red")
            if status is not None and status.error
            else "-"
            if status is None
            else sli_percent(status.sli, status.objective),
            "-" if status is None else budget_cell(status.error_budget_remaining),
            Text(
                ", ".join(a.severity for a in status.alerts if a.firing) if status else "",
                style="bold red",
            ),
        ]
        for key, fmt, sli, status in rows
    ]
    console.print(fitted_table(columns, cells, width=console.width, title="SLOs"))
    for key, _, _, status in rows:
        if status is not None and status.error:
            console.print(f"{key} cannot be evaluated: {status.error}", markup=False)
    if any(status is None and evaluated_by[key] == "watchkeeper" for key, _, _, status in rows):
        console.print(
            "SLOs without figures have not been evaluated yet: `watchkeeper serve` or "
            "`watchkeeper worker` evaluates them; `watchkeeper slo status NAME` evaluates now.",
            markup=False,
        )
    if any(evaluated_by[key] == "prometheus" and status is None for key, _, _, status in rows):
        console.print(
            "SLOs reading Prometheus are evaluated by the worker from the Prometheus HTTP API "
            "(WATCHKEEPER_PROMETHEUS_URL); `watchkeeper slo status NAME` queries it now.",
            markup=False,
        )
    if any(evaluated_by[key] is None for key, _, _, _ in rows):
        console.print(
            "Catalogued SLOs read a system Watchkeeper does not query: stored and exported, "
            "never evaluated.",
            markup=False,
        )


@app.command()
@guarded
def status(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="SLO as service/name (or a unique name).")],
    json_output: JsonOption = False,
) -> None:
    """Show an SLO's figures now: SLI, budget, burn rates, alerts, forecast."""
    with cli_state(ctx).session() as session:
        key = _resolve_key(session, name)
        evaluation = service.evaluate_now(session, key=key, at=utcnow())
    document = status_read(evaluation.slo, evaluation.status)
    if json_output:
        print_json(document.model_dump(mode="json"))
        return
    console.print(figures_table(document, width=console.width))
    console.print(alerts_table(document, width=console.width))


@app.command()
@guarded
def explain(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="SLO as service/name (or a unique name).")],
    at: Annotated[str | None, typer.Option(help="Evaluation time (RFC 3339 or Unix s).")] = None,
    json_output: JsonOption = False,
) -> None:
    """Show the arithmetic behind an SLO's figures: counts, windows, thresholds."""
    when = parse_time(at) if at else utcnow()
    with cli_state(ctx).session() as session:
        key = _resolve_key(session, name)
        evaluation = service.evaluate_now(session, key=key, at=when)
    explanation = explain_status(evaluation.slo, evaluation.status)
    if json_output:
        print_json(explanation.model_dump(mode="json"))
        return
    columns = [
        Column("what", kind="wrap"),
        Column("arithmetic", kind="wrap"),
        Column("result", kind="wrap"),
    ]
    rows = [[step.what, step.formula, str(step.result)] for step in explanation.steps]
    console.print(
        fitted_table(columns, rows, width=console.width, title=f"{key} at {when.isoformat()}")
    )


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
    try:
        result = evaluate_file(spec_set.slos, data, at=when, ignore_unknown=ignore_unknown)
    except InvalidEvents as exc:
        report_invalid_events(exc, data, outcome="nothing was evaluated")
    documents = [status_read(slo, status) for slo, status in result.statuses]
    for note in result.skipped:
        error_console.print(f"skipped {note}", markup=False, highlight=False)
    if json_output:
        print_json(
            {
                "at": when.isoformat().replace("+00:00", "Z"),
                "slos": [d.model_dump(mode="json") for d in documents],
                "skipped": result.skipped,
            }
        )
        return
    console.print(status_table(documents, width=console.width, title=f"SLOs at {when.isoformat()}"))
