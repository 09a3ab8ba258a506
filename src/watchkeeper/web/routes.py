"""The status page: every SLO's latest figures, refreshed by the browser."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from watchkeeper.db import session_scope, utcnow
from watchkeeper.slo import service as slo_service

router = APIRouter(include_in_schema=False)
_templates = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(["html"]),
)


def _percent(value: float | None, digits: int = 3) -> str:
    return "no data" if value is None else f"{value * 100:.{digits}f} %"


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


_templates.filters["percent"] = _percent
_templates.filters["number"] = _number


@router.get("/", response_class=HTMLResponse)
def status_page(request: Request) -> HTMLResponse:
    """All SLOs with SLI, budget remaining, burn rates and firing alerts."""
    with session_scope(request.app.state.session_factory) as session:
        records = slo_service.list_slos(session)
        statuses = slo_service.stored_statuses(session, records=records)
    rows: list[dict[str, Any]] = []
    for record in records:
        status = statuses.get(record.id)
        firing = [a for a in status.alerts if a.firing] if status else []
        rows.append({"record": record, "status": status, "firing": firing})
    page = _templates.get_template("status.html").render(
        rows=rows,
        now=utcnow(),
        burn_windows=["5m", "30m", "1h", "6h", "1d", "3d"],
        paging=sum(1 for r in rows if any(a.severity == "page" for a in r["firing"])),
    )
    return HTMLResponse(page)
