"""``watchkeeper db ...`` and ``watchkeeper token ...``."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

import typer

from watchkeeper.auth import service as auth_service
from watchkeeper.auth.models import APIToken
from watchkeeper.auth.roles import Role
from watchkeeper.cli.context import cli_state
from watchkeeper.cli.output import console, guarded, print_json
from watchkeeper.cli.tables import Column, fitted_table
from watchkeeper.core.duration import parse_duration
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


RoleOption = Annotated[
    str,
    typer.Option(
        help=f"Required. One of: {', '.join(r.value for r in Role)} (ingest: send events only).",
        show_default=False,
    ),
]


def _lifetime(value: str | None) -> timedelta | None:
    if value is None:
        return None
    try:
        return parse_duration(value)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--expires-in") from None


def _when(value: datetime | None, *, never: str = "never") -> str:
    return never if value is None else value.strftime("%Y-%m-%d %H:%M UTC")


def _token_document(token: APIToken, now: datetime) -> dict[str, object]:
    return {
        "name": token.name,
        "role": token.role,
        "prefix": token.prefix,
        "state": auth_service.state_of(token, now=now).value,
        "created_at": token.created_at.isoformat(),
        "expires_at": token.expires_at.isoformat() if token.expires_at else None,
        "last_used_at": token.last_used_at.isoformat() if token.last_used_at else None,
        "revoked_at": token.revoked_at.isoformat() if token.revoked_at else None,
    }


@token_app.command()
@guarded
def create(
    ctx: typer.Context,
    name: Annotated[str, typer.Option(help="A unique name for the token.", show_default=False)],
    role: RoleOption,
    expires_in: Annotated[
        str | None,
        typer.Option(
            help="Lifetime, e.g. 90d or 12h (default: until revoked).", show_default=False
        ),
    ] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Create an API token and print it (it is shown only once)."""
    lifetime = _lifetime(expires_in)
    with cli_state(ctx).session() as session:
        issued = auth_service.create(
            session, name=name, role=role, now=utcnow(), expires_in=lifetime
        )
    expires_at = issued.expires_at.isoformat() if issued.expires_at else None
    if json_output:
        print_json(
            {
                "token": issued.token,
                "name": issued.name,
                "role": issued.role.value,
                "expires_at": expires_at,
            }
        )
        return
    console.print(
        f"token {issued.name!r} ({issued.role.value}, expires {_when(issued.expires_at)}): "
        f"{issued.token}",
        highlight=False,
        markup=False,
        soft_wrap=True,
    )
    console.print("Send it as 'Authorization: Bearer <token>'. It is not shown again.")


@token_app.command("list")
@guarded
def list_tokens(
    ctx: typer.Context,
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List API tokens: role, state, expiry and last use (never the secrets)."""
    now = utcnow()
    with cli_state(ctx).session() as session:
        tokens = auth_service.list_tokens(session)
        documents = [_token_document(t, now) for t in tokens]
    rows = [
        [
            str(d["name"]),
            str(d["role"]),
            str(d["state"]),
            _when(t.expires_at),
            _when(t.last_used_at, never="not yet"),
            f"{t.prefix}…",
        ]
        for t, d in zip(tokens, documents, strict=True)
    ]
    if json_output:
        print_json(documents)
        return
    if not rows:
        console.print("no API tokens: create one with `watchkeeper token create`", markup=False)
        return
    columns = [
        Column("name", kind="fold"),
        Column("role"),
        Column("state"),
        Column("expires", drop=1),
        Column("last used", drop=2),
        Column("prefix", drop=3),
    ]
    console.print(fitted_table(columns, rows, width=console.width, title="API tokens"))


@token_app.command()
@guarded
def revoke(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The token's name (see `token list`).")],
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Revoke an API token: it stops authenticating at once."""
    now = utcnow()
    with cli_state(ctx).session() as session:
        token, changed = auth_service.revoke(session, name=name, now=now)
        document = _token_document(token, now)
    if json_output:
        print_json({**document, "changed": changed})
        return
    if changed:
        console.print(f"token {token.name!r} revoked", markup=False, highlight=False)
    else:
        console.print(
            f"token {token.name!r} was already revoked at {_when(token.revoked_at)}",
            markup=False,
            highlight=False,
        )
