"""The dashboard's Jinja2 environment: autoescaping everywhere, display filters, ``render``."""

from __future__ import annotations

import functools
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from watchkeeper.auth.roles import Permission, allows
from watchkeeper.auth.sessions import SignedIn
from watchkeeper.core.duration import format_duration
from watchkeeper.db import utcnow
from watchkeeper.messages import plural

TEMPLATES = Path(__file__).parent / "templates"

# (path, label, permission needed to see it in the navigation)
NAVIGATION: tuple[tuple[str, str, Permission], ...] = (
    ("/", "Overview", Permission.READ),
    ("/slos", "SLOs", Permission.READ),
    ("/alerts", "Alerts", Permission.READ),
    ("/incidents", "Incidents", Permission.READ),
    ("/oncall", "On-call", Permission.READ),
    ("/leadership", "Leadership", Permission.READ),
    ("/settings", "Settings", Permission.READ),
)


def percent(value: float | None, digits: int = 3) -> str:
    """``99.950 %``, or ``no data`` for None."""
    return "no data" if value is None else f"{value * 100:.{digits}f} %"


def number(value: float | None, digits: int = 2) -> str:
    """A fixed-point number, or ``-`` for None."""
    return "-" if value is None else f"{value:.{digits}f}"


def duration(value: timedelta | float | None) -> str:
    """A duration (or seconds) in the shortest form: ``1h30m``; ``-`` for None."""
    if value is None:
        return "-"
    if not isinstance(value, timedelta):
        value = timedelta(seconds=round(value))
    return format_duration(value) if value > timedelta(0) else "0s"


@functools.cache
def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def local_time(value: datetime | None, zone: str, pattern: str = "%Y-%m-%d %H:%M") -> str:
    """An instant in the viewer's time zone, with the zone's abbreviation; ``-`` for None."""
    if value is None:
        return "-"
    shown = value.astimezone(_zone(zone))
    return f"{shown.strftime(pattern)} {shown.tzname()}"


def _environment() -> Environment:
    # Autoescaping for every template, whatever its extension: labels and alert titles are
    # user data, and a "<script>" in one must render as text.
    environment = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters.update(percent=percent, number=number, duration=duration)
    environment.globals.update(plural=plural)
    return environment


templates = _environment()


def render(
    request: Request,
    template: str,
    *,
    viewer: SignedIn | None,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    """A page from ``template`` with the viewer, their CSRF token, navigation and clock."""
    zone = viewer.user.time_zone if viewer is not None else "UTC"
    now = utcnow()
    page = templates.get_template(template).render(
        request=request,
        viewer=viewer,
        csrf_token=viewer.csrf_token if viewer is not None else "",
        navigation=[
            (path, label)
            for path, label, permission in NAVIGATION
            if viewer is not None and allows(viewer.user.role, permission)
        ],
        current_path=request.url.path,
        may=lambda permission: (
            viewer is not None and allows(viewer.user.role, Permission(permission))
        ),
        zone=zone,
        at=lambda value, pattern="%Y-%m-%d %H:%M": local_time(value, zone, pattern),
        now=now,
        **context,
    )
    return HTMLResponse(page, status_code=status_code, headers={"Cache-Control": "no-store"})
