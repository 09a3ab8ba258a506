"""``watchkeeper user ...``: people who go on call, their contact methods and rules."""

from __future__ import annotations

import sys
from datetime import timedelta
from typing import Annotated

import typer

from watchkeeper.auth import passwords, people, sessions
from watchkeeper.auth.exceptions import InvalidUser
from watchkeeper.auth.schemas import ContactRead, user_read
from watchkeeper.cli.context import cli_state
from watchkeeper.cli.output import console, guarded, print_json
from watchkeeper.cli.tables import Column, fitted_table
from watchkeeper.core.duration import format_duration
from watchkeeper.db import utcnow
from watchkeeper.flows import people as people_flows

app = typer.Typer(no_args_is_help=True, help="People: responders and their contact methods.")
contact_app = typer.Typer(no_args_is_help=True, help="A user's contact methods.")
rule_app = typer.Typer(no_args_is_help=True, help="A user's notification rules.")
app.add_typer(contact_app, name="contact")
app.add_typer(rule_app, name="rule")

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
PasswordStdinOption = Annotated[
    bool,
    typer.Option(
        "--password-stdin",
        help="Read the dashboard password from standard input (its first line).",
    ),
]


def read_password_stdin() -> str:
    """The first line of standard input, without its line ending (InvalidUser when empty)."""
    line = sys.stdin.readline(passwords.MAX_LENGTH + 2).rstrip("\r\n")
    if not line:
        raise InvalidUser("password: standard input was empty; pipe the password in")
    return line


NameArgument = Annotated[str, typer.Argument(help="The user's name.")]


def _say(text: str) -> None:
    console.print(text, markup=False, highlight=False)


@app.command()
@guarded
def create(
    ctx: typer.Context,
    name: NameArgument,
    role: Annotated[
        str, typer.Option(help="admin, editor, responder or viewer.", show_default=False)
    ],
    email: Annotated[
        str | None, typer.Option(help="Email address (also added as a contact method).")
    ] = None,
    time_zone: Annotated[str, typer.Option(help="IANA time zone, e.g. Europe/Paris.")] = "UTC",
    password_stdin: PasswordStdinOption = False,
    json_output: JsonOption = False,
) -> None:
    """Create a user; with --password-stdin they can also sign in to the dashboard."""
    password = read_password_stdin() if password_stdin else None
    with cli_state(ctx).session() as session:
        now = utcnow()
        people.create_user(session, name=name, role=role, email=email, time_zone=time_zone, now=now)
        if password is not None:
            sessions.set_password(session, name=name, password=password, now=now)
        document = user_read(people.profile(session, name=name))
    if json_output:
        print_json(document.model_dump(mode="json"))
        return
    _say(f"user {name} created ({role})")


@app.command()
@guarded
def password(
    ctx: typer.Context,
    name: NameArgument,
    password_stdin: PasswordStdinOption = False,
) -> None:
    """Set a user's dashboard password (their sessions end); prompts without --password-stdin."""
    if password_stdin:
        secret = read_password_stdin()
    else:
        secret = typer.prompt("New password", hide_input=True, confirmation_prompt=True)
    with cli_state(ctx).session() as session:
        sessions.set_password(session, name=name, password=secret, now=utcnow())
    _say(f"password of {name} set; their dashboard sessions have ended")


@app.command("list")
@guarded
def list_command(ctx: typer.Context, json_output: JsonOption = False) -> None:
    """List users with their role, time zone and contact methods."""
    with cli_state(ctx).session() as session:
        documents = [user_read(p) for p in people.list_users(session)]
    if json_output:
        print_json([d.model_dump(mode="json") for d in documents])
        return
    columns = [
        Column("user", kind="fold"),
        Column("role"),
        Column("time zone", drop=1),
        Column("contact methods", kind="wrap"),
    ]
    rows = [
        [d.name, d.role, d.time_zone, ", ".join(c.kind for c in d.contact_methods) or "-"]
        for d in documents
    ]
    console.print(fitted_table(columns, rows, width=console.width, title="Users"))


@app.command()
@guarded
def show(ctx: typer.Context, name: NameArgument, json_output: JsonOption = False) -> None:
    """Show a user, their contact methods and notification rules."""
    with cli_state(ctx).session() as session:
        document = user_read(people.profile(session, name=name))
    if json_output:
        print_json(document.model_dump(mode="json"))
        return
    _say(f"{document.name}: {document.role}, time zone {document.time_zone}")
    _print_contacts(document.contact_methods)
    for rule in document.notification_rules:
        delay = (
            format_duration(timedelta(seconds=rule.delay_seconds)) if rule.delay_seconds else "0m"
        )
        _say(f"rule {rule.id}: {rule.urgency} urgency -> contact {rule.contact} after {delay}")
    if not document.notification_rules:
        _say("no notification rules: every contact method is notified at once")


def _print_contacts(contacts: list[ContactRead]) -> None:
    columns = [Column("id", justify="right"), Column("kind"), Column("address", kind="fold")]
    rows = [[str(c.id), c.kind, c.address] for c in contacts]
    console.print(fitted_table(columns, rows, width=console.width, title="Contact methods"))


@app.command()
@guarded
def delete(ctx: typer.Context, name: NameArgument) -> None:
    """Delete a user with their contact methods and rules."""
    with cli_state(ctx).session() as session:
        people_flows.delete_user(session, name=name)
    _say(f"user {name} deleted")


@contact_app.command("add")
@guarded
def contact_add(
    ctx: typer.Context,
    name: NameArgument,
    kind: Annotated[str, typer.Option(help="email, slack, webhook or console.")],
    address: Annotated[str, typer.Option(help="Email address, URL, or console name.")],
    label: Annotated[str, typer.Option(help="A label to recognise it.")] = "",
    json_output: JsonOption = False,
) -> None:
    """Add a contact method to a user."""
    with cli_state(ctx).session() as session:
        contact = people.add_contact(
            session, name=name, kind=kind, address=address, label=label, now=utcnow()
        )
        contact_id = contact.id
    if json_output:
        print_json({"id": contact_id, "user": name, "kind": kind, "address": address})
        return
    _say(f"contact method {contact_id} ({kind}) added to {name}")


@contact_app.command("list")
@guarded
def contact_list(ctx: typer.Context, name: NameArgument, json_output: JsonOption = False) -> None:
    """List a user's contact methods."""
    with cli_state(ctx).session() as session:
        document = user_read(people.profile(session, name=name))
    if json_output:
        print_json([c.model_dump(mode="json") for c in document.contact_methods])
        return
    _print_contacts(list(document.contact_methods))


@contact_app.command("remove")
@guarded
def contact_remove(
    ctx: typer.Context,
    name: NameArgument,
    contact_id: Annotated[int, typer.Argument(help="Contact method id (see `user show`).")],
) -> None:
    """Remove a contact method and the notification rules that use it."""
    with cli_state(ctx).session() as session:
        people.remove_contact(session, name=name, contact_id=contact_id)
    _say(f"contact method {contact_id} removed from {name}")


@rule_app.command("remove")
@guarded
def rule_remove(
    ctx: typer.Context,
    name: NameArgument,
    rule_id: Annotated[int, typer.Argument(help="Rule id (see `user show`).")],
) -> None:
    """Remove a notification rule."""
    with cli_state(ctx).session() as session:
        people.remove_rule(session, name=name, rule_id=rule_id)
    _say(f"notification rule {rule_id} removed from {name}")


@rule_app.command("add")
@guarded
def rule_add(
    ctx: typer.Context,
    name: NameArgument,
    contact: Annotated[int, typer.Option(help="Contact method id (see `user contact list`).")],
    urgency: Annotated[str, typer.Option(help="high or low.")],
    delay: Annotated[str, typer.Option(help="Minutes after the page, e.g. 5m.")] = "0m",
    json_output: JsonOption = False,
) -> None:
    """Add a notification rule: notify a contact method some time after a page."""
    wait = people.parse_delay(delay)
    with cli_state(ctx).session() as session:
        rule = people.add_rule(
            session, name=name, contact_id=contact, urgency=urgency, delay=wait, now=utcnow()
        )
        rule_id = rule.id
    if json_output:
        print_json(
            {
                "id": rule_id,
                "user": name,
                "contact": contact,
                "urgency": urgency,
                "delay_seconds": int(wait.total_seconds()),
            }
        )
        return
    _say(f"rule {rule_id} added to {name}")
