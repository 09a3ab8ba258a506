"""Backtesting an applied SLO's burn-rate alerts over its history (docs/backtest.md).

The math is ``core.backtest``; this module finds the SLO, checks the range, reads the history
the replay needs and hands it over. History comes from a reader
``history(slo, *, start, end, step) -> EventSeries``: by default the built-in event store's
buckets, or for SLOs reading Prometheus their source's range queries
(``MetricsSource.history``; SourceNotConfigured when the source is not set up).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from sqlalchemy.orm import Session

from watchkeeper.core.backtest import DEFAULT_STEP, Backtest, backtest, with_alerting
from watchkeeper.core.duration import format_duration
from watchkeeper.core.series import EventSeries
from watchkeeper.core.slo import SLO, SourceKind
from watchkeeper.core.windows import alert_windows, longest_alert_window, nominal_period
from watchkeeper.errors import InvalidInput
from watchkeeper.events import service as events_service
from watchkeeper.messages import did_you_mean
from watchkeeper.slo import service
from watchkeeper.slo.buckets import evaluation_problem, hour_span_for
from watchkeeper.slo.exceptions import (
    EvaluationFailed,
    InvalidBacktestRange,
    NotEvaluable,
    SLONotFound,
    check_evaluation_time,
)
from watchkeeper.sources.registry import registry_of
from watchkeeper.specs.alert_windows import AlertWindowsOverride, parse_alert_windows

# The longest range one backtest replays: with one evaluation a minute that is 576,000
# evaluation times, and the history read reaches the SLO window (at most 400 days) further back.
MAX_RANGE = timedelta(days=400)


class HistoryReader(Protocol):
    """Reads an SLO's good/total counts from ``start`` to ``end`` (the signature of
    ``MetricsSource.history``, so a source's bound method can be passed as it is)."""

    def __call__(self, slo: SLO, *, start: datetime, end: datetime, step: timedelta) -> EventSeries:
        """The SLO's counts over ``[start, end)``, at ``step`` resolution or finer."""


@dataclass(frozen=True)
class WindowsFile:
    """Alert windows given as YAML text (a file's or a request body's), with its name."""

    text: str
    name: str


@dataclass(frozen=True)
class BacktestRun:
    """A backtest and where its alert windows came from (``slo`` or the file's name)."""

    result: Backtest
    windows_source: str


def store_history(session: Session) -> HistoryReader:
    """A reader of the built-in event store: the SLO's stored buckets (both resolutions)."""

    def history(slo: SLO, *, start: datetime, end: datetime, step: timedelta) -> EventSeries:
        ids = list(events_service.sli_ids_by_name(session, [slo.sli.store_key]).values())
        if not ids:
            return EventSeries.empty()
        stored = events_service.read_buckets(session, ids, start=start, end=end).get(ids[0])
        return EventSeries.empty() if stored is None else EventSeries.from_counts(*stored)

    return history


def resolve_key(session: Session, name: str) -> str:
    """The key of an applied SLO named ``service/name`` or by a name only one service uses.

    SLONotFound (with the closest key or name, if one is close) when there is none.
    """
    if "/" in name:
        try:
            return service.get(session, key=name).key
        except SLONotFound:
            keys = [record.key for record in service.list_slos(session)]
            raise SLONotFound(
                f"no SLO {name!r} has been applied{did_you_mean(name, keys)}"
            ) from None
    records = service.list_slos(session)
    matches = [record.key for record in records if record.name == name]
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise InvalidInput(f"{name!r} is ambiguous: {', '.join(matches)}; use service/name")
    hint = did_you_mean(name, [record.key for record in records] + [r.name for r in records])
    raise SLONotFound(f"no SLO named {name!r} has been applied (use service/name){hint}")


def check_range(start: datetime, end: datetime, *, now: datetime) -> None:
    """Refuse an empty or reversed range, one ending after ``now``, and one over MAX_RANGE."""
    for moment in (start, end):
        check_evaluation_time(moment)
    if start >= end:
        raise InvalidBacktestRange(f"from ({_shown(start)}) must be before to ({_shown(end)})")
    if end > now:
        raise InvalidBacktestRange(
            f"to ({_shown(end)}) is in the future: a backtest replays history up to now "
            f"({_shown(now)})"
        )
    if end - start > MAX_RANGE:
        raise InvalidBacktestRange(
            f"the range from {_shown(start)} to {_shown(end)} is longer than the "
            f"{format_duration(MAX_RANGE)} one backtest replays; split it"
        )


def _shown(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def run(
    session: Session,
    *,
    key: str,
    start: datetime,
    end: datetime,
    now: datetime,
    windows: WindowsFile | None = None,
    history: HistoryReader | None = None,
) -> BacktestRun:
    """Replay the alerts of SLO ``key`` over ``[start, end]``, one evaluation a minute.

    ``key`` is ``service/name`` or a name only one service uses (see :func:`resolve_key`).
    ``start`` and ``end`` are rounded down to whole minutes. ``windows`` replaces the SLO's alert
    windows (and its ``min_events`` when the file sets one). ``history`` reads the SLO's
    counts; None reads the built-in event store, or the Prometheus source of an SLO reading one.
    """
    check_range(_minute_floor(start), _minute_floor(end), now=now)
    start, end = _minute_floor(start), _minute_floor(end)
    key = resolve_key(session, key)
    slo = service.to_core(service.get(session, key=key))
    if slo.sli.external is not None:
        raise NotEvaluable(
            f"SLO {key!r} is catalogued only: its SLI reads {slo.sli.external.source_type}, "
            "which Watchkeeper does not query, so it has no history to backtest"
        )
    if history is None:
        if slo.sli.source is SourceKind.PROMETHEUS:
            # SourceNotConfigured (409) names the setting when the SLO's source is missing.
            history = registry_of(session).for_slo(slo).history
        else:
            history = store_history(session)
    override: AlertWindowsOverride | None = None
    if windows is not None:
        override = parse_alert_windows(
            windows.text, filename=windows.name, period=nominal_period(slo.window)
        )
    replayed = with_alerting(
        slo,
        windows=override.windows if override is not None else None,
        min_events=override.min_events if override is not None else None,
    )
    problem = evaluation_problem(replayed, end)
    if problem is not None:
        raise EvaluationFailed(key, problem)
    # Back the longest alert window from the first evaluation, and back the SLO period from
    # the end of every alert (its budget figures).
    reach = max(longest_alert_window(alert_windows(replayed, end)), hour_span_for([replayed]))
    series = history(replayed, start=start - reach, end=end, step=DEFAULT_STEP)
    try:
        result = backtest(replayed, series, start=start, end=end, step=DEFAULT_STEP)
    except (ArithmeticError, ValueError) as exc:  # a window beyond the calendar, say
        raise EvaluationFailed(key, f"{type(exc).__name__}: {exc}") from exc
    return BacktestRun(result, windows.name if windows is not None else "slo")


def _minute_floor(moment: datetime) -> datetime:
    moment = moment.astimezone(UTC)
    return moment - timedelta(seconds=moment.second, microseconds=moment.microsecond)
