"""``watchkeeper db ...`` and ``watchkeeper token ...``."""

from __future__ import annotations

from typing import Annotated

import typer

from watchkeeper.auth import service as auth_service
from watchkeeper.auth.roles import Role
from watchkeeper.cli.context import cli_state
from watchkeeper.cli.output import console, guarded, print_json
from watchkeeper.db import utcnow

db_app = typer.Typer(no_args_is_help=True, help="Database schema.")
token_app = typer.Typer(no_args_is_help=True, help="API tokens.")


@db_app.command()
@guarded
def upgrade(ctx: typer.Context) -> None:
    """Apply every pending migration to the configured database (creating it if needed)."""
    state = cli_state(ctx)
    state.upgrade()
    console.print(f"database at the newest schema: {state.shown_url}", markup=False)


@token_app.command()
@guarded
def create(
    ctx: typer.Context,
    name: Annotated[str, typer.Option(help="A unique name for the token.")],
    role: Annotated[
        str, typer.Option(help=f"One of: {', '.join(r.value for r in Role)}.")
    ] = Role.VIEWER.value,
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Create an API token and print it (it is shown only once)."""
    with cli_state(ctx).session() as session:
        issued = auth_service.create(session, name=name, role=role, now=utcnow())
    if json_output:
        print_json({"token": issued.token, "name": issued.name, "role": issued.role.value})
        return
    console.print(
        f"token {issued.name!r} ({issued.role.value}): {issued.token}",
        highlight=False,
        markup=False,
    )
    console.print("Send it as 'Authorization: Bearer <token>'. It is not shown again.")
