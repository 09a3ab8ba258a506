"""Alert windows on their own, for backtests: "with these windows, when would we have paged?"

A windows file is one YAML document in the shape of a native spec's ``alerting`` block, with
``windows`` required and ``min_events`` optional (page/ticket targets have no meaning here)::

    windows:
      - {severity: page, long: 1h, short: 5m, budget_percent: 2}
      - {severity: page, long: 6h, short: 30m, factor: 6}
    min_events: 100

A bare list of windows is accepted too. Each window is read by the native spec's own reader
(``specs.fields.read_alert_window``), so the rules and messages are the same, and every
problem names the file, line and field.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from watchkeeper.core.duration import format_duration
from watchkeeper.core.slo import AlertWindow
from watchkeeper.specs.cursor import Cursor, DocumentContext, describe
from watchkeeper.specs.fields import read_alert_window
from watchkeeper.specs.problems import Problem, SpecError, sort_problems
from watchkeeper.specs.yaml_nodes import parse_documents

WINDOWS_FILE_FIELDS = ("windows", "min_events")
# Backtests read history back the longest alert window from their start; alert windows are
# held to the longest SLO window Watchkeeper evaluates (docs/specs.md, "Limits").
LONGEST_ALERT_WINDOW = timedelta(days=400)


@dataclass(frozen=True)
class AlertWindowsOverride:
    """Alert windows (and optionally an event minimum) replacing an SLO's for a backtest."""

    windows: tuple[AlertWindow, ...]
    min_events: int | None = None


def parse_alert_windows(
    text: str, *, filename: str, period: timedelta | None
) -> AlertWindowsOverride:
    """Alert windows from YAML text; ``period`` (the SLO's) turns budget percents into factors.

    Raises SpecError listing every problem with its file, line and field.
    """
    problems: list[Problem] = []
    documents, syntax_error = parse_documents(text, filename)
    documents = [document for document in documents if document.value is not None]
    result: AlertWindowsOverride | None = None
    if syntax_error is not None:
        problems.append(syntax_error)
    elif not documents:
        problems.append(Problem(filename, 0, None, "", "no alert windows: the file is empty"))
    elif len(documents) > 1:
        problems.append(
            Problem(filename, documents[1].index, None, "", "give one document of alert windows")
        )
    else:
        document = documents[0]
        result = _read(Cursor(DocumentContext(filename, 0, problems), document.value), period)
    if problems or result is None:
        found = problems or [Problem(filename, 0, None, "", "no alert windows")]
        raise SpecError(sort_problems(found, [filename]))
    return result


def load_alert_windows(path: Path, *, period: timedelta | None) -> AlertWindowsOverride:
    """Alert windows from a YAML file (see :func:`parse_alert_windows`)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError([Problem(str(path), 0, None, "", "no such file")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError([Problem(str(path), 0, None, "", f"cannot read: {exc}")]) from None
    return parse_alert_windows(text, filename=str(path), period=period)


def _read(doc: Cursor, period: timedelta | None) -> AlertWindowsOverride | None:
    mark = doc.mark()
    min_events: int | None = None
    if isinstance(doc.value, list):
        windows_at: Cursor | None = doc
    elif isinstance(doc.value, dict):
        doc.fields(WINDOWS_FILE_FIELDS)
        windows_at = doc.require("windows", " (a list of alert windows)")
        min_events = doc.read("min_events", Cursor.integer)
        if min_events is not None and min_events < 0:
            doc.error_at("min_events", "must be 0 or more")
    else:
        doc.error(
            f"must be a mapping with windows (or a list of windows), not {describe(doc.value)}"
        )
        return None
    items = windows_at.items() if windows_at is not None else None
    if windows_at is not None and items == []:
        windows_at.error("must list at least one window")
    windows: list[AlertWindow] = []
    for item in items or []:
        window = read_alert_window(item, period)
        if window is None:
            continue
        if window.long > LONGEST_ALERT_WINDOW:
            item.error_at("long", f"must be at most {format_duration(LONGEST_ALERT_WINDOW)}")
            continue
        windows.append(window)
    if not doc.clean_since(mark):
        return None
    return AlertWindowsOverride(tuple(windows), min_events)
