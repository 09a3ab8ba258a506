"""The leadership page: six months of SLO compliance, budget, incidents, response and pages."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from watchkeeper.db import utcnow
from watchkeeper.flows.trends import trends
from watchkeeper.report.schemas import MonthTrendRead
from watchkeeper.web.access import Viewer, page_session
from watchkeeper.web.templating import render

router = APIRouter(include_in_schema=False, tags=["web"])
MONTHS = 6

# Okabe & Ito's palette (distinguishable with colour-vision deficiencies), in a fixed order
# so a severity keeps its colour from one chart to the next.
PALETTE = ("#0072b2", "#d55e00", "#009e73", "#e69f00", "#cc79a7", "#56b4e9", "#000000")


def _percent(value: float | None) -> float | None:
    return None if value is None else round(value * 100, 2)


def _minutes(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 60, 1)


def severity_names(months: list[MonthTrendRead]) -> list[str]:
    """Every severity the months name, in the order first seen (SEV1 first as reported)."""
    names: list[str] = []
    for month in months:
        names.extend(name for name in month.incidents if name not in names)
    return names


def charts(months: list[MonthTrendRead], zone: str) -> list[dict[str, Any]]:
    """What leadership.js draws: one chart per figure, months on x, units on y."""
    labels = [m.month + (" (so far)" if m.partial else "") for m in months]
    x_label = f"Calendar month ({zone})"
    severities = severity_names(months)

    def chart(chart_id: str, title: str, unit: str, series: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "id": chart_id,
            "title": title,
            "spec": {"labels": labels, "x": x_label, "y": unit, "series": series},
        }

    return [
        chart(
            "compliance",
            "SLO compliance",
            "% of SLOs meeting it",
            [
                {
                    "label": "compliance",
                    "kind": "bars",
                    "color": PALETTE[0],
                    "values": [_percent(m.compliance) for m in months],
                }
            ],
        ),
        chart(
            "budget",
            "Error budget consumed",
            "% of monthly budget",
            [
                {
                    "label": "median SLO",
                    "kind": "line",
                    "color": PALETTE[0],
                    "values": [_percent(m.budget_consumed_median) for m in months],
                },
                {
                    "label": "worst SLO",
                    "kind": "line",
                    "color": PALETTE[1],
                    "values": [_percent(m.budget_consumed_worst) for m in months],
                },
            ],
        ),
        chart(
            "incidents",
            "Incidents by severity",
            "incidents declared",
            [
                {
                    "label": name,
                    "kind": "line",
                    "color": PALETTE[index % len(PALETTE)],
                    "values": [m.incidents.get(name, 0) for m in months],
                }
                for index, name in enumerate(severities)
            ],
        ),
        chart(
            "response",
            "Time to acknowledge and resolve",
            "minutes (mean)",
            [
                {
                    "label": "MTTA",
                    "kind": "line",
                    "color": PALETTE[0],
                    "values": [_minutes(m.mtta_seconds) for m in months],
                },
                {
                    "label": "MTTR",
                    "kind": "line",
                    "color": PALETTE[1],
                    "values": [_minutes(m.mttr_seconds) for m in months],
                },
            ],
        ),
        chart(
            "pages",
            "Pages to responders",
            "pages",
            [
                {
                    "label": "all pages",
                    "kind": "bars",
                    "color": PALETTE[0],
                    "values": [m.pages for m in months],
                },
                {
                    "label": "out of hours",
                    "kind": "bars",
                    "color": PALETTE[1],
                    "values": [m.pages_out_of_hours for m in months],
                },
            ],
        ),
    ]


@router.get("/leadership", response_class=HTMLResponse)
def leadership_page(request: Request, signed_in: Viewer) -> HTMLResponse:
    """Six calendar months in the viewer's zone: charts and the table of the same numbers."""
    zone = signed_in.user.time_zone
    with page_session(request) as session:
        report = trends(session, months=MONTHS, now=utcnow(), zone=zone)
    months = report.months
    severities = severity_names(months)
    has_data = any(m.slos_with_data or m.incidents_total or m.pages for m in months)
    return render(
        request,
        "leadership.html",
        viewer=signed_in,
        months=months,
        severities=severities,
        charts=charts(months, zone),
        has_data=has_data,
    )
