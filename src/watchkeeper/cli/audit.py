"""``watchkeeper audit ...``: read and export the audit log of changes."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from watchkeeper.auth import audit
from watchkeeper.cli.context import cli_state, parse_moment
from watchkeeper.cli.output import console, error_console, guarded, print_json
from watchkeeper.cli.specs import write_atomically
from watchkeeper.cli.tables import Column, fitted_table
from watchkeeper.db import utcnow
from watchkeeper.messages import plural

app = typer.Typer(no_args_is_help=True, help="The audit log: who changed what, and when.")

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
SinceOption = Annotated[
    str | None,
    typer.Option(
        "--since", help="From this time: RFC 3339, Unix seconds, or a duration back (7d)."
    ),
]
UntilOption = Annotated[
    str | None, typer.Option("--until", help="Before this time (same forms as --since).")
]
ActorFilter = Annotated[
    str | None, typer.Option("--actor", help="Only changes by this user, token or person.")
]
TypeOption = Annotated[
    str | None,
    typer.Option("--type", help=f"Only this kind of object: {', '.join(audit.OBJECT_TYPES)}."),
]


def _span(
    since: str | None, until: str | None, now: datetime
) -> tuple[datetime | None, datetime | None]:
    return (
        parse_moment(since, now=now, option="--since") if since is not None else None,
        parse_moment(until, now=now, option="--until") if until is not None else None,
    )


@app.command("list")
@guarded
def list_events(
    ctx: typer.Context,
    since: SinceOption = None,
    until: UntilOption = None,
    actor: ActorFilter = None,
    object_type: TypeOption = None,
    limit: Annotated[
        int, typer.Option("--limit", help=f"At most this many (1 to {audit.MAX_LIMIT}).")
    ] = 50,
    json_output: JsonOption = False,
) -> None:
    """The newest recorded changes first."""
    start, end = _span(since, until, utcnow())
    with cli_state(ctx).session() as session:
        documents = [
            audit.document(row)
            for row in audit.list_events(
                session,
                since=start,
                until=end,
                actor=actor,
                object_type=object_type,
                limit=limit,
            )
        ]
    if json_output:
        print_json(documents)
        return
    columns = [
        Column("id", justify="right", drop=2),
        Column("at (UTC)"),
        Column("actor", kind="fold"),
        Column("change", kind="wrap"),
    ]
    rows = [
        [
            str(d["id"]),
            d["at"][:19].replace("T", " "),
            f"{d['actor']['kind']}:{d['actor']['name']}",
            d["summary"],
        ]
        for d in documents
    ]
    console.print(fitted_table(columns, rows, width=console.width, title="Audit log"))


@app.command()
@guarded
def export(
    ctx: typer.Context,
    output: Annotated[
        str,
        typer.Option(
            "-o", "--output", help="Write to this file, or - for stdout.", show_default=False
        ),
    ],
    since: SinceOption = None,
    until: UntilOption = None,
    actor: ActorFilter = None,
    object_type: TypeOption = None,
) -> None:
    """Write every matching change as one JSON array, oldest first."""
    start, end = _span(since, until, utcnow())
    with cli_state(ctx).session() as session:
        documents = [
            audit.document(row)
            for row in audit.iter_events(
                session, since=start, until=end, actor=actor, object_type=object_type
            )
        ]
    text = audit.export_text(documents)
    if output == "-":
        sys.stdout.write(text)
        return
    write_atomically(Path(output), text)
    error_console.print(
        f"wrote {plural(len(documents), 'audit event')} to {output}", markup=False, highlight=False
    )
