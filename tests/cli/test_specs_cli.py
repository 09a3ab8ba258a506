"""``slo validate`` and ``slo convert`` through Typer's test runner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from watchkeeper.cli.specs import register
from watchkeeper.specs import load_paths, load_text

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
# The spec examples (examples/ may also hold other kinds of files, e.g. on-call schedules).
SPEC_PATHS = [
    str(EXAMPLES / "checkout.yaml"),
    str(EXAMPLES / "checkout-policy.yaml"),
    str(EXAMPLES / "openslo"),
    str(EXAMPLES / "sloth"),
]
INVALID = """\
apiVersion: watchkeeper/v1
kind: ServiceLevels
service: checkout
slos:
  - name: availability
    objective: 99.9
    window: 30d
    sli: {kind: ratio}
    alerting: {pages: {}}
"""


@pytest.fixture
def app() -> typer.Typer:
    root = typer.Typer()
    slo = typer.Typer()
    register(slo)
    root.add_typer(slo, name="slo")
    return root


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def test_validate_prints_a_summary_per_file(app: typer.Typer, runner: CliRunner) -> None:
    result = runner.invoke(app, ["slo", "validate", *SPEC_PATHS], terminal_width=200)
    assert result.exit_code == 0, result.output
    assert "valid: 14 SLOs, 1 policy" in result.stdout
    assert "checkout.yaml" in result.stdout
    for spec_format in ("native", "openslo", "sloth"):
        assert spec_format in result.stdout
    assert result.stderr == ""


def test_validate_fits_80_columns_without_cutting_file_names(
    app: typer.Typer, runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    from watchkeeper.cli import output

    monkeypatch.setattr(output.console, "_width", 80)
    result = runner.invoke(app, ["slo", "validate", *SPEC_PATHS])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80
    assert "…" not in result.stdout
    # A file name folded over several lines reads whole when its column's pieces are joined.
    first_column = "".join(line.split("│")[1].strip() for line in lines if line.startswith("│"))
    for summary in load_paths([Path(p) for p in SPEC_PATHS]).files:
        assert summary.path in first_column


def test_validate_json(app: typer.Typer, runner: CliRunner) -> None:
    result = runner.invoke(app, ["slo", "validate", "--json", str(EXAMPLES / "checkout.yaml")])
    assert result.exit_code == 0
    assert json.loads(result.stdout) == {
        "valid": True,
        "slos": ["checkout/availability", "checkout/latency", "checkout/good-minutes"],
        "policies": [],
        "problems": [],
        "evaluated_by": {
            "checkout/availability": "watchkeeper",
            "checkout/latency": "watchkeeper",
            "checkout/good-minutes": "watchkeeper",
        },
    }


def test_validate_reports_every_problem_on_stderr(
    app: typer.Typer, runner: CliRunner, tmp_path: Path
) -> None:
    spec = tmp_path / "bad.yaml"
    spec.write_text(INVALID)
    result = runner.invoke(app, ["slo", "validate", str(spec)])
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"{spec}:6: document 1: slos[0].objective: must be a ratio between 0 and 1 (exclusive), "
        "not 99.9; did you mean 0.999?",
        f"{spec}:9: document 1: slos[0].alerting.pages: unknown field; did you mean 'page'?",
        "2 problems found",
    ]
    assert "Traceback" not in result.output


def test_validate_json_when_invalid(app: typer.Typer, runner: CliRunner, tmp_path: Path) -> None:
    spec = tmp_path / "bad.yaml"
    spec.write_text(INVALID)
    result = runner.invoke(app, ["slo", "validate", "--json", str(spec)])
    assert result.exit_code == 1
    body = json.loads(result.stdout)
    assert body["valid"] is False
    assert body["problems"][0] == {
        "file": str(spec),
        "document": 1,
        "line": 6,
        "field": "slos[0].objective",
        "message": "must be a ratio between 0 and 1 (exclusive), not 99.9; did you mean 0.999?",
    }
    assert len(body["problems"]) == 2


def test_validate_missing_file_is_a_clear_error(app: typer.Typer, runner: CliRunner) -> None:
    result = runner.invoke(app, ["slo", "validate", "does-not-exist.yaml"])
    assert result.exit_code == 1
    assert "does-not-exist.yaml: no such file or directory" in result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_validate_period_for_sloth(app: typer.Typer, runner: CliRunner) -> None:
    sloth = str(EXAMPLES / "sloth" / "payments-raw.yaml")
    assert runner.invoke(app, ["slo", "validate", "--period", "28d", sloth]).exit_code == 0
    short = runner.invoke(app, ["slo", "validate", "--period", "1d", sloth])
    assert short.exit_code == 1
    assert "shorter than the longest default alert window" in short.stderr
    bad = runner.invoke(app, ["slo", "validate", "--period", "a month", sloth])
    assert bad.exit_code == 2  # a usage error


@pytest.mark.parametrize("to", ["native", "openslo"])
def test_convert_to_stdout_loads_back_equal(app: typer.Typer, runner: CliRunner, to: str) -> None:
    result = runner.invoke(app, ["slo", "convert", *SPEC_PATHS, "--to", to])
    assert result.exit_code == 0, result.output
    original = load_paths([Path(path) for path in SPEC_PATHS])
    converted = load_text(result.stdout)
    assert {s.key: s for s in converted.slos} == {s.key: s for s in original.slos}
    assert converted.policies == original.policies


def test_convert_to_a_file(app: typer.Typer, runner: CliRunner, tmp_path: Path) -> None:
    target = tmp_path / "out.yaml"
    source = str(EXAMPLES / "openslo" / "catalog-referenced.yaml")
    result = runner.invoke(app, ["slo", "convert", source, "--to", "native", "-o", str(target)])
    assert result.exit_code == 0
    assert result.stdout == ""
    assert "wrote 1 SLO as native" in result.stderr
    assert load_paths([target]).slos == load_paths([Path(source)]).slos
    assert target.stat().st_mode & 0o777 == 0o644
    assert [p.name for p in tmp_path.iterdir()] == ["out.yaml"]  # no temporary left behind


def test_convert_invalid_input_writes_nothing(
    app: typer.Typer, runner: CliRunner, tmp_path: Path
) -> None:
    spec = tmp_path / "bad.yaml"
    spec.write_text(INVALID)
    target = tmp_path / "out.yaml"
    result = runner.invoke(app, ["slo", "convert", str(spec), "--to", "openslo", "-o", str(target)])
    assert result.exit_code == 1
    assert "did you mean 0.999?" in result.stderr
    assert not target.exists()


def test_convert_to_an_unwritable_place(
    app: typer.Typer, runner: CliRunner, tmp_path: Path
) -> None:
    target = tmp_path / "no-such-dir" / "out.yaml"
    source = str(EXAMPLES / "checkout.yaml")
    result = runner.invoke(app, ["slo", "convert", source, "--to", "native", "-o", str(target)])
    assert result.exit_code == 1
    assert "cannot write" in result.stderr
    assert "Traceback" not in result.output


def test_convert_needs_a_known_target(app: typer.Typer, runner: CliRunner) -> None:
    result = runner.invoke(app, ["slo", "convert", *SPEC_PATHS, "--to", "sloth"])
    assert result.exit_code == 2
