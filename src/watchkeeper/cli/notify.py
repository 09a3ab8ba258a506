"""``watchkeeper notify list|show|retry|test``: the notification outbox."""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta
from typing import Annotated, Any

import typer

from watchkeeper.cli.context import cli_state
from watchkeeper.cli.output import console, fail, guarded, print_json
from watchkeeper.cli.tables import Column, fitted_table
from watchkeeper.db import MAX_ROW_ID, utcnow
from watchkeeper.notify import service
from watchkeeper.notify.delivery import deliver_due
from watchkeeper.notify.message import Message
from watchkeeper.notify.notifiers import notifiers
from watchkeeper.notify.schemas import (
    NotificationDetail,
    notification_detail,
    notification_read,
)

app = typer.Typer(no_args_is_help=True, help="Notifications: the outbox and its deliveries.")

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]
IdArgument = Annotated[
    int, typer.Argument(help="The notification's id (see `notify list`).", max=MAX_ROW_ID)
]


def _when(value: datetime | None) -> str:
    return "-" if value is None else value.strftime("%Y-%m-%d %H:%M:%S UTC")


@app.command("list")
@guarded
def list_notifications(
    ctx: typer.Context,
    status: Annotated[
        str | None,
        typer.Option(help="Only this status: pending, sending, delivered, failed, cancelled."),
    ] = None,
    alert_group: Annotated[
        int | None, typer.Option("--alert-group", help="Only this alert group's.")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="At most this many.")] = 50,
    json_output: JsonOption = False,
) -> None:
    """List notifications, newest first, with their delivery state."""
    with cli_state(ctx).session() as session:
        records = service.list_notifications(
            session, status=status, alert_group_id=alert_group, limit=limit
        )
        reads = [notification_read(record) for record in records]
    if json_output:
        print_json([read.model_dump(mode="json") for read in reads])
        return
    if not reads:
        console.print("no notifications", markup=False)
        return
    columns = [
        Column("id", justify="right"),
        Column("status"),
        Column("channel"),
        Column("title", kind="fold"),
        Column("tries", justify="right", drop=2),
        Column("created", drop=3),
        Column("last error", kind="wrap", drop=1),
    ]
    rows = [
        [
            str(read.id),
            read.status,
            read.channel,
            read.title,
            str(read.attempts),
            _when(read.created_at),
            read.last_error or "",
        ]
        for read in reads
    ]
    console.print(fitted_table(columns, rows, width=console.width, title="Notifications"))


def _print_detail(detail: NotificationDetail) -> None:
    lines = [
        f"notification {detail.id}: {detail.status}",
        f"title:      {detail.title}",
        f"channel:    {detail.channel} {detail.address}",
        f"recipient:  {detail.recipient or '-'}",
        f"kind:       {detail.kind}",
        f"attempts:   {detail.attempts}",
        f"created:    {_when(detail.created_at)}",
        f"next try:   {_when(detail.next_attempt_at) if detail.status == 'pending' else '-'}",
        f"delivered:  {_when(detail.delivered_at)}",
        f"last error: {detail.last_error or '-'}",
        f"key:        {detail.idempotency_key}",
    ]
    if detail.alert_group_id is not None:
        lines.append(f"alert group: {detail.alert_group_id}")
    if detail.incident_id is not None:
        lines.append(f"incident:   {detail.incident_id}")
    console.print("\n".join(lines), markup=False, highlight=False, soft_wrap=True)


@app.command()
@guarded
def show(ctx: typer.Context, notification_id: IdArgument, json_output: JsonOption = False) -> None:
    """Show one notification: its message, attempts and last error."""
    with cli_state(ctx).session() as session:
        detail = notification_detail(
            service.get(session, notification_id=notification_id), secrets=True
        )
    if json_output:
        print_json(detail.model_dump(mode="json"))
        return
    _print_detail(detail)


@app.command()
@guarded
def retry(ctx: typer.Context, notification_id: IdArgument, json_output: JsonOption = False) -> None:
    """Send a failed notification again (the worker delivers it at its next pass)."""
    with cli_state(ctx).session() as session:
        read = notification_read(
            service.retry(session, notification_id=notification_id, now=utcnow())
        )
    if json_output:
        print_json(read.model_dump(mode="json"))
        return
    console.print(f"notification {read.id} is pending again", markup=False, highlight=False)


@app.command()
@guarded
def test(
    ctx: typer.Context,
    channel: Annotated[str, typer.Argument(help="console, slack, webhook or email.")],
    address: Annotated[str, typer.Argument(help="Where to: a URL, an email address, stdout.")],
    deliver: Annotated[
        bool, typer.Option("--deliver", help="Also run one delivery pass and report it.")
    ] = False,
    json_output: JsonOption = False,
) -> None:
    """Enqueue a test notification; with --deliver, send it now (exit 1 if that fails)."""
    state = cli_state(ctx)
    now = utcnow()
    message = Message(
        kind="test",
        title="Watchkeeper test notification",
        summary=f"A test of the {channel} channel, sent with `watchkeeper notify test`.",
        urgency="low",
        fields=(("Channel", channel), ("Sent", now.strftime("%Y-%m-%d %H:%M:%S UTC"))),
    )
    with state.session() as session:
        record = service.enqueue(
            session,
            channel=channel,
            address=address,
            message=message,
            idempotency_key=f"test-{uuid.uuid4().hex}",
            now=now,
        )
        notification_id = record.id
    result: dict[str, Any] = {"id": notification_id, "status": "pending", "error": None}
    if deliver:
        settings = state.settings
        # The outcome is reported below; the delivery log would say it twice.
        delivery_log = logging.getLogger("watchkeeper.notify")
        delivery_log.disabled = True
        try:
            report = deliver_due(
                state.session_factory(),
                now=now,
                notifiers=notifiers(settings),
                max_attempts=settings.notify_max_attempts,
                lease=timedelta(seconds=settings.notify_lease_seconds),
                backoff_base=timedelta(seconds=settings.notify_backoff_base_seconds),
                backoff_cap=timedelta(seconds=settings.notify_backoff_cap_seconds),
                # Only this notification: the outbox's other rows are the worker's, sent
                # with its settings (secrets, console) rather than this terminal's.
                ids=[notification_id],
            )
        finally:
            delivery_log.disabled = False
        for outcome in report.outcomes:
            if outcome.notification_id == notification_id:
                result["status"], result["error"] = outcome.status, outcome.error
    if json_output:
        print_json(result)
    if result["error"] is not None:
        retrying = " (a retry is scheduled)" if result["status"] == "pending" else ""
        fail(f"notification {notification_id} was not delivered{retrying}: {result['error']}")
    if not json_output:
        said = "delivered" if result["status"] == "delivered" else "enqueued"
        console.print(f"test notification {notification_id} {said}", markup=False, highlight=False)
