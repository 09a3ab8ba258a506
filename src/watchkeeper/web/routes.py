"""The status page: every SLO's latest figures, refreshed by the browser."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from watchkeeper.core.duration import format_duration
from watchkeeper.core.windows import REPORTED_BURN_WINDOWS, alert_windows
from watchkeeper.db import session_scope
from watchkeeper.errors import WatchkeeperError
from watchkeeper.messages import plural
from watchkeeper.policy import service as policy_service
from watchkeeper.slo import service as slo_service
from watchkeeper.slo.models import SLORecord
from watchkeeper.slo.schemas import SLOStatusRead
from watchkeeper.web.access import Viewer
from watchkeeper.web.templating import render

log = logging.getLogger("watchkeeper.web")
router = APIRouter(include_in_schema=False, tags=["web"])


@dataclass
class Banner:
    """What burns, counted by SLO: green only when every count is zero."""

    paging: int = 0  # SLOs with a page alert firing
    ticketing: int = 0  # SLOs with a ticket alert firing
    exhausted: int = 0  # SLOs whose error budget is used up (remaining <= 0)
    failing: int = 0  # SLOs that cannot be evaluated
    lines: list[tuple[str, str]] = field(default_factory=list)  # (id, text)

    @property
    def level(self) -> str:
        """``page`` (red) for pages, exhausted budgets and failing SLOs; ``ticket`` (amber)
        when only tickets fire; ``ok`` (green) otherwise."""
        if self.paging or self.exhausted or self.failing:
            return "page"
        return "ticket" if self.ticketing else "ok"


def banner_for(statuses: list[SLOStatusRead]) -> Banner:
    """Count the SLOs in each burning state and say so, one line per state."""
    banner = Banner()
    for status in statuses:
        firing = {a.severity for a in status.alerts if a.firing}
        banner.paging += "page" in firing
        banner.ticketing += "ticket" in firing
        left = status.error_budget_remaining
        banner.exhausted += left is not None and left <= 0
        banner.failing += status.error is not None
    for key, count, text in (
        ("paging", banner.paging, "burning error budget fast enough to page"),
        ("ticketing", banner.ticketing, "burning error budget fast enough for a ticket"),
        ("exhausted", banner.exhausted, "out of error budget"),
        ("failing", banner.failing, "cannot be evaluated"),
    ):
        if count:
            banner.lines.append((key, f"{plural(count, 'SLO')} {text}"))
    return banner


def burn_windows(records: list[SLORecord]) -> list[str]:
    """The burn-rate windows the SLOs use: the reported ones plus every alert window."""
    lengths: set[timedelta] = set(REPORTED_BURN_WINDOWS)
    for record in records:
        try:
            slo = slo_service.to_core(record)
        except WatchkeeperError:  # a failing SLO: shown with its error, no burn rates
            continue
        for window in alert_windows(slo):
            lengths.update((window.long, window.short))
    return [format_duration(length) for length in sorted(lengths)]


def _policy_count(session: Session) -> int | None:
    """How many error-budget policies are applied (None when one cannot be read)."""
    try:
        return len(policy_service.list_policies(session))
    except WatchkeeperError:  # a bad stored policy must not take the SLO page down
        return None


@router.get("/", response_class=HTMLResponse)
def status_page(request: Request, signed_in: Viewer) -> HTMLResponse:
    """All SLOs with SLI, budget remaining, burn rates and firing alerts."""
    with session_scope(request.app.state.session_factory) as session:
        records = slo_service.list_slos(session)
        statuses = slo_service.stored_statuses(session, records=records)
        policies = _policy_count(session)
        windows = burn_windows(records)
    rows: list[dict[str, Any]] = []
    for record in records:
        status = statuses.get(record.id)
        firing = [a for a in status.alerts if a.firing] if status else []
        rows.append({"record": record, "status": status, "firing": firing})
    return render(
        request,
        "status.html",
        viewer=signed_in,
        rows=rows,
        burn_windows=windows,
        banner=banner_for(list(statuses.values())),
        policies=policies,
    )
