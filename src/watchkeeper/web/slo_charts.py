"""The detail page's chart data: an SLO's stored evaluations, downsampled in the database
(flows/charts.py), with changes, alert groups, incidents and the forecast as markers."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from watchkeeper.errors import InvalidInput
from watchkeeper.flows import charts as chart_flows

# A 30-day window at one evaluation a minute is 43,200 rows: a browser gets at most this
# many instants (fewer than the API allows: three charts draw them on a page).
MAX_POINTS = 2000


def chart_document(
    session: Session,
    *,
    key: str,
    now: datetime,
    start: datetime | None,
    end: datetime | None,
    points: int,
    interval: timedelta,
) -> dict[str, Any]:
    """The chart of ``key`` over ``[start, end)`` (default: its window ending now) as JSON."""
    if not 1 <= points <= MAX_POINTS:
        raise InvalidInput(f"points: must be between 1 and {MAX_POINTS}")
    document = chart_flows.slo_chart(
        session, key=key, now=now, start=start, end=end, points=points, interval=interval
    )
    return document.model_dump(mode="json", by_alias=True)
