"""The detail page's chart data: an SLO's stored evaluations, downsampled, with markers."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from watchkeeper.core.duration import format_duration
from watchkeeper.core.windows import alert_windows, window_start
from watchkeeper.errors import InvalidInput
from watchkeeper.slo import service as slo_service

# A 30-day window at one evaluation a minute is 43,200 rows: the browser gets at most this.
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
    del interval  # used once the gaps are drawn as breaks
    if not 1 <= points <= MAX_POINTS:
        raise InvalidInput(f"points: must be between 1 and {MAX_POINTS}")
    record = slo_service.get(session, key=key)
    slo = slo_service.to_core(record)
    last = end or now
    first = start or window_start(slo.window, last)
    if first >= last:
        raise InvalidInput("from: must be before to")
    windows = alert_windows(slo, last)
    labels = list(dict.fromkeys(format_duration(w) for a in windows for w in (a.long, a.short)))
    history = slo_service.history(session, key=key, since=first, until=last, limit=50_000)
    origin = math.floor(first.timestamp())
    width = max(1, -(-(math.ceil(last.timestamp()) - origin) // points))
    times: list[int] = []
    budget: list[float | None] = []
    sli: list[float | None] = []
    burns: dict[str, list[float | None]] = {label: [] for label in labels}
    for point in history:
        if point.at >= last:  # the range is [from, to)
            continue
        at = origin + (math.floor(point.at.timestamp()) - origin) // width * width
        if not times or times[-1] != at:
            times.append(at)
            budget.append(None)
            sli.append(None)
            for values in burns.values():
                values.append(None)
        budget[-1] = point.error_budget_remaining
        sli[-1] = point.sli
        for label, values in burns.items():
            rate = point.burn_rates.get(label)
            if rate is not None and (values[-1] is None or rate > (values[-1] or 0)):
                values[-1] = rate
    status = slo_service.stored_status(session, record=record)
    exhaustion = status.exhaustion_at if status is not None else None
    return {
        "slo": slo.key,
        "service": slo.service,
        "name": slo.name,
        "objective": slo.objective,
        "from": first.isoformat(),
        "to": last.isoformat(),
        "bucket_seconds": width,
        "times": times,
        "series": {"error_budget_remaining": budget, "sli": sli, "burn_rates": burns},
        "alerts": [
            {
                "severity": a.severity.value,
                "long": format_duration(a.long),
                "short": format_duration(a.short),
                "factor": a.factor,
            }
            for a in windows
        ],
        "markers": [],
        "exhaustion_at": math.floor(exhaustion.timestamp()) if exhaustion else None,
    }
