"""Leadership trends: per calendar month, SLO compliance and budget consumed, incidents by
severity with MTTA and MTTR, and pages (out of hours too). docs/reports.md defines them.

A flow: it reads SLOs and the event store, incidents and the notification outbox. The
number of queries depends on the months asked for, never on the number of SLOs, days or
incidents (SLI counts are summed per month by one grouped query).
"""

from __future__ import annotations

import bisect
import math
import statistics
from collections import Counter
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.orm import Session

from watchkeeper.core.budget import budget_consumed, optional_float
from watchkeeper.core.incident import IncidentTimes, summarize
from watchkeeper.core.slo import SourceKind
from watchkeeper.errors import InvalidInput
from watchkeeper.events import service as events_service
from watchkeeper.incident import burden, figures
from watchkeeper.incident import service as incident_service
from watchkeeper.report.schemas import MonthTrendRead, TrendsRead
from watchkeeper.slo import service as slo_service
from watchkeeper.slo.exceptions import NotEvaluable

MAX_MONTHS = 24


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(
            f"zone: {name!r} is not an IANA time zone (e.g. Europe/Berlin)"
        ) from None


def month_starts(*, months: int, now: datetime, zone: ZoneInfo) -> list[datetime]:
    """The first instant of each of the last ``months`` calendar months in ``zone`` (the
    current one last), in UTC."""
    local = now.astimezone(zone)
    index = local.year * 12 + local.month - 1
    return [
        datetime(i // 12, i % 12 + 1, 1, tzinfo=zone).astimezone(UTC)
        for i in range(index - months + 1, index + 1)
    ]


def _slo_months(
    session: Session, edges: list[datetime]
) -> list[list[tuple[str, float, float, float]]]:
    """Per month, (SLO key, objective, good, total) of each SLO with events in it."""
    slos = []
    for record in slo_service.list_slos(session):
        try:
            slo = slo_service.to_core(record)
        except NotEvaluable:
            continue  # a stored spec that no longer parses has no objective to judge by
        # Timeslice SLOs are judged by slices, which monthly sums cannot rebuild.
        if slo.sli.source is SourceKind.WATCHKEEPER and not slo.sli.is_sliced:
            slos.append(slo)
    ids = events_service.sli_ids_by_name(session, [slo.sli.store_key for slo in slos])
    seconds = [math.ceil(edge.timestamp()) for edge in edges]
    sums = events_service.sums_by_period(session, sli_ids=ids.values(), edges=seconds)
    result: list[list[tuple[str, float, float, float]]] = [[] for _ in edges[1:]]
    for slo in slos:
        sli_id = ids.get(slo.sli.store_key)
        if sli_id is None:
            continue
        good, total = sums[sli_id]
        for month, (g, t) in enumerate(zip(good.tolist(), total.tolist(), strict=True)):
            if t > 0:
                result[month].append((slo.key, slo.objective, float(g), float(t)))
    return result


def trends(session: Session, *, months: int = 6, now: datetime, zone: str = "UTC") -> TrendsRead:
    """The figures of the last ``months`` calendar months in ``zone``, oldest first, the
    current month so far last."""
    if not 1 <= months <= MAX_MONTHS:
        raise InvalidInput(f"months: must be between 1 and {MAX_MONTHS}, got {months}")
    tz = _zone(zone)
    starts = month_starts(months=months, now=now, zone=tz)
    edges = [*starts, now]
    slo_months = _slo_months(session, edges)
    severities = incident_service.severity_names(session)
    declared = figures.declared_between(session, since=starts[0], until=now)
    by_month: list[list[IncidentTimes]] = [[] for _ in starts]
    for incident in declared:
        by_month[bisect.bisect_right(starts, incident.declared_at) - 1].append(incident)
    result = []
    for month, start in enumerate(starts):
        end = edges[month + 1]
        slos = slo_months[month]
        consumed = {
            key: optional_float(budget_consumed(total - good, total, objective))
            for key, objective, good, total in slos
        }
        values = [v for v in consumed.values() if v is not None]
        worst = max(consumed, key=lambda k: consumed[k] or 0.0) if values else None
        met = sum(1 for _, objective, good, total in slos if good / total >= objective)
        incidents = by_month[month]
        counts = Counter(i.severity for i in incidents)
        response = summarize(incidents, {}, now=now)
        pages = burden.pages_by_hours(session, since=start, until=end) if start < end else []
        local = start.astimezone(tz)
        result.append(
            MonthTrendRead(
                month=f"{local.year:04d}-{local.month:02d}",
                start=start,
                end=end,
                partial=month == len(starts) - 1,
                slos_with_data=len(slos),
                slos_met=met,
                compliance=met / len(slos) if slos else None,
                budget_consumed_median=statistics.median(values) if values else None,
                budget_consumed_worst=max(values) if values else None,
                worst_slo=worst,
                incidents={
                    **{name: counts.get(name, 0) for name in severities},
                    **{name: n for name, n in counts.items() if name not in severities},
                },
                incidents_total=len(incidents),
                mtta_seconds=None if response.mtta is None else response.mtta.total_seconds(),
                mttr_seconds=None if response.mttr is None else response.mttr.total_seconds(),
                pages=sum(p.total for p in pages),
                pages_out_of_hours=sum(p.off + p.sleep for p in pages),
            )
        )
    return TrendsRead(at=now, zone=zone, months=result)
