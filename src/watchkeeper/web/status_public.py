"""The public status page (``WATCHKEEPER_PUBLIC_STATUS=true``): each service's health, nothing
internal — no SLO names, figures, labels, alerts or people. 404 when it is off."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from watchkeeper.config import Settings
from watchkeeper.db import utcnow
from watchkeeper.errors import NotFound
from watchkeeper.web.access import page_session
from watchkeeper.web.slo_rows import SLORow, all_rows
from watchkeeper.web.templating import render

router = APIRouter(include_in_schema=False, tags=["web"])

OPERATIONAL = "operational"
DEGRADED = "degraded"
MAJOR_OUTAGE = "major outage"
# Worst first; each with the pill class that colours it (the words say it too).
HEALTH_ORDER = (MAJOR_OUTAGE, DEGRADED, OPERATIONAL)
HEALTH_CLASS = {MAJOR_OUTAGE: "bad", DEGRADED: "warn", OPERATIONAL: "ok"}


class PublicStatusDisabled(NotFound):
    """The public status page is off (WATCHKEEPER_PUBLIC_STATUS)."""


@dataclass(frozen=True)
class ServiceState:
    """A service's name and its plain health."""

    name: str
    health: str


def health_of(rows: list[SLORow]) -> str:
    """Major outage while a page-severity burn alert fires; degraded while a ticket alert
    fires or an error budget is spent; operational otherwise (no data included: a public
    page shows known trouble, not the monitoring's own)."""
    if any(alert.severity == "page" for row in rows for alert in row.firing):
        return MAJOR_OUTAGE
    if any(row.firing or row.exhausted for row in rows):
        return DEGRADED
    return OPERATIONAL


def service_states(rows: list[SLORow]) -> list[ServiceState]:
    """Every service with SLOs and its health, by name."""
    by_service: dict[str, list[SLORow]] = {}
    for row in rows:
        by_service.setdefault(row.service, []).append(row)
    return [ServiceState(name, health_of(members)) for name, members in sorted(by_service.items())]


@router.get("/status", response_class=HTMLResponse)
def public_status(request: Request) -> HTMLResponse:
    """Services and their health, without sign-in; 404 unless enabled."""
    settings: Settings = request.app.state.settings
    if not settings.public_status:
        raise PublicStatusDisabled("there is no public status page here")
    with page_session(request) as session:
        states = service_states(all_rows(session))
    worst = min((s.health for s in states), key=HEALTH_ORDER.index, default=OPERATIONAL)
    return render(
        request,
        "public_status.html",
        viewer=None,
        services=states,
        overall=worst,
        health_class=HEALTH_CLASS,
        updated=utcnow(),
    )
