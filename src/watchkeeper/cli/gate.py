"""``watchkeeper gate``: may this service deploy now?"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.text import Text

from watchkeeper.cli.context import cli_state
from watchkeeper.cli.output import console, guarded, print_json
from watchkeeper.cli.tables import Column, fitted_table, status_table
from watchkeeper.db import utcnow
from watchkeeper.policy import gate as gate_service
from watchkeeper.policy.schemas import GateRead, gate_read


@guarded
def gate(
    ctx: typer.Context,
    service: Annotated[str, typer.Option("--service", help="The service about to deploy.")],
    change_type: Annotated[
        str | None,
        typer.Option("--change-type", help="e.g. fix or rollback; policies may exempt it."),
    ] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Deploy gate: exit 0 when the service may deploy, 1 when denied or approval is needed."""
    with cli_state(ctx).session() as session:
        result = gate_service.check(session, service=service, change_type=change_type, now=utcnow())
    document = gate_read(result)
    if json_output:
        print_json(document.model_dump(mode="json"))
    else:
        _print(document)
    if not document.allowed:
        raise typer.Exit(1)


def _say(text: str) -> None:
    console.print(text, markup=False, highlight=False)


def _print(document: GateRead) -> None:
    colour = "green" if document.allowed else "red"
    headline = Text(document.decision.upper(), style=f"bold {colour}")
    headline.append(f" deploy of {document.service}", style="")
    if document.change_type:
        headline.append(f" (change type {document.change_type})", style="")
    console.print(headline, highlight=False)
    decided = document.decided_by
    if decided is not None and decided.exempt:
        _say(f"allowed by policy {decided.policy!r} on {decided.slo}: {decided.reason}")
    elif decided is not None:
        _say(
            f"decided by policy {decided.policy!r} rule {decided.rule!r} on {decided.slo}: "
            f"{decided.reason}"
        )
    elif not document.policies:
        _say("no error-budget policy applies to this service")
    else:
        _say(f"no rule of {', '.join(document.policies)} matched")
    seen = document.matches + document.exemptions
    if len(seen) > 1:
        columns = [
            Column("policy", kind="fold", drop=1),
            Column("rule", kind="fold"),
            Column("SLO", kind="fold"),
            Column("action"),
            Column("reason", kind="wrap"),
        ]
        rows = [
            [m.policy, m.rule, m.slo, "exempt" if m.exempt else m.action, m.reason] for m in seen
        ]
        console.print(fitted_table(columns, rows, width=console.width, title="all rules that held"))
    if document.slos:
        console.print(
            status_table(document.slos, width=console.width, title=f"SLOs of {document.service}")
        )
    for incident in document.incidents:
        what = f"#{incident.id} {incident.severity} ({incident.status})"
        _say(f"open incident {what}: {incident.title}")
    for unevaluated in document.not_evaluated:
        _say(f"{unevaluated.slo}: not evaluated: {unevaluated.reason} (counts as no data)")
