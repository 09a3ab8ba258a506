"""An SLO's chart series: budget, SLI and burn rates on one time axis, downsampled.

The stored evaluations (slo_history) are bucketed by time in the database, at most
``points`` buckets over the range. Per bucket the error budget and SLI are the last
evaluation's (the budget moves slowly: its last value keeps the curve's shape) and each
burn rate is the highest of the bucket (a five-minute spike must survive a 40-minute
bucket). A bucket without evaluations is left out; where evaluations stop for longer than
usual, one point of nulls breaks the lines, so a chart never draws through a gap. No
data is always null, never 0.
"""

from __future__ import annotations

import itertools
import math
import statistics
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from watchkeeper.core.duration import format_duration
from watchkeeper.core.series import from_unix_seconds, to_unix_seconds
from watchkeeper.core.windows import alert_windows, window_start
from watchkeeper.errors import InvalidInput
from watchkeeper.slo import chart_repository, repository
from watchkeeper.slo.schemas import describe_window
from watchkeeper.slo.service import get, to_core

DEFAULT_POINTS = 1000
MAX_POINTS = 5000


@dataclass(frozen=True)
class AlertLine:
    """One burn-rate alert: its windows and the factor both must exceed (a constant line)."""

    severity: str
    long: str
    short: str
    factor: float


@dataclass(frozen=True)
class ChartSeries:
    """An SLO's downsampled figures; ``times`` are bucket starts in Unix seconds, ascending,
    and every list of values runs parallel to them."""

    key: str
    service: str
    name: str
    objective: float
    window: str
    start: datetime
    end: datetime
    bucket_seconds: int
    times: list[int]
    error_budget_remaining: list[float | None]
    sli: list[float | None]
    burn_rates: dict[str, list[float | None]]
    alerts: list[AlertLine]
    exhaustion_at: datetime | None


def bucket_width(span_seconds: int, points: int) -> int:
    """Whole seconds per bucket so that ``span_seconds`` fits in at most ``points`` buckets."""
    return max(1, -(-span_seconds // points))


def series(
    session: Session,
    *,
    key: str,
    now: datetime,
    start: datetime | None = None,
    end: datetime | None = None,
    points: int = DEFAULT_POINTS,
    interval: timedelta = timedelta(minutes=5),
) -> ChartSeries:
    """The chart series of ``key`` over ``[start, end)`` (default: the SLO window ending now).

    ``interval`` is how often evaluations are stored: a gap longer than twice that (or than
    two buckets, or twice the median spacing of the buckets) is shown as a break. Times are
    taken in whole seconds.
    """
    if not 1 <= points <= MAX_POINTS:
        raise InvalidInput(f"points: must be between 1 and {MAX_POINTS}, got {points}")
    record = get(session, key=key)
    slo = to_core(record)
    last = end if end is not None else now
    first = start if start is not None else window_start(slo.window, last)
    first_second = math.ceil(to_unix_seconds(first))
    end_second = math.ceil(to_unix_seconds(last))
    if first_second >= end_second:
        raise InvalidInput("from: must be before to")
    width = bucket_width(end_second - first_second, points)
    windows = alert_windows(slo, last)
    # Each window once, in the order the alerts name them (long, then short).
    labels = list(dict.fromkeys(format_duration(w) for a in windows for w in (a.long, a.short)))
    buckets = chart_repository.history_buckets(
        session,
        record.id,
        start=from_unix_seconds(first_second),
        end=from_unix_seconds(end_second),
        origin=first_second,
        width=width,
        windows=labels,
        objective=slo.objective,
    )
    # A break is a gap of more than twice the usual spacing: the storage cadence, or wider
    # when history was stored more sparsely (backfilled, or kept by an earlier setting).
    spacings = [b.index - a.index for a, b in itertools.pairwise(buckets)]
    usual = statistics.median(spacings) * width if spacings else 0
    gap = max(2 * width, 2 * interval.total_seconds(), 2 * usual)
    times: list[int] = []
    budget: list[float | None] = []
    sli: list[float | None] = []
    burns: list[list[float | None]] = [[] for _ in labels]
    previous: int | None = None
    for bucket in buckets:
        if previous is not None and (bucket.index - previous) * width > gap:
            # Evaluations stopped: one null point right after the last one breaks the lines.
            _append(times, budget, sli, burns, first_second + (previous + 1) * width, None)
        _append(times, budget, sli, burns, first_second + bucket.index * width, bucket)
        previous = bucket.index
    status = repository.statuses(session, [record.id]).get(record.id)
    return ChartSeries(
        key=slo.key,
        service=slo.service,
        name=slo.name,
        objective=slo.objective,
        window=describe_window(slo.window),
        start=from_unix_seconds(first_second),
        end=from_unix_seconds(end_second),
        bucket_seconds=width,
        times=times,
        error_budget_remaining=budget,
        sli=sli,
        burn_rates=dict(zip(labels, burns, strict=True)),
        alerts=[
            AlertLine(
                severity=a.severity.value,
                long=format_duration(a.long),
                short=format_duration(a.short),
                factor=a.factor,
            )
            for a in windows
        ],
        exhaustion_at=None if status is None or status.error else status.exhaustion_at,
    )


def _append(
    times: list[int],
    budget: list[float | None],
    sli: list[float | None],
    burns: list[list[float | None]],
    at: int,
    bucket: chart_repository.HistoryBucket | None,
) -> None:
    times.append(at)
    budget.append(None if bucket is None else bucket.budget_remaining)
    sli.append(None if bucket is None else bucket.sli)
    for i, values in enumerate(burns):
        values.append(None if bucket is None else bucket.burn_rates[i])
