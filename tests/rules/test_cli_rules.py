"""``watchkeeper rules generate``: files, stdout, split, tests, and its exit codes."""

from __future__ import annotations

from pathlib import Path

import yaml

from tests.cli_runner import invoke
from tests.rules.specs import EVENT_STORE_SPEC, NATIVE_SPEC, SLOTH_SPEC


def _write(tmp_path: Path, name: str, *texts: str) -> Path:
    path = tmp_path / name
    path.write_text("\n---\n".join(texts))
    return path


def test_stdout_by_default_and_with_dash(tmp_path: Path) -> None:
    spec = _write(tmp_path, "slos.yaml", SLOTH_SPEC)
    for args in ((), ("-o", "-")):
        result = invoke("rules", "generate", str(spec), *args)
        assert result.exit_code == 0, result.output
        assert yaml.safe_load(result.stdout)["groups"][0]["name"].startswith("watchkeeper-slo-")


def test_compat_sloth_to_a_file(tmp_path: Path) -> None:
    spec = _write(tmp_path, "slos.yaml", SLOTH_SPEC)
    out = tmp_path / "rules.yml"
    result = invoke(
        "rules", "generate", str(spec), "--compat", "sloth", "-o", str(out), "-l", "env=prod"
    )
    assert result.exit_code == 0, result.output
    assert f"wrote rules for 1 SLO to {out}" in result.stderr
    groups = yaml.safe_load(out.read_text())["groups"]
    assert groups[0]["name"] == "sloth-slo-sli-recordings-myservice-requests-availability"
    assert groups[0]["rules"][0]["labels"]["env"] == "prod"


def test_period_applies_to_sloth_specs(tmp_path: Path) -> None:
    spec = _write(tmp_path, "slos.yaml", SLOTH_SPEC)
    result = invoke("rules", "generate", str(spec), "--compat", "sloth", "--period", "28d")
    assert result.exit_code == 0, result.output
    assert "record: slo:sli_error:ratio_rate4w" in result.stdout
    assert "vector(28)" in result.stdout


def test_split_into_a_directory_as_prometheus_rules(tmp_path: Path) -> None:
    spec = _write(tmp_path, "slos.yaml", SLOTH_SPEC, NATIVE_SPEC)
    out = tmp_path / "rules"
    result = invoke(
        "rules", "generate", str(spec), "--split", "--format", "prometheusrule", "-o", str(out)
    )
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["checkout.yaml", "myservice.yaml"]
    assert yaml.safe_load((out / "checkout.yaml").read_text())["kind"] == "PrometheusRule"


def test_tests_file_points_at_the_rule_file(tmp_path: Path) -> None:
    spec = _write(tmp_path, "slos.yaml", NATIVE_SPEC)
    out, tests = tmp_path / "rules.yml", tmp_path / "rules.test.yml"
    result = invoke("rules", "generate", str(spec), "-o", str(out), "--tests", str(tests))
    assert result.exit_code == 0, result.output
    document = yaml.safe_load(tests.read_text())
    assert document["rule_files"] == ["rules.yml"]
    assert len(document["tests"]) == 2  # the raw latency SLO gets none, and says so
    assert "warning: SLO checkout/latency: no promtool tests" in result.stderr


def test_event_store_slos_fail_with_one_line_each(tmp_path: Path) -> None:
    spec = _write(tmp_path, "slos.yaml", SLOTH_SPEC, EVENT_STORE_SPEC)
    result = invoke("rules", "generate", str(spec), "-o", str(tmp_path / "rules.yml"))
    assert result.exit_code == 1
    assert "error: " in result.stderr
    assert f"{spec}: SLO shop/availability: its SLI reads" in result.stderr
    assert not (tmp_path / "rules.yml").exists()
    skipped = invoke("rules", "generate", str(spec), "--skip-unsupported")
    assert skipped.exit_code == 0
    assert "warning: skipped" in skipped.stderr


def test_invalid_specs_keep_the_loaders_file_and_line(tmp_path: Path) -> None:
    spec = _write(tmp_path, "slos.yaml", SLOTH_SPEC.replace("objective: 99.9", "objective: 120"))
    result = invoke("rules", "generate", str(spec))
    assert result.exit_code == 1
    assert f"{spec}:6: document 1: slos[0].objective: must be a percent" in result.stderr
    assert "1 problem found" in result.stderr


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    spec = _write(tmp_path, "slos.yaml", SLOTH_SPEC)
    assert invoke("rules", "generate", str(spec), "--split").exit_code == 2
    assert invoke("rules", "generate", str(spec), "--extra-labels", "novalue").exit_code == 2
    assert invoke("rules", "generate", str(spec), "--compat", "pyrra").exit_code == 2
    assert invoke("rules", "generate", str(spec), "--tests", str(tmp_path / "t.yml")).exit_code == 2
