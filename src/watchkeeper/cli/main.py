"""The ``watchkeeper`` command: one Typer sub-app per domain."""

from __future__ import annotations

import typer

from watchkeeper.cli import events as events_cli

app = typer.Typer(
    name="watchkeeper",
    help="Watchkeeper: SLOs as code, error budgets, burn-rate alerts and deploy gates.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(events_cli.app, name="events", help="Send SLI events to the built-in store.")


def main() -> None:
    """Console-script entry point."""
    app()
