"""The SLO chart: the SLO's downsampled series (slo/chart.py) with what happened around it on
the same time axis: changes of its service, its alert groups and incidents, the forecast.

A flow because the markers come from alerting and incidents, which themselves read SLOs.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from watchkeeper.alerting import incident_feed
from watchkeeper.core.series import to_unix_seconds
from watchkeeper.incident import links as incident_links
from watchkeeper.slo import chart
from watchkeeper.slo.schemas import (
    ChartAlertRead,
    ChartMarkerRead,
    ChartSeriesRead,
    SLOChartRead,
)

# Markers of each kind on one chart (the newest are dropped past it; a chart shows a range).
MARKER_LIMIT = 500


def _second(moment: datetime) -> int:
    return math.floor(to_unix_seconds(moment))


def slo_chart(
    session: Session,
    *,
    key: str,
    now: datetime,
    start: datetime | None = None,
    end: datetime | None = None,
    points: int = chart.DEFAULT_POINTS,
    interval: timedelta = timedelta(minutes=5),
) -> SLOChartRead:
    """The chart document of ``key`` over ``[start, end)`` (default: its window ending now)."""
    drawn = chart.series(
        session, key=key, now=now, start=start, end=end, points=points, interval=interval
    )
    since, until = drawn.start, drawn.end
    markers: list[ChartMarkerRead] = []

    def mark(at: datetime | None, kind: str, label: str, marker_id: int) -> None:
        if at is not None and since <= at < until:
            markers.append(ChartMarkerRead(at=_second(at), kind=kind, label=label, id=marker_id))

    changes = incident_feed.changes_between(
        session, service=drawn.service, since=since, until=until
    )
    for change in changes[:MARKER_LIMIT]:
        mark(change.at, "change", change.summary, change.id)
    for group in incident_feed.groups_of_slo(
        session,
        slo_key=drawn.key,
        service=drawn.service,
        since=since,
        until=until,
        limit=MARKER_LIMIT,
    ):
        mark(group.created_at, "alert_opened", group.title, group.id)
        mark(group.resolved_at, "alert_resolved", group.title, group.id)
    for incident in incident_links.incidents_of_slo(
        session, slo_key=drawn.key, since=since, until=until, limit=MARKER_LIMIT
    ):
        title = f"#{incident.id} {incident.severity}: {incident.title}"
        mark(incident.declared_at, "incident_declared", title, incident.id)
        mark(incident.resolved_at, "incident_resolved", title, incident.id)
    markers.sort(key=lambda m: (m.at, m.kind, m.id or 0))
    return SLOChartRead(
        slo=drawn.key,
        service=drawn.service,
        name=drawn.name,
        objective=drawn.objective,
        window=drawn.window,
        from_=since,
        to=until,
        bucket_seconds=drawn.bucket_seconds,
        times=drawn.times,
        series=ChartSeriesRead(
            error_budget_remaining=drawn.error_budget_remaining,
            sli=drawn.sli,
            burn_rates=drawn.burn_rates,
        ),
        alerts=[
            ChartAlertRead(severity=a.severity, long=a.long, short=a.short, factor=a.factor)
            for a in drawn.alerts
        ],
        markers=markers,
        exhaustion_at=None if drawn.exhaustion_at is None else _second(drawn.exhaustion_at),
    )
