"""``watchkeeper slo backfill``: an SLO's status history from its source's past counts."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
)

from watchkeeper.cli.context import CLIState, cli_state, parse_time
from watchkeeper.cli.events import report_invalid_events
from watchkeeper.cli.output import console, error_console, guarded, print_json
from watchkeeper.core.slo import SourceKind
from watchkeeper.db import utcnow
from watchkeeper.errors import WatchkeeperError
from watchkeeper.events import service as events_service
from watchkeeper.events.exceptions import InvalidEvents, UnreadableEventFile
from watchkeeper.slo import backfill as backfill_service
from watchkeeper.slo import service
from watchkeeper.slo.backfill import BackfillResult
from watchkeeper.slo.backfill import Progress as ProgressCallback


@contextmanager
def progress_bar(label: str) -> Iterator[ProgressCallback]:
    """A Rich bar on stderr (only when stderr is a terminal) fed ``(phase, done, total)``."""
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=error_console,
        transient=True,
        disable=not error_console.is_terminal,
    )
    tasks: dict[str, TaskID] = {}

    def update(phase: str, done: int, total: int) -> None:
        if phase not in tasks:
            tasks[phase] = progress.add_task(f"{label}: {phase}", total=total)
        progress.update(tasks[phase], completed=done, total=total)

    with progress:
        yield update


def run_backfill(state: CLIState, key: str, *, start: str | None = None) -> BackfillResult:
    """Backfill one SLO in a transaction of its own, with a progress bar."""
    interval = timedelta(seconds=state.settings.history_interval_seconds)
    with progress_bar(f"backfill {key}") as update, state.session() as session:
        return backfill_service.backfill(
            session,
            key=key,
            now=utcnow(),
            interval=interval,
            start=parse_time(start) if start else None,
            progress=update,
        )


def describe(result: BackfillResult) -> str:
    """One line saying what a backfill stored."""
    return (
        f"SLO {result.key} backfilled from {result.source}: {result.points} history points "
        f"({result.with_data} with data) from {result.start.isoformat()} to "
        f"{result.end.isoformat()}"
    )


def backfill_created(state: CLIState, keys: list[str]) -> list[BackfillResult]:
    """Backfill the newly created Prometheus SLOs of an apply; a failure is a warning (the
    SLOs are applied either way and the worker evaluates them from now on)."""
    with state.session() as session:
        prometheus = [
            key
            for key in keys
            if service.evaluated_by(service.get(session, key=key)) == SourceKind.PROMETHEUS.value
        ]
    results = []
    for key in prometheus:
        try:
            results.append(run_backfill(state, key))
        except WatchkeeperError as exc:
            error_console.print(
                f"warning: SLO {key} applied but not backfilled: {exc.detail} "
                f"(retry with `watchkeeper slo backfill {key}`)",
                markup=False,
                highlight=False,
                soft_wrap=True,
            )
    return results


@guarded
def backfill_command(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="SLO as service/name (or a unique name).")],
    start: Annotated[
        str | None,
        typer.Option(
            "--from", help="Start (RFC 3339 or Unix s); default: the start of the SLO window."
        ),
    ] = None,
    events: Annotated[
        Path | None,
        typer.Option(
            "--events",
            help="Event-store SLOs: ingest this CSV/JSONL file first (as `events ingest`).",
        ),
    ] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Recompute an SLO's status history from its source (Prometheus range queries, or the
    event store), replacing the history rows of the span."""
    from watchkeeper.cli.slo import _resolve_key as resolve_key

    state = cli_state(ctx)
    with state.session() as session:
        key = resolve_key(session, name)
    if events is not None:
        if not events.is_file():
            raise UnreadableEventFile(f"{events}: no such file")
        try:
            with state.session() as session:
                events_service.ingest_file(session, events, clock=utcnow)
        except InvalidEvents as exc:
            report_invalid_events(exc, events, outcome="nothing was stored or backfilled")
    result = run_backfill(state, key, start=start)
    if json_output:
        print_json(
            {
                "key": result.key,
                "source": result.source,
                "start": result.start.isoformat(),
                "end": result.end.isoformat(),
                "points": result.points,
                "with_data": result.with_data,
                "replaced": result.replaced,
            }
        )
        return
    console.print(describe(result), markup=False, highlight=False, soft_wrap=True)
