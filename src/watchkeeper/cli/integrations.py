"""``watchkeeper integration ...``: alert sources and their intake URLs."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from watchkeeper.alerting import service
from watchkeeper.alerting.models import Integration
from watchkeeper.cli.alerting import JsonOption, say
from watchkeeper.cli.context import cli_state
from watchkeeper.cli.output import console, guarded, print_json
from watchkeeper.cli.tables import Column, fitted_table
from watchkeeper.db import utcnow

app = typer.Typer(no_args_is_help=True, help="Alert sources and their intake URLs.")

NameArgument = Annotated[str, typer.Argument(help="The integration's name.")]


def _integration_document(integration: Integration, base_url: str) -> dict[str, Any]:
    return {
        "key": integration.key,
        "url": service.url_of(integration, base_url=base_url),
        "name": integration.name,
        "type": integration.type,
        "escalation_policy": integration.escalation_policy,
        "default_urgency": integration.default_urgency,
        "created_at": integration.created_at.isoformat(),
        "disabled_at": integration.disabled_at.isoformat() if integration.disabled_at else None,
    }


@app.command("create")
@guarded
def create_integration(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="A unique name, e.g. prometheus-prod.")],
    type: Annotated[
        str, typer.Option("--type", help="alertmanager, pagerduty or webhook.", show_default=False)
    ],
    escalation_policy: Annotated[
        str | None, typer.Option(help="Default escalation policy name.", show_default=False)
    ] = None,
    urgency: Annotated[str, typer.Option(help="Default urgency: high or low.")] = "high",
    json_output: JsonOption = False,
) -> None:
    """Create an integration and print its intake URL and key."""
    state = cli_state(ctx)
    with state.session() as session:
        integration = service.create_integration(
            session,
            name=name,
            type=type,
            now=utcnow(),
            escalation_policy=escalation_policy,
            default_urgency=urgency,
        )
        document = _integration_document(integration, state.settings.public_url)
    if json_output:
        print_json(document)
        return
    say(f"integration {document['name']!r} ({document['type']})")
    say(f"url: {document['url']}")
    say(f"key: {document['key']}")
    if integration.type == "pagerduty":
        say("Send PagerDuty Events v2 to the URL with the key as routing_key.")


@app.command("list")
@guarded
def list_integrations(ctx: typer.Context, json_output: JsonOption = False) -> None:
    """List integrations with their intake URLs."""
    state = cli_state(ctx)
    with state.session() as session:
        documents = [
            _integration_document(i, state.settings.public_url)
            for i in service.list_integrations(session)
        ]
    if json_output:
        print_json(documents)
        return
    if not documents:
        say("no integrations: create one with `watchkeeper integration create`")
        return
    rows = [[d["name"], d["type"], d["url"]] for d in documents]
    columns = [Column("name", kind="fold"), Column("type"), Column("url", kind="fold")]
    console.print(fitted_table(columns, rows, width=console.width, title="integrations"))


@app.command("show")
@guarded
def show_integration(
    ctx: typer.Context,
    name: NameArgument,
    json_output: JsonOption = False,
) -> None:
    """Show one integration with its key and URL."""
    state = cli_state(ctx)
    with state.session() as session:
        document = _integration_document(
            service.get_integration(session, name=name), state.settings.public_url
        )
    if json_output:
        print_json(document)
        return
    for field in ("name", "type", "url", "key", "escalation_policy", "default_urgency"):
        say(f"{field}: {document[field] if document[field] is not None else '-'}")


@app.command("disable")
@guarded
def disable_integration(ctx: typer.Context, name: NameArgument) -> None:
    """Disable an integration: its key is refused (404) until it is enabled again."""
    with cli_state(ctx).session() as session:
        service.set_disabled(session, name=name, disabled=True, now=utcnow())
    say(f"integration {name!r} disabled")


@app.command("enable")
@guarded
def enable_integration(ctx: typer.Context, name: NameArgument) -> None:
    """Enable a disabled integration again."""
    with cli_state(ctx).session() as session:
        service.set_disabled(session, name=name, disabled=False, now=utcnow())
    say(f"integration {name!r} enabled")


@app.command("delete")
@guarded
def delete_integration(ctx: typer.Context, name: NameArgument) -> None:
    """Delete an integration and its alert groups."""
    with cli_state(ctx).session() as session:
        service.delete_integration(session, name=name)
    say(f"integration {name!r} deleted")
