"""Generated rules against the real promtool: ``check rules`` on every output form, and the
shipped ``promtool test rules`` suites (the page alert fires under a heavy burn and clears,
and stays silent at zero traffic) for both modes."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.cli_runner import invoke
from tests.rules.specs import NATIVE_SPEC, SLOTH_SPEC
from watchkeeper.config import Settings
from watchkeeper.rules import Mode, OutputFormat, generate
from watchkeeper.specs import load_paths, load_text

pytestmark = pytest.mark.integration

BINARY = "promtool"
FIXTURES = Path(__file__).parent.parent / "rules" / "fixtures" / "sloth"
TIMEOUT_SECONDS = 120


def _promtool() -> str:
    found = shutil.which(BINARY) or (
        f"/usr/bin/{BINARY}" if Path(f"/usr/bin/{BINARY}").exists() else None
    )
    if found is None:
        if Settings().require_integration:
            pytest.fail(f"{BINARY} is required but not installed")
        pytest.skip(f"{BINARY} is not installed (Debian package prometheus)")
    return found


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [_promtool(), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_SECONDS,
        check=False,
    )


def _check(path: Path) -> None:
    result = _run("check", "rules", str(path), cwd=path.parent)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


@pytest.mark.parametrize("mode", list(Mode))
@pytest.mark.parametrize("output_format", list(OutputFormat))
def test_every_generated_file_passes_promtool_check(
    tmp_path: Path, mode: Mode, output_format: OutputFormat
) -> None:
    spec_set = load_text(f"{SLOTH_SPEC}\n---\n{NATIVE_SPEC}", filename="slos.yaml")
    for split in (False, True):
        generation = generate(spec_set, mode=mode, output_format=output_format, split=split)
        assert len(generation.files) == (2 if split else 1)
        for index, generated in enumerate(generation.files):
            text = generated.text
            if output_format is OutputFormat.PROMETHEUS_RULE:
                resource = yaml.safe_load(text)
                assert resource["kind"] == "PrometheusRule"
                text = yaml.safe_dump({"groups": resource["spec"]["groups"]})
            path = tmp_path / f"{mode}-{output_format}-{split}-{index}.yml"
            path.write_text(text)
            _check(path)


@pytest.mark.parametrize("mode", list(Mode))
def test_sloths_examples_pass_promtool_check(tmp_path: Path, mode: Mode) -> None:
    """Each Sloth example on its own (several define the same SLO), one file per service as
    Sloth writes one document per spec document (``multifile``: the same alert name and labels
    in two services is a duplicate to promtool's lint within one file), in one promtool run."""
    specs = sorted(p for p in FIXTURES.glob("*.yml") if not p.name.endswith(".gen.yml"))
    assert len(specs) >= 8
    paths = []
    for spec in specs:
        generation = generate(load_paths([spec]), mode=mode, split=True)
        for generated in generation.files:
            path = tmp_path / f"{spec.stem}-{generated.service}.rules.yml"
            path.write_text(generated.text)
            paths.append(str(path))
    result = _run("check", "rules", *paths, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("SUCCESS") == len(paths)


@pytest.mark.parametrize("mode", list(Mode))
def test_shipped_promtool_tests_pass(tmp_path: Path, mode: Mode) -> None:
    spec = tmp_path / "slos.yaml"
    spec.write_text(f"{SLOTH_SPEC}\n---\n{NATIVE_SPEC}")
    args = ["rules", "generate", str(spec), "-o", str(tmp_path / "rules.yml")]
    args += ["--tests", str(tmp_path / "rules.test.yml")]
    if mode is Mode.SLOTH:
        args += ["--compat", "sloth"]
    result = invoke(*args)
    assert result.exit_code == 0, result.output
    tests = yaml.safe_load((tmp_path / "rules.test.yml").read_text())["tests"]
    assert len(tests) == 4  # heavy burn and zero traffic for each ratio SLO
    outcome = _run("test", "rules", "rules.test.yml", cwd=tmp_path)
    assert outcome.returncode == 0, outcome.stdout + outcome.stderr
    assert "SUCCESS" in outcome.stdout
