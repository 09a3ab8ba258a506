"""Bad input on the command line: one clear error line, exit 1, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from watchkeeper.cli.main import app
from watchkeeper.slo.explain import _count

SPEC = """\
apiVersion: watchkeeper/v1
kind: ServiceLevels
service: checkout
slos:
  - name: availability
    objective: 0.999
    window: 30d
    sli: {name: checkout-requests}
"""


@pytest.fixture
def spec(tmp_path: Path) -> Path:
    path = tmp_path / "spec.yaml"
    path.write_text(SPEC)
    return path


def run(tmp_path: Path, *args: str, **env: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), env={"WATCHKEEPER_DATA_DIR": str(tmp_path), **env})
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    return result.exit_code, result.output


@pytest.mark.parametrize(
    ("name", "at", "message"),
    [
        ("infinite unix time", "inf", "is out of range (1970 to 9999)"),
        ("huge unix time", "1e20", "is out of range (1970 to 9999)"),
        ("year 1", "0001-01-01T00:00:00Z", "is out of range (1970 to 9999)"),
        ("year 1970", "1970-06-01T00:00:00Z", "between 1971 and 9998"),
        ("year 9999", "9999-12-31T23:59:59Z", "between 1971 and 9998"),
    ],
)
def test_evaluation_times_out_of_range(
    tmp_path: Path, spec: Path, name: str, at: str, message: str
) -> None:
    data = tmp_path / "events.csv"
    data.write_text("time,sli,good,total\n2026-11-23T11:00:00Z,checkout-requests,1,1\n")
    code, output = run(tmp_path, "slo", "eval", str(spec), "--data", str(data), "--at", at)
    assert code == 1, name
    assert message in output, name


def test_user_text_is_not_read_as_markup(tmp_path: Path, spec: Path) -> None:
    data = tmp_path / "events.csv"
    data.write_text("time,sli,good,total\n2026-11-23T11:00:00Z,x[/b],1,1\n")
    code, output = run(tmp_path, "slo", "eval", str(spec), "--data", str(data))
    assert code == 1
    assert "unknown SLI 'x[/b]'" in output


def test_an_invalid_setting_is_named(tmp_path: Path) -> None:
    code, output = run(tmp_path, "slo", "list", WATCHKEEPER_MINUTE_RETENTION_DAYS="2")
    assert code == 1
    assert "invalid setting: WATCHKEEPER_MINUTE_RETENTION_DAYS" in output


def test_explain_prints_counts_in_full() -> None:
    assert _count(1_235_570.0) == "1235570"
    assert _count(2.5) == "2.5"


def test_an_unexpected_failure_is_one_line_and_exit_1(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from watchkeeper.cli import main as cli_main
    from watchkeeper.cli import specs as specs_cli

    def broken(*_args: object, **_kwargs: object) -> None:
        raise OverflowError("int too large")

    monkeypatch.setattr(specs_cli, "load_paths", broken)
    monkeypatch.setattr("sys.argv", ["watchkeeper", "slo", "validate", str(tmp_path)])
    with pytest.raises(SystemExit) as exited:
        cli_main.main()
    assert exited.value.code == 1
    captured = capsys.readouterr()
    assert captured.err == (
        "error: internal error (OverflowError: int too large); this is a bug in Watchkeeper: "
        "please report it with the command that caused it\n"
    )
    assert "Traceback" not in captured.out + captured.err
