"""Backfill: an SLO's status history recomputed from its source's past counts.

A new SLO shows its budget and charts at once: its history rows (the series ``slo history``
and the charts read) are computed for the SLO window before now, at the worker's history
cadence (``WATCHKEEPER_HISTORY_INTERVAL_SECONDS``), exactly as the worker would have stored
them. The counts come from the SLO's source as history (``MetricsSource.history``): for
Prometheus, range queries at a one-minute step (the slice for timeslice SLIs), chunked; for
the built-in store, its buckets (after ``slo backfill --events FILE`` ingested a file).

History rows already stored in the backfilled span are replaced, so running it twice
changes nothing; the hourly rollup of the span's hours is rebuilt from them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from watchkeeper.core.evaluation import evaluate
from watchkeeper.core.series import EventSeries, from_unix_seconds, to_unix_seconds
from watchkeeper.core.slo import SLO, SourceKind
from watchkeeper.core.windows import alert_windows, longest_alert_window, window_start
from watchkeeper.errors import InvalidInput
from watchkeeper.slo import repository, rollup
from watchkeeper.slo.buckets import evaluation_problem
from watchkeeper.slo.exceptions import EvaluationFailed, NotEvaluable
from watchkeeper.slo.figures import figures_from_status, single_statuses
from watchkeeper.slo.service import get, to_core
from watchkeeper.sources.base import MetricsSource
from watchkeeper.sources.builtin import EventStoreSource
from watchkeeper.sources.registry import registry_of

# Counts are read at this step (a slice, for timeslice SLIs): burn windows down to 5m stay
# exact to the minute.
SERIES_STEP = timedelta(minutes=1)
# Span of counts read per source call (each a progress step; Prometheus chunks further).
FETCH_PIECE = timedelta(days=1)
# The most history points one backfill computes (a year at 5-minute cadence is 105,120).
MAX_POINTS = 120_000

Progress = Callable[[str, int, int], None]


class BackfillRefused(InvalidInput):
    """A backfill that cannot run as asked (a span of the wrong way round, too many points)."""


@dataclass(frozen=True)
class BackfillResult:
    """What a backfill stored."""

    key: str
    source: str
    start: datetime
    end: datetime
    points: int  # history rows written
    with_data: int  # of which had any events in the SLO window
    replaced: int  # rows that were there before, in the span


def _source_for(session: Session, slo: SLO) -> MetricsSource:
    if slo.sli.source is SourceKind.PROMETHEUS:
        return registry_of(session).for_slo(slo)
    if slo.sli.source is SourceKind.WATCHKEEPER:
        return EventStoreSource(session)
    raise NotEvaluable(f"SLO {slo.key!r} reads {slo.sli.source.value}, which is not evaluated")


def _lookback(slo: SLO, at: datetime) -> datetime:
    """The earliest instant evaluating ``slo`` at ``at`` reads."""
    longest = longest_alert_window(alert_windows(slo, at))
    return min(window_start(slo.window, at), at - longest)


def backfill(
    session: Session,
    *,
    key: str,
    now: datetime,
    interval: timedelta,
    start: datetime | None = None,
    progress: Progress | None = None,
) -> BackfillResult:
    """Recompute ``key``'s history rows over ``[start, now)`` (default: the SLO window).

    ``progress(phase, done, total)`` is called while counts are read ("reading") and history
    points computed ("computing"). Raises SourceNotConfigured, QueryFailed or
    SourceUnreachable when the source fails; nothing is stored then.
    """
    record = get(session, key=key)
    slo = to_core(record)
    problem = evaluation_problem(slo, now)
    if problem is not None:
        raise EvaluationFailed(key, problem)
    source = _source_for(session, slo)
    first = window_start(slo.window, now) if start is None else start
    if first >= now:
        raise BackfillRefused(f"backfill start {first.isoformat()} is not before {now.isoformat()}")
    step_seconds = interval.total_seconds()
    # History points on the cadence's grid, like the worker's (Unix-time multiples).
    first_point = -(-to_unix_seconds(first) // step_seconds) * step_seconds
    count = max(int(-(-(to_unix_seconds(now) - first_point) // step_seconds)), 0)
    if count > MAX_POINTS:
        raise BackfillRefused(
            f"backfilling {key} from {first.isoformat()} at {interval} makes {count} history "
            f"points, more than {MAX_POINTS}; start later"
        )
    points = [from_unix_seconds(first_point + i * step_seconds) for i in range(count)]
    step = slo.sli.slice_duration if slo.sli.is_sliced and slo.sli.slice_duration else SERIES_STEP
    read_from = min((_lookback(slo, p) for p in points[:1]), default=first)
    read_from = from_unix_seconds(
        (to_unix_seconds(read_from) // step.total_seconds()) * step.total_seconds()
    )
    series = _read(slo, source, read_from, now, step, progress)
    statuses = []
    for index, at in enumerate(points):
        statuses.append(evaluate(slo, series, at))
        if progress is not None and (index % 500 == 0 or index == len(points) - 1):
            progress("computing", index + 1, len(points))
    replaced = repository.delete_history(session, record.id, since=first, until=now)
    figures = [figures_from_status(record.id, slo.objective, s) for s in statuses]
    if figures:
        repository.append_history_at(session, single_statuses(figures), ats=points)
    rollup.rebuild(session, slo_id=record.id, slo=slo, start=first, end=now)
    session.flush()
    return BackfillResult(
        key=key,
        source=source.name,
        start=first,
        end=now,
        points=len(figures),
        with_data=sum(1 for s in statuses if s.total > 0),
        replaced=replaced,
    )


def _read(
    slo: SLO,
    source: MetricsSource,
    start: datetime,
    end: datetime,
    step: timedelta,
    progress: Progress | None,
) -> EventSeries:
    """The SLO's counts over ``[start, end)`` at ``step``, read a piece at a time."""
    piece = max(FETCH_PIECE - FETCH_PIECE % step, step)
    bounds: list[tuple[datetime, datetime]] = []
    cursor = start
    while cursor < end:
        bounds.append((cursor, min(cursor + piece, end)))
        cursor += piece
    times: list[float] = []
    good: list[float] = []
    total: list[float] = []
    for done, (piece_start, piece_end) in enumerate(bounds, start=1):
        part = source.history(slo, start=piece_start, end=piece_end, step=step)
        if len(part):
            starts, ends = part.times, part.times + step.total_seconds()
            part_good, part_total = part.sums(starts, ends)
            times.extend(part.times.tolist())
            good.extend(part_good.tolist())
            total.extend(part_total.tolist())
        if progress is not None:
            progress("reading", done, len(bounds))
    return EventSeries.from_counts(times, good, total)


__all__ = ["BackfillRefused", "BackfillResult", "backfill"]
