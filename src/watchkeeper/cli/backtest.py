"""``watchkeeper slo backtest``: when would an SLO's page and ticket alerts have fired?"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich.text import Text

from watchkeeper.cli.context import cli_state, parse_moment
from watchkeeper.cli.numbers import count, percent, significant
from watchkeeper.cli.output import console, guarded, print_json
from watchkeeper.cli.tables import Column, fitted_table
from watchkeeper.core.duration import format_duration
from watchkeeper.db import utcnow
from watchkeeper.messages import plural
from watchkeeper.slo import backtest as backtest_service
from watchkeeper.slo.schemas import BacktestRead, backtest_read
from watchkeeper.specs.problems import Problem, SpecError


def _windows_file(path: Path) -> backtest_service.WindowsFile:
    """The text of a windows file; a missing or unreadable one is a problem naming it."""
    try:
        return backtest_service.WindowsFile(path.read_text(encoding="utf-8"), str(path))
    except FileNotFoundError:
        raise SpecError([Problem(str(path), 0, None, "", "no such file")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError([Problem(str(path), 0, None, "", f"cannot read: {exc}")]) from None


@guarded
def backtest(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="SLO as service/name (or a unique name).")],
    from_: Annotated[
        str,
        typer.Option(
            "--from",
            help="Start: RFC 3339, Unix seconds, or a duration back from now (30d).",
        ),
    ],
    to: Annotated[
        str, typer.Option("--to", help="End (default now): same forms as --from, or now.")
    ] = "now",
    windows: Annotated[
        Path | None,
        typer.Option(
            "--windows",
            help="YAML file of alert windows to replay instead of the SLO's (docs/backtest.md).",
            dir_okay=False,
        ),
    ] = None,
    json_output: Annotated[
        bool, typer.Option("--json", help="Print JSON instead of a table.")
    ] = False,
) -> None:
    """Replay an SLO's burn-rate alerts over history: when pages and tickets would have fired."""
    now = utcnow()
    start = parse_moment(from_, now=now, option="--from")
    end = parse_moment(to, now=now, option="--to")
    given = _windows_file(windows) if windows is not None else None
    with cli_state(ctx).session() as session:
        run = backtest_service.run(session, key=name, start=start, end=end, now=now, windows=given)
    document = backtest_read(run.result, windows_source=run.windows_source)
    if json_output:
        print_json(document.model_dump(mode="json", by_alias=True))
        return
    _print(document)


def _when(moment: datetime) -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC"


def _cell_time(moment: datetime) -> str:
    return f"{moment:%m-%d %H:%M}"


def _duration(seconds: float) -> str:
    return format_duration(timedelta(seconds=seconds)) if seconds > 0 else "0s"


def _budget(value: float | None) -> str:
    return "no data" if value is None else percent(value, 2)


def _print(document: BacktestRead) -> None:
    windows = ", ".join(
        f"{w.severity} {w.long}/{w.short} > {significant(w.factor, 4)}" for w in document.windows
    )
    source = "the SLO's" if document.windows_source == "slo" else document.windows_source
    console.print(
        f"{document.slo}: {_when(document.from_)} to {_when(document.to)}, "
        f"{plural(document.steps, 'evaluation')} a minute apart; windows ({source}): {windows}"
        + (f"; min_events {document.min_events}" if document.min_events else ""),
        markup=False,
        highlight=False,
    )
    if document.alerts:
        columns = [
            Column("severity"),
            Column("fired (UTC)"),
            Column("cleared (UTC)"),
            Column("duration", justify="right"),
            # Wrapping headers: the figures below them have no spaces, so only headers wrap.
            Column("peak burn", kind="wrap", justify="right"),
            Column("budget consumed", kind="wrap", justify="right"),
        ]
        rows: list[list[str | Text]] = [
            [
                Text(alert.severity, style="bold red" if alert.severity == "page" else "yellow"),
                ("<=" if alert.firing_at_start else "") + _cell_time(alert.fired_at),
                "still firing" if alert.cleared_at is None else _cell_time(alert.cleared_at),
                _duration(alert.duration_seconds),
                significant(alert.peak_burn_rate),
                _budget(alert.budget_consumed),
            ]
            for alert in document.alerts
        ]
        console.print(fitted_table(columns, rows, width=console.width, title="alerts"))
        if any(alert.firing_at_start for alert in document.alerts):
            console.print(
                "<= : already firing at --from; it may have fired earlier.",
                markup=False,
                highlight=False,
            )
    summary = document.summary
    console.print(
        f"{plural(summary.page.alerts, 'page')} ({_duration(summary.page.firing_seconds)} "
        f"firing), {plural(summary.ticket.alerts, 'ticket')} "
        f"({_duration(summary.ticket.firing_seconds)} firing); "
        f"{count(summary.bad)} bad of {count(summary.total)} events; "
        f"budget consumed over the range: {_budget(summary.budget_consumed)}",
        markup=False,
        highlight=False,
    )


def register(slo_app: typer.Typer) -> None:
    """Add ``backtest`` to the ``slo`` sub-app."""
    slo_app.command("backtest")(backtest)
