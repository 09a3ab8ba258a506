"""``watchkeeper alert ...`` (alert groups and routing rules) and ``watchkeeper silence ...``.

``watchkeeper integration ...`` is in :mod:`watchkeeper.cli.integrations`.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer

from watchkeeper.alerting import routing, service, silences
from watchkeeper.cli.context import ActorOption, actor_name, cli_state, parse_time
from watchkeeper.cli.output import console, fail, guarded, print_json
from watchkeeper.cli.tables import Column, fitted_table
from watchkeeper.core.duration import parse_duration
from watchkeeper.db import MAX_ROW_ID, utcnow
from watchkeeper.flows import incidents as incident_flows
from watchkeeper.messages import plural

alert_app = typer.Typer(no_args_is_help=True, help="Alert groups: list, show, ack, resolve.")
routes_app = typer.Typer(
    invoke_without_command=True, help="Routing rules: pick escalation policy and urgency."
)
silence_app = typer.Typer(no_args_is_help=True, help="Silences and maintenance windows.")
alert_app.add_typer(routes_app, name="routes")

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def say(text: str) -> None:
    """Print a line of plain text (no Rich markup or highlighting)."""
    console.print(text, markup=False, highlight=False, soft_wrap=True)


def _duration(value: str, option: str) -> timedelta:
    try:
        return parse_duration(value)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint=option) from None


# --- alerts --------------------------------------------------------------------------------


def _when(value: str | None) -> str:
    return "-" if value is None else value[:16].replace("T", " ")


@alert_app.command("list")
@guarded
def list_alerts(
    ctx: typer.Context,
    status: Annotated[
        str | None,
        typer.Option(help="firing, acknowledged, resolved or silenced.", show_default=False),
    ] = None,
    service_name: Annotated[
        str | None, typer.Option("--service", help="Only this service.", show_default=False)
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="At most this many.")] = 50,
    json_output: JsonOption = False,
) -> None:
    """List alert groups, newest first."""
    with cli_state(ctx).session() as session:
        groups = service.list_groups(session, status=status, service=service_name, limit=limit)
        documents = service.group_summaries(session, groups)
    if json_output:
        print_json(documents)
        return
    if not documents:
        say("no alert groups")
        return
    rows = [
        [
            str(d["id"]),
            d["status"],
            d["title"],
            d["service"] or "-",
            d["urgency"],
            f"{d['alerts_firing']}/{d['alerts_total']}",
            _when(d["created_at"]),
            d["integration"],
        ]
        for d in documents
    ]
    columns = [
        Column("id", justify="right"),
        Column("status"),
        Column("title", kind="wrap"),
        Column("service", kind="fold", drop=2),
        Column("urgency", drop=4),
        Column("firing", justify="right", drop=3),
        Column("opened", drop=1),
        Column("integration", kind="fold", drop=5),
    ]
    console.print(fitted_table(columns, rows, width=console.width, title="alert groups"))


@alert_app.command("show")
@guarded
def show_alert(
    ctx: typer.Context,
    group_id: Annotated[int, typer.Argument(help="The alert group's id.", max=MAX_ROW_ID)],
    json_output: JsonOption = False,
) -> None:
    """Show one alert group with its alerts and log."""
    with cli_state(ctx).session() as session:
        document = service.group_detail(session, group_id=group_id)
    if json_output:
        print_json(document)
        return
    say(f"alert group {document['id']}: {document['title']}")
    for field in ("status", "service", "severity", "urgency", "integration", "dedup_key"):
        say(f"  {field}: {document[field] if document[field] is not None else '-'}")
    if document["truncated_alerts"]:
        say(f"  truncated alerts: {document['truncated_alerts']} (not sent by the source)")
    runbook = document["annotations"].get("runbook_url")
    if runbook:
        say(f"  runbook: {runbook}")
    say(f"{plural(len(document['alerts']), 'alert')}:")
    for alert in document["alerts"]:
        say(
            f"  {alert['fingerprint'] or '-'}  {alert['status']}  since {_when(alert['starts_at'])}"
        )
    say("log:")
    for entry in document["log"]:
        actor = f" by {entry['actor']}" if entry["actor"] else ""
        say(f"  {_when(entry['at'])}  {entry['kind']}: {entry['message']}{actor}")


def _act(
    ctx: typer.Context, group_id: int, action: str, json_output: bool, actor: str | None
) -> None:
    with cli_state(ctx).session(actor=actor_name(actor)) as session:
        group = service.perform_action(
            session, group_id=group_id, action=action, actor=actor_name(actor), now=utcnow()
        )
        document = service.group_summaries(session, [group])[0]
    if json_output:
        print_json(document)
        return
    say(f"alert group {group_id} is {document['status']}")


GroupArgument = Annotated[int, typer.Argument(help="The alert group's id.", max=MAX_ROW_ID)]


@alert_app.command("ack")
@guarded
def ack(
    ctx: typer.Context,
    group_id: GroupArgument,
    json_output: JsonOption = False,
    actor: ActorOption = None,
) -> None:
    """Acknowledge an alert group: escalation stops."""
    _act(ctx, group_id, "ack", json_output, actor)


@alert_app.command("unack")
@guarded
def unack(
    ctx: typer.Context,
    group_id: GroupArgument,
    json_output: JsonOption = False,
    actor: ActorOption = None,
) -> None:
    """Take back an acknowledgement: the group fires and escalates again."""
    _act(ctx, group_id, "unack", json_output, actor)


@alert_app.command("resolve")
@guarded
def resolve(
    ctx: typer.Context,
    group_id: GroupArgument,
    json_output: JsonOption = False,
    actor: ActorOption = None,
) -> None:
    """Resolve an alert group by hand."""
    _act(ctx, group_id, "resolve", json_output, actor)


@alert_app.command("silence")
@guarded
def silence_group(
    ctx: typer.Context,
    group_id: GroupArgument,
    for_: Annotated[str, typer.Option("--for", help="How long, e.g. 2h.", show_default=False)],
    json_output: JsonOption = False,
    actor: ActorOption = None,
) -> None:
    """Silence one alert group for a while (it fires again afterwards if unresolved)."""
    now = utcnow()
    until = silences.ends_after(now, _duration(for_, "--for"), field="--for")
    with cli_state(ctx).session(actor=actor_name(actor)) as session:
        group = service.silence(
            session, group_id=group_id, until=until, actor=actor_name(actor), now=now
        )
        document = service.group_summaries(session, [group])[0]
    if json_output:
        print_json(document)
        return
    say(f"alert group {group_id} silenced until {until.strftime('%Y-%m-%d %H:%M UTC')}")


@routes_app.callback()
@guarded
def list_routes(ctx: typer.Context, json_output: JsonOption = False) -> None:
    """List routing rules in order (first match wins)."""
    if ctx.invoked_subcommand is not None:
        return
    with cli_state(ctx).session() as session:
        documents = [routing.document(r) for r in routing.list_rules(session)]
    if json_output:
        print_json(documents)
        return
    if not documents:
        say("no routing rules: integrations' defaults apply")
        return
    rows = [
        [
            str(d["position"] + 1),
            d["name"],
            ", ".join(d["match"]) or "(everything)",
            d["integration"] or "any",
            d["escalation_policy"] or "-",
            d["urgency"] or "-",
        ]
        for d in documents
    ]
    columns = [
        Column("#", justify="right"),
        Column("name", kind="fold"),
        Column("match", kind="fold"),
        Column("integration", kind="fold", drop=1),
        Column("policy", kind="fold"),
        Column("urgency"),
    ]
    console.print(fitted_table(columns, rows, width=console.width, title="routing rules"))


@routes_app.command("apply")
@guarded
def apply_routes(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="YAML file with a 'routes:' list.")],
) -> None:
    """Replace the routing rules with those of a YAML file."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"cannot read {path}: {exc}")
    rules = routing.parse_file(text, filename=str(path))
    with cli_state(ctx).session() as session:
        applied = incident_flows.apply_routes(session, rules=rules)
    say(f"applied {plural(len(applied), 'routing rule')}")


# --- silences ------------------------------------------------------------------------------


@silence_app.command("create")
@guarded
def create_silence(
    ctx: typer.Context,
    match: Annotated[
        list[str] | None,
        typer.Option(
            "--match", help="Matcher such as service=checkout (repeatable).", show_default=False
        ),
    ] = None,
    for_: Annotated[
        str | None, typer.Option("--for", help="How long, e.g. 2h.", show_default=False)
    ] = None,
    service_name: Annotated[
        str | None,
        typer.Option("--service", help="Shorthand for --match service=NAME.", show_default=False),
    ] = None,
    start: Annotated[
        str | None, typer.Option(help="Start (RFC 3339; default now).", show_default=False)
    ] = None,
    end: Annotated[str | None, typer.Option(help="End (RFC 3339).", show_default=False)] = None,
    comment: Annotated[str, typer.Option(help="Why.")] = "",
    maintenance: Annotated[
        bool, typer.Option("--maintenance", help="A maintenance window (counted apart).")
    ] = False,
    json_output: JsonOption = False,
    actor: ActorOption = None,
) -> None:
    """Silence alerts matching every --match, for a duration or between --start and --end."""
    now = utcnow()
    matchers = list(match or []) + ([f"service={service_name}"] if service_name else [])
    starts_at: datetime = parse_time(start) if start else now
    if end is not None:
        ends_at = parse_time(end)
    elif for_ is not None:
        ends_at = silences.ends_after(starts_at, _duration(for_, "--for"), field="--for")
    else:
        fail("give --for DURATION or --end TIME")
    with cli_state(ctx).session(actor=actor_name(actor)) as session:
        row = silences.create(
            session,
            matchers=matchers,
            starts_at=starts_at,
            ends_at=ends_at,
            comment=comment,
            created_by=actor_name(actor),
            now=now,
            kind="maintenance" if maintenance else "silence",
        )
        document = silences.document(row, now=now)
    if json_output:
        print_json(document)
        return
    say(f"{document['kind']} {document['id']} until {_when(document['ends_at'])} UTC")


@silence_app.command("list")
@guarded
def list_silences(
    ctx: typer.Context,
    expired: Annotated[bool, typer.Option("--expired", help="Include expired ones.")] = False,
    json_output: JsonOption = False,
) -> None:
    """List silences and maintenance windows."""
    now = utcnow()
    with cli_state(ctx).session() as session:
        rows = silences.list_silences(session, now=now, include_expired=expired)
        documents = [silences.document(r, now=now) for r in rows]
    if json_output:
        print_json(documents)
        return
    if not documents:
        say("no silences")
        return
    table_rows = [
        [
            str(d["id"]),
            d["kind"],
            d["state"],
            ", ".join(d["matchers"]),
            _when(d["starts_at"]),
            _when(d["ends_at"]),
            str(d["silenced_count"]),
            d["comment"],
        ]
        for d in documents
    ]
    columns = [
        Column("id", justify="right"),
        Column("kind", drop=3),
        Column("state"),
        Column("matchers", kind="fold"),
        Column("starts", drop=2),
        Column("ends"),
        Column("silenced", justify="right", drop=4),
        Column("comment", kind="wrap", drop=1),
    ]
    console.print(fitted_table(columns, table_rows, width=console.width, title="silences"))


@silence_app.command("expire")
@guarded
def expire_silence(
    ctx: typer.Context,
    silence_id: Annotated[int, typer.Argument(help="The silence's id.", max=MAX_ROW_ID)],
    json_output: JsonOption = False,
) -> None:
    """End a silence now."""
    now = utcnow()
    with cli_state(ctx).session() as session:
        document = silences.document(
            silences.expire(session, silence_id=silence_id, now=now), now=now
        )
    if json_output:
        print_json(document)
        return
    say(f"silence {silence_id} expired")
