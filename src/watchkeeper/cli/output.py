"""Shared CLI plumbing: consoles, JSON output and turning errors into exit codes."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape
from sqlalchemy.exc import SQLAlchemyError

from watchkeeper.db import driver_message
from watchkeeper.errors import WatchkeeperError

console = Console()
error_console = Console(stderr=True)


def print_json(data: Any) -> None:
    """Write ``data`` as JSON to stdout (no Rich markup, no wrapping)."""
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")


def fail(message: str) -> NoReturn:
    """Report a failure on stderr and exit 1."""
    error_console.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(1)


@contextmanager
def reported_errors() -> Iterator[None]:
    """Turn WatchkeeperError (a caller's mistake) into an stderr line and exit code 1."""
    try:
        yield
    except WatchkeeperError as exc:
        fail(exc.detail)
    except ValidationError as exc:  # the WATCHKEEPER_* settings read by the command
        problems = "; ".join(
            f"WATCHKEEPER_{'_'.join(str(p) for p in e['loc']).upper()}: "
            + e["msg"].removeprefix("Value error, ")
            for e in exc.errors()
        )
        fail(f"invalid setting: {problems}")
    except SQLAlchemyError as exc:  # the database failed mid-command (it answered at the start)
        fail(f"database error: {driver_message(exc)}")


def guarded(function: Callable[..., Any]) -> Callable[..., Any]:
    """Decorator form of :func:`reported_errors` for Typer commands."""
    import functools

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with reported_errors():
            return function(*args, **kwargs)

    return wrapper
