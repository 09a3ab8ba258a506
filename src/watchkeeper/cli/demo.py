"""``watchkeeper demo``: a fresh embedded database, a simulated checkout service, the server."""

from __future__ import annotations

import shutil
import tempfile
import threading
from datetime import timedelta
from importlib import resources
from pathlib import Path
from typing import Annotated

import typer

from watchkeeper.auth import service as auth_service
from watchkeeper.cli.context import open_engine
from watchkeeper.cli.output import console, guarded
from watchkeeper.cli.server import HostOption, PortOption, configure_logging, run_server
from watchkeeper.config import Settings
from watchkeeper.db import make_session_factory, session_scope, utcnow
from watchkeeper.demo.simulator import Profile, Simulator, backfill
from watchkeeper.slo import service as slo_service
from watchkeeper.specs import load_text


@guarded
def demo(
    host: HostOption = None,
    port: PortOption = None,
    fault_after: Annotated[
        int, typer.Option(help="Seconds of healthy traffic before the fault.")
    ] = 60,
    history_days: Annotated[int, typer.Option(help="Days of healthy history to backfill.")] = 7,
    data_dir: Annotated[
        Path | None, typer.Option(help="Keep the demo database here (default: a temp dir).")
    ] = None,
) -> None:
    """Start the demo: checkout SLOs, simulated traffic with a fault, the status page."""
    directory = data_dir or Path(tempfile.mkdtemp(prefix="watchkeeper-demo-"))
    database = directory / "watchkeeper.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    settings = Settings(
        data_dir=directory,
        database_url=None,
        evaluation_interval_seconds=5,
        history_interval_seconds=60,
    )
    configure_logging(settings)
    engine = open_engine(settings)
    factory = make_session_factory(engine)
    spec_text = resources.files("watchkeeper.demo").joinpath("checkout.yaml").read_text()
    now = utcnow()
    with session_scope(factory) as session:
        slo_service.apply(
            session, spec_set=load_text(spec_text, filename="demo/checkout.yaml"), now=now
        )
        backfill(session, now=now, days=history_days, profile=Profile())
        token = auth_service.create(session, name="demo-admin", role="admin", now=now).token
    engine.dispose()
    simulator = Simulator(
        make_session_factory(open_engine(settings)), fault_after=timedelta(seconds=fault_after)
    )
    stop = threading.Event()
    thread = threading.Thread(
        target=simulator.run, args=(stop,), name="demo-simulator", daemon=True
    )
    thread.start()
    bind_host, bind_port = host or settings.host, port or settings.port
    console.print(f"[bold]Watchkeeper demo[/]: database {database}")
    console.print(f"status page  http://{bind_host}:{bind_port}/   (refreshes every 10 s)")
    console.print(f"API token    {token}", highlight=False)
    console.print(
        f"fault in {fault_after}s: checkout errors jump to 35 %; the page-level burn-rate alert "
        "fires within a few minutes. Ctrl-C stops."
    )
    try:
        run_server(settings, host=bind_host, port=bind_port)
    finally:
        stop.set()
        thread.join(timeout=5)
        if data_dir is None:
            shutil.rmtree(directory, ignore_errors=True)
        console.print("demo stopped")
