"""``watchkeeper slo export``: the applied SLOs (and policies) written back as specs."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from watchkeeper.cli.context import cli_state
from watchkeeper.cli.output import error_console, guarded
from watchkeeper.cli.specs import TargetFormat, write_atomically
from watchkeeper.core.policy import ErrorBudgetPolicy
from watchkeeper.messages import plural
from watchkeeper.policy import service as policy_service
from watchkeeper.slo import service
from watchkeeper.slo.exceptions import NotEvaluable
from watchkeeper.specs import SpecSet, convert


def _policies_for(
    policies: list[ErrorBudgetPolicy], spec_set: SpecSet, service_name: str | None
) -> tuple[ErrorBudgetPolicy, ...]:
    """Every policy, or for one service those its SLOs name or that scope to it."""
    if service_name is None:
        return tuple(policies)
    named = {slo.policy for slo in spec_set.slos}
    return tuple(p for p in policies if p.name in named or service_name in p.services)


@guarded
def export_slos(
    ctx: typer.Context,
    service_name: Annotated[
        str | None, typer.Option("--service", help="Only this service's SLOs.")
    ] = None,
    to: Annotated[
        TargetFormat, typer.Option("--to", help="Format to write.", case_sensitive=False)
    ] = TargetFormat.NATIVE,
    output: Annotated[
        Path | None,
        typer.Option("-o", "--output", help="Write to this file instead of stdout."),
    ] = None,
) -> None:
    """Write the applied SLOs as specs (native also writes the error-budget policies)."""
    with cli_state(ctx).session() as session:
        records = (
            service.for_service(session, service=service_name)
            if service_name is not None
            else service.list_slos(session)
        )
        slos = []
        for record in records:
            try:
                slos.append(service.to_core(record))
            except NotEvaluable as exc:  # stored before validation refused it
                error_console.print(f"skipped {exc.detail}", markup=False, highlight=False)
        spec_set = SpecSet(
            slos=tuple(slos),
            formats={record.key: record.source_format for record in records},
        )
        policies = policy_service.list_policies(session) if to is TargetFormat.NATIVE else []
    spec_set = SpecSet(
        slos=spec_set.slos,
        policies=_policies_for(policies, spec_set, service_name),
        formats=spec_set.formats,
    )
    text = convert(spec_set, to.value) if spec_set.slos or spec_set.policies else ""
    if not spec_set.slos:
        error_console.print("no SLOs have been applied", markup=False, highlight=False)
    if output is None:
        sys.stdout.write(text)
        return
    write_atomically(output, text)
    error_console.print(
        f"wrote {plural(len(spec_set.slos), 'SLO')} and "
        f"{plural(len(spec_set.policies), 'policy')} as {to.value} "
        f"to {output}",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )
