"""The overview: services' SLO health, firing alert groups, open incidents, who is on call.

The page's live part (``/overview/live``) is re-fetched by htmx every 15 seconds.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from watchkeeper.alerting import service as alerting_service
from watchkeeper.alerting.models import AlertGroup
from watchkeeper.core.duration import format_duration
from watchkeeper.core.windows import REPORTED_BURN_WINDOWS
from watchkeeper.db import utcnow
from watchkeeper.errors import WatchkeeperError
from watchkeeper.incident import service as incident_service
from watchkeeper.incident.models import IncidentRecord
from watchkeeper.messages import plural
from watchkeeper.oncall import service as oncall_service
from watchkeeper.policy import service as policy_service
from watchkeeper.web.access import SignInRequired, Viewer, optional_viewer, page_session
from watchkeeper.web.slo_rows import STATE_LABELS, STATES, SLORow, all_rows, sorted_rows
from watchkeeper.web.templating import render

log = logging.getLogger("watchkeeper.web")
router = APIRouter(include_in_schema=False, tags=["web"])

# How much of each list the overview shows; the full lists are on their own pages.
SHOWN_SLOS = 50
SHOWN_SERVICES = 50
SHOWN_GROUPS = 10
SHOWN_INCIDENTS = 10
SHOWN_SCHEDULES = 20
# How far ahead "on call next" looks.
NEXT_SHIFT_HORIZON = timedelta(days=14)


@dataclass
class Banner:
    """What burns, counted by SLO (and firing page-urgency alert groups): green only when
    every count is zero."""

    paging: int = 0  # SLOs with a page alert firing
    ticketing: int = 0  # SLOs with a ticket alert firing
    exhausted: int = 0  # SLOs whose error budget is used up (remaining <= 0)
    failing: int = 0  # SLOs that cannot be evaluated
    alert_pages: int = 0  # alert groups firing at page (high) urgency, from any source
    lines: list[tuple[str, str]] = field(default_factory=list)  # (id, text)

    @property
    def level(self) -> str:
        """``page`` (red) for pages, exhausted budgets and failing SLOs; ``ticket`` (amber)
        when only tickets fire; ``ok`` (green) otherwise."""
        if self.paging or self.exhausted or self.failing or self.alert_pages:
            return "page"
        return "ticket" if self.ticketing else "ok"


def banner_for(rows: list[SLORow], *, alert_pages: int = 0) -> Banner:
    """Count the SLOs in each burning state (and the paging alert groups), one line each."""
    banner = Banner(alert_pages=alert_pages)
    for row in rows:
        firing = {a.severity for a in row.firing}
        banner.paging += "page" in firing
        banner.ticketing += "ticket" in firing
        banner.exhausted += row.exhausted
        banner.failing += row.error is not None
    for key, count, text in (
        ("paging", banner.paging, "burning error budget fast enough to page"),
        ("ticketing", banner.ticketing, "burning error budget fast enough for a ticket"),
        ("exhausted", banner.exhausted, "out of error budget"),
        ("failing", banner.failing, "cannot be evaluated"),
    ):
        if count:
            banner.lines.append((key, f"{plural(count, 'SLO')} {text}"))
    if alert_pages:
        banner.lines.append(
            ("alert-pages", f"{plural(alert_pages, 'alert group')} firing at page urgency")
        )
    return banner


def burn_windows(rows: list[SLORow]) -> list[str]:
    """The burn-rate windows the SLOs use: the reported ones plus every alert window."""
    lengths: set[timedelta] = set(REPORTED_BURN_WINDOWS)
    for row in rows:  # a spec that no longer parses has none: shown with its error
        lengths.update(row.alert_windows)
    return [format_duration(length) for length in sorted(lengths)]


def _policy_count(session: Session) -> int | None:
    """How many error-budget policies are applied (None when one cannot be read)."""
    try:
        return len(policy_service.list_policies(session))
    except WatchkeeperError:  # a bad stored policy must not take the SLO page down
        return None


@dataclass(frozen=True)
class ServiceHealth:
    """A service's SLOs summed up: how many, the worst state, the least budget left."""

    name: str
    slos: int
    state: str
    budget: float | None
    counts: dict[str, int]


def service_health(rows: list[SLORow]) -> list[ServiceHealth]:
    """One entry per service, worst state first, then by name."""
    by_service: dict[str, list[SLORow]] = {}
    for row in rows:
        by_service.setdefault(row.service, []).append(row)
    order = {state: i for i, state in enumerate(STATES)}
    found = []
    for name, members in by_service.items():
        budgets = [r.budget for r in members if r.budget is not None]
        counts: dict[str, int] = {}
        for row in members:
            counts[row.state] = counts.get(row.state, 0) + 1
        found.append(
            ServiceHealth(
                name=name,
                slos=len(members),
                state=min((r.state for r in members), key=order.__getitem__),
                budget=min(budgets) if budgets else None,
                counts=counts,
            )
        )
    return sorted(found, key=lambda s: (order[s.state], s.name))


@dataclass(frozen=True)
class OnCall:
    """Who is on call in one schedule now, and who takes over next (and when)."""

    schedule: str
    now: tuple[str, ...]
    until: datetime | None
    next: tuple[str, ...]
    next_at: datetime | None
    problem: str | None = None


def on_call(session: Session, *, now: datetime, limit: int = SHOWN_SCHEDULES) -> list[OnCall]:
    """Now and next of the first ``limit`` schedules by name; a schedule that cannot be
    resolved is shown with its problem, the others carry on."""
    found = []
    for record in oncall_service.list_schedules(session)[:limit]:
        try:
            shifts, _gaps = oncall_service.final(
                session, name=record.name, start=now, end=now + NEXT_SHIFT_HORIZON
            )
        except WatchkeeperError as exc:
            found.append(OnCall(record.name, (), None, (), None, problem=exc.detail))
            continue
        current = next((s for s in shifts if s.start <= now < s.end), None)
        later = [
            s for s in shifts if s.start > now and (current is None or s.users != current.users)
        ]
        upcoming = later[0] if later else None
        found.append(
            OnCall(
                schedule=record.name,
                now=current.users if current else (),
                until=current.end if current else None,
                next=upcoming.users if upcoming else (),
                next_at=upcoming.start if upcoming else None,
            )
        )
    return found


def overview_context(session: Session) -> dict[str, Any]:
    """Everything the overview's live part shows, read in one session."""
    now = utcnow()
    rows = all_rows(session)
    firing = alerting_service.firing_by_urgency(session)
    groups: list[AlertGroup] = alerting_service.list_groups(
        session, status="firing", limit=SHOWN_GROUPS
    )
    incidents: list[IncidentRecord] = incident_service.list_incidents(
        session, status="open", limit=SHOWN_INCIDENTS + 1
    )
    services = service_health(rows)
    return {
        "rows": sorted_rows(rows, sort="state")[:SHOWN_SLOS],
        "slo_count": len(rows),
        "burn_windows": burn_windows(rows),
        "banner": banner_for(rows, alert_pages=firing.get("high", 0)),
        "policies": _policy_count(session),
        "services": services[:SHOWN_SERVICES],
        "service_count": len(services),
        "groups": groups,
        "firing": firing,
        "firing_count": sum(firing.values()),
        "incidents": incidents[:SHOWN_INCIDENTS],
        "more_incidents": len(incidents) > SHOWN_INCIDENTS,
        "on_call": on_call(session, now=now),
        "state_labels": STATE_LABELS,
    }


@router.get("/", response_class=HTMLResponse)
def overview_page(request: Request, signed_in: Viewer) -> HTMLResponse:
    """Services' health, firing alerts, open incidents and on-call, refreshed live."""
    with page_session(request) as session:
        context = overview_context(session)
    return render(request, "overview.html", viewer=signed_in, **context)


@router.get("/overview/live", response_class=HTMLResponse)
def overview_live(request: Request) -> HTMLResponse:
    """The overview's live part alone, for htmx polling."""
    signed_in = optional_viewer(request)
    if signed_in is None:
        # Back to the overview after signing in again, not to this bare fragment.
        raise SignInRequired("/")
    with page_session(request) as session:
        context = overview_context(session)
    return render(request, "fragments/overview_live.html", viewer=signed_in, **context)
