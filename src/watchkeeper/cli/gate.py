"""``watchkeeper gate``: may this service deploy now?"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from watchkeeper.cli.context import database_session
from watchkeeper.cli.output import console, guarded, print_json
from watchkeeper.cli.tables import status_table
from watchkeeper.db import utcnow
from watchkeeper.policy import gate as gate_service
from watchkeeper.policy.schemas import gate_read


@guarded
def gate(
    service: Annotated[str, typer.Option("--service", help="The service about to deploy.")],
    change_type: Annotated[
        str | None,
        typer.Option("--change-type", help="e.g. fix or rollback; policies may exempt it."),
    ] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Deploy gate: exit 0 when the service may deploy, 1 when denied or approval is needed."""
    with database_session() as session:
        result = gate_service.check(session, service=service, change_type=change_type, now=utcnow())
    document = gate_read(result)
    if json_output:
        print_json(document.model_dump(mode="json"))
    else:
        colour = "green" if document.allowed else "red"
        console.print(f"[bold {colour}]{document.decision.upper()}[/] deploy of {service}")
        if document.decided_by:
            d = document.decided_by
            console.print(f"decided by policy {d.policy!r} rule {d.rule!r} on {d.slo}: {d.reason}")
        elif not document.policies:
            console.print("no error-budget policy applies to this service")
        else:
            console.print(f"no rule of {', '.join(document.policies)} matched")
        if len(document.matches) > 1:
            table = Table(title="all matching rules")
            for column in ("policy", "rule", "SLO", "action", "reason"):
                table.add_column(column)
            for m in document.matches:
                table.add_row(m.policy, m.rule, m.slo, m.action, m.reason)
            console.print(table)
        console.print(status_table(document.slos, title=f"SLOs of {service}"))
        for key in document.skipped:
            console.print(f"not evaluated by Watchkeeper (Prometheus source): {key}")
    if not document.allowed:
        raise typer.Exit(1)
