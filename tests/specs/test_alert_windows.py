"""Alert windows files for backtests: the native alerting windows' shape, problems by line."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from watchkeeper.core.slo import AlertWindow, Severity
from watchkeeper.specs.alert_windows import load_alert_windows, parse_alert_windows
from watchkeeper.specs.problems import SpecError

THIRTY_DAYS = timedelta(days=30)


def _problems(text: str, period: timedelta | None = THIRTY_DAYS) -> list[str]:
    with pytest.raises(SpecError) as caught:
        parse_alert_windows(text, filename="windows.yaml", period=period)
    return [str(problem) for problem in caught.value.problems]


def test_a_mapping_gives_windows_with_factors_or_budget_percents_and_min_events() -> None:
    text = """\
windows:
  - {severity: page, long: 1h, short: 5m, budget_percent: 2}
  - {severity: ticket, long: 1d, short: 2h, factor: 2.5}
min_events: 100
"""
    parsed = parse_alert_windows(text, filename="windows.yaml", period=THIRTY_DAYS)
    assert parsed.windows == (
        # 2 % of a 30 d budget in 1 h: 0.02 x 720 h / 1 h = 14.4.
        AlertWindow(Severity.PAGE, timedelta(hours=1), timedelta(minutes=5), pytest.approx(14.4)),  # type: ignore[arg-type]
        AlertWindow(Severity.TICKET, timedelta(days=1), timedelta(hours=2), 2.5),
    )
    assert parsed.min_events == 100


def test_a_bare_list_of_windows_is_accepted_and_keeps_the_slos_min_events() -> None:
    parsed = parse_alert_windows(
        "- {severity: page, long: 10m, short: 1m, factor: 50}\n",
        filename="windows.yaml",
        period=THIRTY_DAYS,
    )
    assert parsed.windows == (
        AlertWindow(Severity.PAGE, timedelta(minutes=10), timedelta(minutes=1), 50.0),
    )
    assert parsed.min_events is None


def test_every_problem_names_file_line_and_field_in_line_order() -> None:
    text = """\
windows:
  - {severity: page, long: 1h, short: 5m, budget_percent: 2}
  - severity: pager
    long: 6h
    short: 7h
    factor: 6
  - {severity: ticket, long: 401d, short: 1h, factor: 1}
min_event: 3
"""
    assert _problems(text) == [
        "windows.yaml:3: windows[1].severity: must be one of page, ticket, not 'pager'; "
        "did you mean 'page'?",
        "windows.yaml:5: windows[1].short: must be shorter than long (6h)",
        "windows.yaml:7: windows[2].long: must be at most 400d",
        "windows.yaml:8: min_event: unknown field; did you mean 'min_events'?",
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "windows.yaml: no alert windows: the file is empty"),
        ("windows: []\n", "windows.yaml:1: windows: must list at least one window"),
        ("min_events: 5\n", "windows.yaml:1: windows: is required (a list of alert windows)"),
        ("windows: {severity: page}\n", "windows.yaml:1: windows: must be a list, not a mapping"),
        ("just text\n", "windows.yaml: must be a mapping with windows (or a list of windows)"),
        ("windows: [\n", "windows.yaml:2: document 1: YAML syntax error"),
        ("windows: [{severity: page, long: 1h, short: 5m, factor: 1}]\nmin_events: -1\n",
         "windows.yaml:2: min_events: must be 0 or more"),
        ("- {severity: page, long: 1h, short: 5m, factor: 1}\n---\n- {}\n",
         "windows.yaml: document 2: give one document of alert windows"),
    ],
)  # fmt: skip
def test_malformed_files_are_refused_with_the_place(text: str, expected: str) -> None:
    problems = _problems(text)
    assert problems[0].startswith(expected), problems


def test_a_missing_file_is_named() -> None:
    with pytest.raises(SpecError, match=r"nowhere\.yaml: no such file"):
        load_alert_windows(Path("nowhere.yaml"), period=THIRTY_DAYS)


def test_a_file_is_read_from_disk(tmp_path: Path) -> None:
    path = tmp_path / "w.yaml"
    path.write_text("windows:\n  - {severity: page, long: 2h, short: 10m, factor: 7}\n")
    parsed = load_alert_windows(path, period=None)
    assert parsed.windows[0].factor == 7.0
