"""``watchkeeper demo``: a fresh embedded database, a simulated checkout service, the server."""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import sys
import tempfile
import threading
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from types import FrameType
from typing import Annotated, Any

import typer

from watchkeeper.cli.context import CLIState, cli_state
from watchkeeper.cli.output import console, guarded
from watchkeeper.cli.server import HostOption, PortOption, configure_logging, run_server
from watchkeeper.db import session_scope, utcnow
from watchkeeper.demo.simulator import Simulator
from watchkeeper.flows.demo import prepare
from watchkeeper.flows.demo_history import HISTORY_MARK

SignalHandler = Callable[[int, FrameType | None], Any] | int | signal.Handlers | None


@guarded
def demo(
    ctx: typer.Context,
    host: HostOption = None,
    port: PortOption = None,
    fault_after: Annotated[
        int, typer.Option(help="Seconds of healthy traffic before the fault.")
    ] = 60,
    history_days: Annotated[int, typer.Option(help="Days of healthy history to backfill.")] = 7,
    history_months: Annotated[
        int,
        typer.Option(min=0, max=12, help="Months of past outages, incidents and pages (0: none)."),
    ] = 6,
    data_dir: Annotated[
        Path | None, typer.Option(help="Keep the demo database here (default: a temp dir).")
    ] = None,
) -> None:
    """Start the demo: checkout SLOs, simulated traffic with a fault, the dashboard."""
    environment = cli_state(ctx).settings  # invalid settings stop the demo before it starts
    directory = (data_dir or Path(tempfile.mkdtemp(prefix="watchkeeper-demo-"))).resolve()
    database = directory / "watchkeeper.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    # The demo's own database, whatever WATCHKEEPER_DATABASE_URL says.
    settings = environment.model_copy(
        update={
            "data_dir": directory,
            "database_url": None,
            "evaluation_interval_seconds": 5,
            "history_interval_seconds": 60,
        }
    )
    bind_host = host if host is not None else settings.host
    bind_port = port if port is not None else settings.port
    base_url = f"http://{_client_host(bind_host)}:{bind_port}"
    # Pages carry acknowledge/resolve links: they must point at this server.
    settings = settings.model_copy(update={"public_url": base_url})
    configure_logging(settings)
    state = CLIState(settings)
    thread: threading.Thread | None = None
    stop = threading.Event()
    previous_handler = _stop_on_sigterm()
    try:
        state.upgrade()  # a fresh database: the demo migrates it itself
        factory = state.session_factory()
        with session_scope(factory) as session:
            data = prepare(
                session, now=utcnow(), history_days=history_days, history_months=history_months
            )
        simulator = Simulator(factory, fault_after=timedelta(seconds=fault_after))
        thread = threading.Thread(
            target=simulator.run, args=(stop,), name="demo-simulator", daemon=True
        )
        thread.start()
        _print_welcome(
            database_url=settings.resolved_database_url(),
            base_url=base_url,
            token=data.token,
            oncall_user=data.oncall_user,
            escalation_user=data.escalation_user,
            fault_after=fault_after,
            logins=data.logins,
            alert_group_id=data.live_alert_group_id,
            incident_id=data.live_incident_id,
        )
        run_server(settings, state.current_engine(), host=bind_host, port=bind_port)
    except KeyboardInterrupt:
        pass  # Ctrl-C (or SIGTERM) is how the demo is meant to end
    finally:
        stop.set()
        if thread is not None:
            thread.join(timeout=5)
        state.close()
        if data_dir is None:
            shutil.rmtree(directory, ignore_errors=True)
        if previous_handler is not None:
            signal.signal(signal.SIGTERM, previous_handler)
    console.print("demo stopped")


def _stop_on_sigterm() -> SignalHandler:
    """Make SIGTERM stop the demo like Ctrl-C, so its temporary database is removed too.

    The server re-raises the signal that stopped it once it has shut down; without this the
    default SIGTERM action would end the process before the clean-up. Returns the previous
    handler (None when not on the main thread, where handlers cannot be set).
    """
    if threading.current_thread() is not threading.main_thread():
        return None

    def interrupt(_signal: int, _frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    return signal.signal(signal.SIGTERM, interrupt)


def _print_welcome(
    *,
    database_url: str,
    base_url: str,
    token: str,
    oncall_user: str,
    escalation_user: str,
    fault_after: int,
    logins: tuple[tuple[str, str, str], ...] = (),
    alert_group_id: int = 1,
    incident_id: int = 1,
) -> None:
    """What the demo runs, and commands that work pasted into another terminal as printed
    (the live alert group and incident have the ids given: seeded history comes first)."""
    watchkeeper = _watchkeeper_command()
    lines = [
        f"Watchkeeper demo: database {database_url}",
        f"dashboard    {base_url}/",
        *(
            f"  sign in as {name}   password {password}   ({role})"
            for name, password, role in logins
        ),
        f"API token    {token}   (admin)",
        f"history      past outages, incidents and pages marked {HISTORY_MARK}: "
        f"{watchkeeper} report trends",
        f"on call      {oncall_user} (schedule checkout-primary; pages print here, on the console)",
        f"fault in {fault_after}s: checkout errors jump to 35 %. Within a few minutes the "
        f"page-level burn-rate alert fires: {oncall_user} is paged (the page prints below), "
        "a SEV2 incident opens and the deploy gate starts to deny. Without an acknowledgement "
        f"the page escalates to {escalation_user} after 5 minutes, then {oncall_user} and "
        f"{escalation_user} are paged once more in turn. Ctrl-C stops.",
        "",
        "Try, in another terminal:",
        f"  export WATCHKEEPER_DATABASE_URL={shlex.quote(database_url)}",
        f"  {watchkeeper} slo list",
        f"  {watchkeeper} slo status checkout/availability",
        f"  {watchkeeper} gate --service checkout",
        f"  curl -sS -H {shlex.quote(f'Authorization: Bearer {token}')} "
        f"{shlex.quote(f'{base_url}/api/v1/gate?service=checkout')}",
        "Once the page has printed:",
        f"  {watchkeeper} alert list",
        f"  {watchkeeper} alert ack {alert_group_id} --as {oncall_user}        "
        "# stops the escalation",
        f"  {watchkeeper} incident list",
        f"  {watchkeeper} incident ack {incident_id} --as {oncall_user}",
        f"  {watchkeeper} incident show {incident_id}",
        "",
    ]
    for line in lines:
        # Printed as is: no markup, and no wrapping inside a command someone will paste.
        console.print(line, markup=False, highlight=False, soft_wrap=True)


def _watchkeeper_command() -> str:
    """How to run this same ``watchkeeper`` from any directory (an absolute path)."""
    running = Path(sys.argv[0])
    if running.name == "watchkeeper" and running.is_file():
        return shlex.quote(os.path.abspath(running))
    found = shutil.which("watchkeeper")
    return shlex.quote(found) if found else "watchkeeper"


def _client_host(bind_host: str) -> str:
    """Where a client on this machine reaches a server bound to ``bind_host``."""
    if bind_host in ("", "0.0.0.0", "::"):
        return "127.0.0.1"
    return f"[{bind_host}]" if ":" in bind_host else bind_host
