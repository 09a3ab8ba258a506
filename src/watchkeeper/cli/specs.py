"""``watchkeeper slo validate`` and ``watchkeeper slo convert``: specs on disk, no server."""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from datetime import timedelta
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from watchkeeper.cli.output import console, error_console, fail, print_json
from watchkeeper.cli.tables import Column, fitted_table
from watchkeeper.core.duration import parse_duration
from watchkeeper.messages import plural
from watchkeeper.specs import SpecError, SpecSet, convert, load_paths


class TargetFormat(StrEnum):
    """Formats ``slo convert`` writes."""

    NATIVE = "native"
    OPENSLO = "openslo"


def parse_period(value: str) -> timedelta:
    """The --period option as a duration (usage error if malformed)."""
    try:
        return parse_duration(value)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None


Paths = Annotated[
    list[Path],
    typer.Argument(help="Spec files, or directories searched for *.yaml and *.yml files."),
]
Period = Annotated[
    str,
    typer.Option(
        "--period",
        help="SLO period given to Sloth specs, which have none (Sloth's default is 30d).",
    ),
]


def print_problems(error: SpecError) -> None:
    """Each spec problem on its own stderr line, then how many there were."""
    for problem in error.problems:
        error_console.print(str(problem), markup=False, highlight=False, soft_wrap=True)
    count = len(error.problems)
    error_console.print(f"{plural(count, 'problem')} found", markup=False, highlight=False)


def _summary(spec_set: SpecSet) -> Table:
    columns = [
        Column("file", kind="fold"),
        Column("format", kind="wrap"),
        Column("SLOs", justify="right"),
        Column("policies", justify="right"),
    ]
    rows = [
        [
            summary.path,
            ", ".join(summary.formats) or "-",
            f"{len(summary.slos):,}",
            f"{len(summary.policies):,}",
        ]
        for summary in spec_set.files
    ]
    return fitted_table(columns, rows, width=console.width, title="Specs")


def validate(
    paths: Paths,
    json_output: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
    period: Period = "30d",
) -> None:
    """Check SLO specs (native, OpenSLO v1, Sloth prometheus/v1); list every problem found."""
    try:
        spec_set = load_paths(paths, default_period=parse_period(period))
    except SpecError as error:
        if json_output:
            print_json(
                {
                    "valid": False,
                    "slos": [],
                    "policies": [],
                    "problems": [problem.to_dict() for problem in error.problems],
                    "evaluated_by": {},
                }
            )
        print_problems(error)
        raise typer.Exit(1) from None
    if json_output:
        print_json(
            {
                "valid": True,
                "slos": [slo.key for slo in spec_set.slos],
                "policies": [policy.name for policy in spec_set.policies],
                "problems": [],
                "evaluated_by": {slo.key: slo.sli.evaluated_by for slo in spec_set.slos},
            }
        )
        return
    console.print(_summary(spec_set))
    catalogued = [slo for slo in spec_set.slos if slo.sli.external is not None]
    if catalogued:
        listed = ", ".join(
            f"{slo.key} ({slo.sli.external.source_type})"
            for slo in catalogued
            if slo.sli.external is not None
        )
        console.print(
            f"catalogued, not evaluated (stored and exported; no figures): {listed}",
            markup=False,
            highlight=False,
        )
    console.print(
        f"[green]valid:[/] {plural(len(spec_set.slos), 'SLO')}, "
        f"{plural(len(spec_set.policies), 'policy')}",
        highlight=False,
    )


def convert_specs(
    paths: Paths,
    to: Annotated[
        TargetFormat, typer.Option("--to", help="Format to write.", case_sensitive=False)
    ],
    output: Annotated[
        Path | None,
        typer.Option("-o", "--output", help="Write to this file instead of stdout."),
    ] = None,
    period: Period = "30d",
) -> None:
    """Convert SLO specs to native or OpenSLO v1 YAML."""
    try:
        spec_set = load_paths(paths, default_period=parse_period(period))
    except SpecError as error:
        print_problems(error)
        raise typer.Exit(1) from None
    text = convert(spec_set, to.value)
    if output is None:
        sys.stdout.write(text)
        return
    write_atomically(output, text)
    error_console.print(
        f"wrote {plural(len(spec_set.slos), 'SLO')} as {to.value} to {output}",
        markup=False,
        highlight=False,
    )


def write_atomically(path: Path, text: str) -> None:
    """Write through a temporary file in the same directory, so a failure leaves no partial file."""
    directory = path.parent if str(path.parent) else Path(".")
    try:
        handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=directory)
    except OSError as exc:
        fail(f"cannot write {path}: {exc.strerror or exc}")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        # mkstemp creates the file private; give it the mode a plain write would have.
        mode = path.stat().st_mode & 0o777 if path.exists() else 0o644
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        fail(f"cannot write {path}: {exc.strerror or exc}")


def register(slo_app: typer.Typer) -> None:
    """Add ``validate`` and ``convert`` to the ``slo`` sub-app."""
    slo_app.command("validate")(validate)
    slo_app.command("convert")(convert_specs)
