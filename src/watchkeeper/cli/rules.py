"""``watchkeeper rules generate``: Prometheus recording and alerting rules from SLO specs."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from watchkeeper.cli import specs as specs_cli
from watchkeeper.cli.output import error_console, fail
from watchkeeper.messages import plural
from watchkeeper.rules import Mode, OutputFormat, RulesError, generate
from watchkeeper.rules.promtool_tests import promtool_tests
from watchkeeper.specs import SpecError, load_paths

app = typer.Typer(no_args_is_help=True, help="Generate Prometheus rules from SLO specs.")


class Compat(StrEnum):
    """Generators another tool's rules can be reproduced with."""

    SLOTH = "sloth"


def _note(message: str) -> None:
    error_console.print(message, markup=False, highlight=False, soft_wrap=True)


def _extra_labels(values: list[str]) -> dict[str, str]:
    labels: dict[str, str] = {}
    for value in values:
        name, sep, text = value.partition("=")
        if not sep or not name:
            raise typer.BadParameter(f"{value!r} is not KEY=VALUE", param_hint="--extra-labels")
        labels[name] = text
    return labels


def _relative(target: Path, start: Path) -> str:
    try:
        return str(target.resolve().relative_to(start.resolve()))
    except ValueError:
        return str(target.resolve())


@app.command("generate")
def generate_rules(
    paths: specs_cli.Paths,
    output: Annotated[
        str,
        typer.Option(
            "-o",
            "--output",
            help="File to write, '-' for stdout; with --split, a directory (one file per service).",
        ),
    ] = "-",
    compat: Annotated[
        Compat | None,
        typer.Option(
            "--compat", help="Generate the rules Sloth generates (same names and labels)."
        ),
    ] = None,
    period: specs_cli.Period = "30d",
    output_format: Annotated[
        OutputFormat,
        typer.Option(
            "--format",
            help="rules: a Prometheus rule file; prometheusrule: a Prometheus-Operator resource.",
            case_sensitive=False,
        ),
    ] = OutputFormat.RULES,
    split: Annotated[
        bool, typer.Option("--split", help="Write one file per service into the -o directory.")
    ] = False,
    extra_labels: Annotated[
        list[str] | None,
        typer.Option(
            "--extra-labels",
            "-l",
            help="KEY=VALUE added to every SLO's labels (repeatable), as Sloth's flag does.",
        ),
    ] = None,
    skip_unsupported: Annotated[
        bool,
        typer.Option(
            "--skip-unsupported",
            help="Leave out SLOs Prometheus cannot compute (with a warning) instead of failing.",
        ),
    ] = False,
    tests: Annotated[
        Path | None,
        typer.Option(
            "--tests",
            help="Also write a 'promtool test rules' file for the generated rule file.",
        ),
    ] = None,
) -> None:
    """Generate Prometheus recording and alerting rules for Prometheus-sourced SLOs."""
    labels = _extra_labels(extra_labels or [])
    if split and output == "-":
        raise typer.BadParameter("--split writes one file per service: give -o DIRECTORY")
    if tests is not None and (split or output == "-" or output_format is not OutputFormat.RULES):
        raise typer.BadParameter(
            "--tests needs one rule file: --format rules, -o FILE and no --split"
        )
    try:
        spec_set = load_paths(paths, default_period=specs_cli.parse_period(period))
    except SpecError as error:
        specs_cli.print_problems(error)
        raise typer.Exit(1) from None
    mode = Mode.SLOTH if compat is Compat.SLOTH else Mode.EXACT
    try:
        generation = generate(
            spec_set,
            mode=mode,
            output_format=output_format,
            split=split,
            extra_labels=labels,
            skip_unsupported=skip_unsupported,
        )
    except RulesError as error:
        fail(error.detail)
    for line in generation.skipped:
        _note(f"warning: skipped {line}")
    count = plural(len(generation.slos), "SLO")
    if output == "-":
        sys.stdout.write(generation.files[0].text)
        return
    target = Path(output)
    if split:
        try:
            target.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            fail(f"cannot create {target}: {exc.strerror or exc}")
        for generated in generation.files:
            specs_cli.write_atomically(target / f"{generated.service}.yaml", generated.text)
        _note(f"wrote rules for {count} in {plural(len(generation.files), 'file')} under {target}")
    else:
        specs_cli.write_atomically(target, generation.files[0].text)
        _note(f"wrote rules for {count} to {target}")
    if tests is not None:
        rule_file = _relative(target, tests.parent if str(tests.parent) else Path("."))
        text, untested = promtool_tests(generation.slos, rule_files=[rule_file], mode=mode)
        for line in untested:
            _note(f"warning: {line}")
        specs_cli.write_atomically(tests, text)
        _note(f"wrote promtool tests to {tests} (run: promtool test rules {tests})")
