"""SLO pages: the list (filters, search, sort, pages), one SLO's detail, its chart data."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse
from sqlalchemy.orm import Session

from watchkeeper.db import utcnow
from watchkeeper.errors import InvalidInput, WatchkeeperError
from watchkeeper.incident import links as incident_links
from watchkeeper.policy import gate
from watchkeeper.slo import service as slo_service
from watchkeeper.slo.explain import Explanation, explain
from watchkeeper.web.access import Viewer, page_session
from watchkeeper.web.slo_charts import MAX_POINTS, chart_document
from watchkeeper.web.slo_rows import (
    LIST_BURN_WINDOW,
    STATE_LABELS,
    STATUS_FILTERS,
    all_rows,
    filtered,
    list_query,
    page_of,
    row_of,
    sorted_rows,
)
from watchkeeper.web.templating import render

router = APIRouter(include_in_schema=False, tags=["web"])
# Chart data is fetched by script: its errors are JSON, not the HTML error page.
data_router = APIRouter(include_in_schema=False)

# Range picker presets: (query value, label, length; None = the SLO window).
RANGES: tuple[tuple[str, str, timedelta | None], ...] = (
    ("1h", "1 hour", timedelta(hours=1)),
    ("6h", "6 hours", timedelta(hours=6)),
    ("1d", "1 day", timedelta(days=1)),
    ("7d", "7 days", timedelta(days=7)),
    ("window", "SLO window", None),
)
LINKED_INCIDENTS = 20


@router.get("/slos", response_class=HTMLResponse)
def slo_list(request: Request, signed_in: Viewer) -> HTMLResponse:
    """Every SLO: filter by service, label, tier and status, search, sort, 50 a page."""
    query = list_query(request.query_params)
    with page_session(request) as session:
        rows = all_rows(session)
    shown = sorted_rows(filtered(rows, query), sort=query.sort, descending=query.descending)
    page = page_of(shown, query.page)
    return render(
        request,
        "slos.html",
        viewer=signed_in,
        query=query,
        page=page,
        total=len(rows),
        services=sorted({row.service for row in rows}),
        tiers=sorted({row.tier for row in rows if row.tier}),
        statuses=STATUS_FILTERS,
        state_labels=STATE_LABELS,
        burn_window=LIST_BURN_WINDOW,
        link=lambda **changes: "/slos?" + urlencode(query.params(**changes)),
    )


@dataclass(frozen=True)
class ChartRange:
    """The range the detail page charts, as chosen in the range picker."""

    preset: str  # a RANGES value, or "custom"
    start: datetime | None  # None: the SLO window (the chart's default)
    end: datetime | None
    start_text: str  # as the picker's inputs show it, in the viewer's zone
    end_text: str

    @property
    def query(self) -> str:
        """The chart data URL's query string."""
        params = {}
        if self.start is not None:
            params["from"] = self.start.isoformat()
        if self.end is not None:
            params["to"] = self.end.isoformat()
        return urlencode(params)


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


LOCAL_INPUT = "%Y-%m-%dT%H:%M"


def _local(value: str, field: str, zone: ZoneInfo) -> datetime:
    try:
        parsed = datetime.strptime(value, LOCAL_INPUT)
    except ValueError:
        raise InvalidInput(f"{field}: expected a date and time like 2026-11-23T12:00") from None
    return parsed.replace(tzinfo=zone).astimezone(UTC)


def chart_range(params: dict[str, str], *, zone_name: str, now: datetime) -> ChartRange:
    """The charted range from ``range`` (a preset) or ``from``/``to`` (local date-times in the
    viewer's zone); InvalidInput names a bad field."""
    zone = _zone(zone_name)
    start_text, end_text = params.get("from", "").strip(), params.get("to", "").strip()
    if start_text or end_text:
        end = _local(end_text, "to", zone) if end_text else now
        start = _local(start_text, "from", zone) if start_text else end - timedelta(days=1)
        if start >= end:
            raise InvalidInput("from: must be before to")
        if end - start > timedelta(days=400):
            raise InvalidInput("from: the range may span at most 400 days")
    else:
        preset = params.get("range", "").strip() or "window"
        lengths = {value: length for value, _label, length in RANGES}
        if preset not in lengths:
            raise InvalidInput(f"range: choose one of {', '.join(lengths)}")
        length = lengths[preset]
        if length is None:
            return ChartRange(preset, None, None, "", "")
        start, end = now - length, now
        return ChartRange(
            preset,
            start,
            end,
            start.astimezone(zone).strftime(LOCAL_INPUT),
            end.astimezone(zone).strftime(LOCAL_INPUT),
        )
    return ChartRange(
        "custom",
        start,
        end,
        start.astimezone(zone).strftime(LOCAL_INPUT),
        end.astimezone(zone).strftime(LOCAL_INPUT),
    )


def _explanation(session: Session, key: str, now: datetime) -> tuple[Explanation | None, str]:
    """``slo explain`` now, or why it cannot be given (catalogued, failing, source down)."""
    try:
        evaluation = slo_service.evaluate_now(session, key=key, at=now)
    except WatchkeeperError as exc:
        return None, exc.detail
    return explain(evaluation.slo, evaluation.status), ""


def _gate_and_explanation(
    session: Session, service: str, key: str, now: datetime
) -> tuple[gate.GateResult | None, str, Explanation | None, str]:
    """The deploy gate of the SLO's service now (or why it cannot be decided), and the SLO's
    explanation from the evaluation the gate made of it (evaluated alone when it made none)."""
    try:
        checked = gate.check_with_evaluations(session, service=service, change_type=None, now=now)
    except WatchkeeperError as exc:
        return None, exc.detail, *_explanation(session, key, now)
    evaluation = checked.evaluations.get(key)
    if evaluation is None:  # not one the gate evaluates (catalogued, unparsable)
        return checked.result, "", *_explanation(session, key, now)
    if isinstance(evaluation, WatchkeeperError):
        return checked.result, "", None, evaluation.detail
    return checked.result, "", explain(evaluation.slo, evaluation.status), ""


def detail_context(session: Session, *, key: str, now: datetime) -> dict[str, Any]:
    """Everything the detail page shows of one SLO."""
    record = slo_service.get(session, key=key)
    status = slo_service.stored_status(session, record=record)
    row = row_of(record, status)
    decision, gate_problem, explanation, explain_problem = _gate_and_explanation(
        session, record.service, key, now
    )
    return {
        "row": row,
        "status": status,
        "spec": record.spec,
        "explanation": explanation,
        "explain_problem": explain_problem,
        "gate": decision,
        "gate_problem": gate_problem,
        "incidents": incident_links.linked_to_slo(session, slo_key=key, limit=LINKED_INCIDENTS),
    }


@router.get("/slos/{service}/{name}", response_class=HTMLResponse)
def slo_detail(request: Request, service: str, name: str, signed_in: Viewer) -> HTMLResponse:
    """One SLO: charts with a range picker, alerts, forecast, gate, incidents, arithmetic."""
    now = utcnow()
    picked = chart_range(dict(request.query_params), zone_name=signed_in.user.time_zone, now=now)
    key = f"{service}/{name}"
    with page_session(request) as session:
        context = detail_context(session, key=key, now=now)
    base = f"/slos/{service}/{name}"
    return render(
        request,
        "slo.html",
        viewer=signed_in,
        key=key,
        base=base,
        ranges=RANGES,
        picked=picked,
        chart_src=f"{base}/chart.json" + (f"?{picked.query}" if picked.query else ""),
        state_labels=STATE_LABELS,
        **context,
    )


def _instant(value: str | None, field: str) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"{field}: not an RFC 3339 time: {value[:40]!r}") from None
    if parsed.tzinfo is None:
        raise InvalidInput(f"{field}: needs a UTC offset (e.g. Z or +01:00)")
    return parsed


def _points(value: str | None) -> int:
    if not value:
        return 1000
    if not value.isdigit() or not 1 <= int(value) <= MAX_POINTS:
        raise InvalidInput(f"points: a whole number from 1 to {MAX_POINTS}")
    return int(value)


@data_router.get("/slos/{service}/{name}/chart.json")
def slo_chart_data(request: Request, service: str, name: str, _viewer: Viewer) -> JSONResponse:
    """The SLO's charted series over ``[from, to)`` (default its window), downsampled on the
    server to at most ``points`` (<= MAX_POINTS) instants, with markers."""
    params = request.query_params
    start = _instant(params.get("from"), "from")
    end = _instant(params.get("to"), "to")
    points = _points(params.get("points"))
    settings = request.app.state.settings
    with page_session(request) as session:
        document = chart_document(
            session,
            key=f"{service}/{name}",
            now=utcnow(),
            start=start,
            end=end,
            points=points,
            interval=timedelta(seconds=settings.history_interval_seconds),
        )
    return JSONResponse(document, headers={"Cache-Control": "no-store"})
