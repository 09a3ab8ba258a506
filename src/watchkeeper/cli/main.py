"""The ``watchkeeper`` command: one Typer sub-app per domain."""

from __future__ import annotations

import sys

import typer

from watchkeeper.cli import admin, demo, server
from watchkeeper.cli import alerting as alerting_cli
from watchkeeper.cli import audit as audit_cli
from watchkeeper.cli import events as events_cli
from watchkeeper.cli import gate as gate_cli
from watchkeeper.cli import incident as incident_cli
from watchkeeper.cli import integrations as integrations_cli
from watchkeeper.cli import notify as notify_cli
from watchkeeper.cli import oncall as oncall_cli
from watchkeeper.cli import reports as reports_cli
from watchkeeper.cli import rules as rules_cli
from watchkeeper.cli import slo as slo_cli
from watchkeeper.cli import teams as teams_cli
from watchkeeper.cli import users as users_cli
from watchkeeper.cli.context import CLIState
from watchkeeper.cli.output import error_console

app = typer.Typer(
    name="watchkeeper",
    help="Watchkeeper: SLOs as code, error budgets, burn-rate alerts and deploy gates.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def root(ctx: typer.Context) -> None:
    """Store the invocation's lazily opened settings and database, closed when it ends."""
    state = CLIState()
    ctx.obj = state
    ctx.call_on_close(state.close)


app.command()(server.serve)
app.command()(server.worker)
app.command()(demo.demo)
app.command()(gate_cli.gate)
app.add_typer(slo_cli.app, name="slo")
app.add_typer(events_cli.app, name="events", help="Send SLI events to the built-in store.")
app.add_typer(incident_cli.app, name="incident")
app.add_typer(admin.db_app, name="db")
app.add_typer(admin.token_app, name="token")
app.add_typer(notify_cli.app, name="notify")
app.add_typer(reports_cli.app, name="report")
# people and on-call
app.add_typer(users_cli.app, name="user")
app.add_typer(teams_cli.app, name="team")
app.add_typer(audit_cli.app, name="audit")
app.add_typer(oncall_cli.app, name="oncall")
app.add_typer(integrations_cli.app, name="integration")
alerting_cli.alert_app.command("declare")(incident_cli.declare_from_alert)
app.add_typer(alerting_cli.alert_app, name="alert")
app.add_typer(alerting_cli.silence_app, name="silence")
# Prometheus rule generation (issue 9)
app.add_typer(rules_cli.app, name="rules")


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except Exception as exc:  # a defect, not the caller's mistake: one line, not a traceback
        error_console.print(
            f"error: internal error ({type(exc).__name__}: {exc}); this is a bug in "
            "Watchkeeper: please report it with the command that caused it",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
        sys.exit(1)
