"""``watchkeeper events ...``: bulk-load SLI events into the built-in store."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from watchkeeper.cli.context import cli_state
from watchkeeper.cli.output import console, error_console, fail, print_json, reported_errors
from watchkeeper.db import session_scope, utcnow
from watchkeeper.events import service
from watchkeeper.events.exceptions import InvalidEvents, UnreadableEventFile
from watchkeeper.messages import plural

app = typer.Typer(no_args_is_help=True)


@app.command("ingest")
def ingest(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="CSV (with a header) or JSONL file of events.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Load SLI events from FILE (all or nothing), with a progress bar on stderr."""
    state = cli_state(ctx)
    with reported_errors():
        if not file.exists():
            raise UnreadableEventFile(f"{file}: no such file")
        if not file.is_file():
            raise UnreadableEventFile(f"{file}: not a regular file")
        factory = state.session_factory()  # refuses a database whose schema is not current
        try:
            with _progress_bar(file) as update, session_scope(factory) as session:
                result = service.ingest_file(session, file, clock=utcnow, progress=update)
        except InvalidEvents as exc:
            report_invalid_events(exc, file, outcome="nothing was stored")
    if as_json:
        print_json({"accepted": result.accepted, "buckets": result.buckets, "file": str(file)})
    else:
        console.print(
            f"Ingested {plural(result.accepted, 'event')} into "
            f"{plural(result.buckets, 'bucket')} from {file}",
            highlight=False,
            markup=False,
            soft_wrap=True,
        )


def report_invalid_events(error: InvalidEvents, file: Path, *, outcome: str) -> NoReturn:
    """Print each listed problem and unknown SLI name on stderr, then exit 1 with the counts."""
    for line in error.lines():
        error_console.print(line, highlight=False, markup=False, soft_wrap=True)
    fail(f"{error.summary()} in {file}; {outcome}")


@contextmanager
def _progress_bar(file: Path) -> Iterator[Callable[[int, int], None]]:
    """A Rich bar of bytes read, on stderr and only when stderr is a terminal."""
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=error_console,
        transient=True,
        disable=not error_console.is_terminal,
    )
    task = progress.add_task(f"reading {file.name}", total=None)

    def update(done: int, total: int) -> None:
        progress.update(task, completed=done, total=total)

    with progress:
        yield update
