"""Incident figures: response metrics over a period and the error budget an incident burned."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
from sqlalchemy.orm import Session

from watchkeeper.core.duration import format_duration, parse_duration
from watchkeeper.core.evaluation import window_sums
from watchkeeper.core.incident import (
    IncidentMetrics,
    IncidentTimes,
    budget_burned,
    burn_rate,
    grouped,
    in_period,
    summarize,
)
from watchkeeper.core.series import EventSeries, to_unix_seconds
from watchkeeper.core.slo import SourceKind
from watchkeeper.core.windows import nominal_period
from watchkeeper.errors import InvalidInput
from watchkeeper.events import service as events_service
from watchkeeper.events.rows import parse_time
from watchkeeper.incident import repository, severities
from watchkeeper.incident.burden import Noise, Pages, alert_noise, pages_by_hours
from watchkeeper.incident.models import IncidentRecord
from watchkeeper.slo import service as slo_service
from watchkeeper.slo.exceptions import NotEvaluable, SLONotFound


def times_of(incident: IncidentRecord) -> IncidentTimes:
    """The timestamps of a stored incident, for the core metrics."""
    return IncidentTimes(
        service=incident.service,
        severity=incident.severity,
        declared_at=incident.declared_at,
        started_at=incident.started_at,
        acknowledged_at=incident.acknowledged_at,
        resolved_at=incident.resolved_at,
    )


def declared_between(session: Session, *, since: datetime, until: datetime) -> list[IncidentTimes]:
    """The times of the incidents declared in ``[since, until)`` (one query), oldest first."""
    return [times_of(r) for r in repository.declared_between(session, since=since, until=until)]


@dataclass(frozen=True)
class MetricsReport:
    """Response metrics of the incidents that started in ``[since, until)``."""

    since: datetime
    until: datetime
    at: datetime
    overall: IncidentMetrics
    by_service: dict[str | None, IncidentMetrics]
    by_severity: dict[str, IncidentMetrics]
    by_service_severity: dict[tuple[str | None, str], IncidentMetrics]
    open_now: int
    alert_noise: tuple[Noise, ...] = ()
    pages: tuple[Pages, ...] = ()


def metrics(session: Session, *, since: datetime, until: datetime, now: datetime) -> MetricsReport:
    """MTTA, MTTR, MTBF and target breaches per service and severity over a period, with the
    alert noise per service and the pages per responder by hours."""
    if since >= until:
        raise InvalidInput("since: must be before until")
    records = repository.for_metrics(session, started_before=until, open_or_started_since=since)
    period = in_period([times_of(r) for r in records], since=since, until=until)
    targets = severities.targets(session)
    return MetricsReport(
        since=since,
        until=until,
        at=now,
        overall=summarize(period, targets, now=now),
        by_service=grouped(period, targets, key=lambda i: i.service, now=now),
        by_severity=grouped(period, targets, key=lambda i: i.severity, now=now),
        by_service_severity=grouped(
            period, targets, key=lambda i: (i.service, i.severity), now=now
        ),
        open_now=sum(1 for r in records if r.resolved_at is None),
        alert_noise=tuple(alert_noise(session, since=since, until=until)),
        pages=tuple(pages_by_hours(session, since=since, until=until)),
    )


@dataclass(frozen=True)
class Gauges:
    """What /metrics exports per (service, severity): open incidents, MTTA and MTTR."""

    open: dict[tuple[str, str], int]
    mtta: dict[tuple[str, str], float]
    mttr: dict[tuple[str, str], float]


def gauges(session: Session, *, window: timedelta, now: datetime) -> Gauges:
    """Open incidents now, and MTTA/MTTR of incidents started in the trailing ``window``.

    Incidents without a service are labelled ``service=""``. One query, bounded by the window.
    """
    since = now - window
    records = repository.for_metrics(
        session, started_before=now + timedelta(seconds=1), open_or_started_since=since
    )
    open_counts: dict[tuple[str, str], int] = {}
    for record in records:
        if record.resolved_at is None:
            key = (record.service or "", record.severity)
            open_counts[key] = open_counts.get(key, 0) + 1
    period = in_period(
        [times_of(r) for r in records], since=since, until=now + timedelta(seconds=1)
    )
    groups = grouped(period, {}, key=lambda i: (i.service or "", i.severity), now=now)
    return Gauges(
        open=open_counts,
        mtta={k: m.mtta.total_seconds() for k, m in groups.items() if m.mtta is not None},
        mttr={k: m.mttr.total_seconds() for k, m in groups.items() if m.mttr is not None},
    )


@dataclass(frozen=True)
class BudgetBurned:
    """The error budget of one linked SLO spent during an incident.

    ``burned`` is the share of the SLO window's budget; None with a reason in ``problem``
    when it cannot be computed (no events, an SLO reading another source, a removed SLO).
    """

    slo: str
    start: datetime
    end: datetime
    objective: float | None = None
    window: str | None = None
    good: float | None = None
    total: float | None = None
    window_total: float | None = None
    burn_rate: float | None = None
    burned: float | None = None
    problem: str | None = None


def budget_burned_for(
    session: Session, *, slo_key: str, start: datetime, end: datetime
) -> BudgetBurned:
    """Budget of ``slo_key`` burned over ``[start, end)``, from the stored event counts."""
    try:
        record = slo_service.get(session, key=slo_key)
        slo = slo_service.to_core(record)
    except (SLONotFound, NotEvaluable) as exc:
        return BudgetBurned(slo_key, start, end, problem=exc.detail)
    if slo.sli.source is not SourceKind.WATCHKEEPER:
        return BudgetBurned(
            slo_key,
            start,
            end,
            objective=slo.objective,
            problem="its SLI is not in Watchkeeper's event store",
        )
    window = nominal_period(slo.window, end)
    window_start = end - window
    ids = list(events_service.sli_ids_by_name(session, [slo.sli.store_key]).values())
    buckets = events_service.read_buckets(session, ids, start=min(start, window_start), end=end)
    stored = buckets.get(ids[0]) if ids else None
    series = EventSeries.empty() if stored is None else EventSeries.from_counts(*stored)
    # The incident's own counts and the window's (ending with the incident), one path for both.
    starts = np.array([to_unix_seconds(start), to_unix_seconds(window_start)], dtype=np.float64)
    ends = np.array([to_unix_seconds(end)] * 2, dtype=np.float64)
    good_sums, total_sums = window_sums(slo, series, starts, ends)
    good, total = float(good_sums[0]), float(total_sums[0])
    window_total = float(total_sums[1])
    return BudgetBurned(
        slo=slo_key,
        start=start,
        end=end,
        objective=slo.objective,
        window=format_duration(window),
        good=good,
        total=total,
        window_total=window_total,
        burn_rate=burn_rate(bad=total - good, total=total, objective=slo.objective),
        burned=(
            budget_burned(bad=total - good, window_total=window_total, objective=slo.objective)
            if total > 0
            else None
        ),
        problem=None if total > 0 else "no events during the incident",
    )


def incident_budgets(
    session: Session, *, incident: IncidentRecord, slo_keys: list[str], now: datetime
) -> list[BudgetBurned]:
    """Budget burned for each linked SLO between the impact start and resolution (or now)."""
    end = incident.resolved_at or now
    return [
        budget_burned_for(session, slo_key=key, start=incident.started_at, end=end)
        for key in slo_keys
    ]


DEFAULT_PERIOD = timedelta(days=30)


def _moment(text: str, field: str, now: datetime) -> datetime:
    """A time: RFC 3339, Unix seconds, or a duration before ``now`` (``30d``)."""
    try:
        return now - parse_duration(text)
    except ValueError:
        pass
    try:
        return datetime.fromtimestamp(parse_time(text), UTC)
    except ValueError as exc:
        raise InvalidInput(f"{field}: {exc}; or give a duration such as 30d") from None


def period(*, since: str | None, until: str | None, now: datetime) -> tuple[datetime, datetime]:
    """``[since, until)`` from user text: times, or durations back from now (default 30d)."""
    end = _moment(until, "until", now) if until else now
    start = _moment(since, "since", now) if since else end - DEFAULT_PERIOD
    if start >= end:
        raise InvalidInput("since: must be before until")
    return start, end
