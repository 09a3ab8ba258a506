"""``watchkeeper serve`` and ``watchkeeper worker``."""

from __future__ import annotations

import logging
import socket
import threading
from typing import Annotated

import typer
import uvicorn
from sqlalchemy import Engine

from watchkeeper.app import create_app, settle_heap
from watchkeeper.cli.context import cli_state
from watchkeeper.cli.output import console, guarded
from watchkeeper.config import Settings
from watchkeeper.db import make_session_factory
from watchkeeper.errors import Unavailable
from watchkeeper.worker import Worker, start_in_thread

HostOption = Annotated[str | None, typer.Option(help="Address to bind (default 127.0.0.1).")]
PortOption = Annotated[
    int | None,
    typer.Option(help="Port (default 8080; 0 picks a free one).", min=0, max=65535),
]


def configure_logging(settings: Settings) -> None:
    """Plain timestamped logs on stderr."""
    logging.basicConfig(
        level=settings.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # Migration chatter is not news on every start.
    logging.getLogger("alembic").setLevel(logging.WARNING)


def run_server(settings: Settings, engine: Engine, *, host: str, port: int) -> None:
    """Serve the API and status page on ``engine``; run the worker in-process unless disabled.

    The caller owns the engine, and has checked that its schema is current.
    """
    app = create_app(settings, engine=engine)
    # Bound before anything else starts: a port in use stops here, before the worker runs.
    listening = listening_socket(host, port)
    stop: threading.Event | None = None
    thread: threading.Thread | None = None
    if settings.run_worker_in_process:
        worker = Worker(settings, make_session_factory(engine))
        thread, stop = start_in_thread(worker)
    try:
        config = uvicorn.Config(app, log_level=settings.log_level.lower())
        settle_heap()
        uvicorn.Server(config).run(sockets=[listening])
    finally:
        listening.close()
        if stop is not None and thread is not None:
            stop.set()
            thread.join(timeout=10)


def listening_socket(host: str, port: int) -> socket.socket:
    """A TCP socket bound to ``host:port`` for the server, or Unavailable saying why not."""
    try:
        family, kind, protocol, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
        sock = socket.socket(family, kind, protocol)
    except OSError as exc:
        raise Unavailable(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except OSError as exc:
        sock.close()
        raise Unavailable(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    return sock


@guarded
def serve(ctx: typer.Context, host: HostOption = None, port: PortOption = None) -> None:
    """Run the API, the status page and (embedded) the background worker.

    Refuses to start unless the schema is current: run `watchkeeper db upgrade` first.
    """
    state = cli_state(ctx)
    settings = state.settings
    configure_logging(settings)
    engine = state.current_engine()
    run_server(
        settings,
        engine,
        host=host if host is not None else settings.host,
        port=port if port is not None else settings.port,
    )


@guarded
def worker(ctx: typer.Context) -> None:
    """Run background jobs only (SLO evaluation, compaction, notifications) until interrupted.

    Refuses to start unless the schema is current: run `watchkeeper db upgrade` first.
    """
    state = cli_state(ctx)
    settings = state.settings
    configure_logging(settings)
    factory = state.session_factory()
    stop = threading.Event()
    console.print(
        f"worker evaluating every {settings.evaluation_interval_seconds:g}s, delivering "
        f"notifications every {settings.outbox_poll_seconds:g}s; Ctrl-C stops"
    )
    try:
        Worker(settings, factory).run_forever(stop)
    except KeyboardInterrupt:
        stop.set()
