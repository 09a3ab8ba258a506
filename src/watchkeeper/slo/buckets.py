"""Loading an SLI's stored buckets into a CountGrid the way the worker evaluates them."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime, timedelta

import numpy as np
from numpy.typing import NDArray
from sqlalchemy.orm import Session

from watchkeeper.core.duration import format_duration
from watchkeeper.core.grid import HOUR, MINUTE, CountGrid, minute_index
from watchkeeper.core.series import EventSeries
from watchkeeper.core.slo import SLO, CalendarUnit, CalendarWindow, Window
from watchkeeper.core.windows import alert_windows, longest_alert_window, window_start
from watchkeeper.events import service as events_service

MIN_MINUTE_SPAN = timedelta(days=3)
# The longest SLO period the worker holds in its grid: the default hour-bucket retention.
# Every SLO shares the grid's width, so one SLO with a longer period (a ``5000y`` window
# stored before validation refused it) would make the grid too large for anyone.
LONGEST_PERIOD = timedelta(days=400)


def evaluation_problem(slo: SLO, at: datetime) -> str | None:
    """Why ``slo`` cannot be evaluated at ``at`` (its windows do not fit), or None."""
    try:
        periods = {
            "window": _longest_period(slo.window),
            "alert window": longest_alert_window(alert_windows(slo, at)),
        }
        for what, length in periods.items():
            if length > LONGEST_PERIOD:
                return (
                    f"{what} {format_duration(length)} is longer than the "
                    f"{format_duration(LONGEST_PERIOD)} Watchkeeper evaluates"
                )
        window_start(slo.window, at)
    except (ArithmeticError, ValueError) as exc:  # e.g. a window reaching before year 1
        return f"windows do not fit the calendar at {at.isoformat()}: {exc}"
    return None


def minute_span_for(slos: Sequence[SLO]) -> timedelta:
    """Minutes of history the grid keeps: the longest alert window (at least 3 d) plus 2 h."""
    longest = max(
        (longest_alert_window(alert_windows(slo)) for slo in slos), default=MIN_MINUTE_SPAN
    )
    return max(longest, MIN_MINUTE_SPAN) + timedelta(hours=2)


def hour_span_for(slos: Sequence[SLO]) -> timedelta:
    """Hours of history the grid keeps: the longest SLO period plus 2 h."""
    longest = max((_longest_period(slo.window) for slo in slos), default=timedelta(days=30))
    return longest + timedelta(hours=2)


def _longest_period(window: Window) -> timedelta:
    """The longest the SLO window can be: calendar months and quarters vary in length."""
    if isinstance(window, CalendarWindow):
        longest_days = {CalendarUnit.WEEK: 7, CalendarUnit.MONTH: 31, CalendarUnit.QUARTER: 92}
        # One extra day covers a daylight-saving shift at either end.
        return timedelta(days=longest_days[window.unit] * window.count + 1)
    return window.duration


def load_grid(
    session: Session,
    *,
    sli_ids: Sequence[int],
    minute_span: timedelta,
    hour_span: timedelta,
    now: datetime,
) -> CountGrid:
    """A grid whose row i holds the buckets of ``sli_ids[i]``, plus one always-empty row."""
    grid = empty_grid(len(sli_ids), minute_span=minute_span, hour_span=hour_span, now=now)
    if sli_ids:
        start, end = grid_range(grid)
        buckets = events_service.bucket_rows(session, sli_ids=list(sli_ids), start=start, end=end)
        load_buckets(grid, {sli_id: row for row, sli_id in enumerate(sli_ids)}, buckets)
    return grid


def empty_grid(
    rows: int, *, minute_span: timedelta, hour_span: timedelta, now: datetime
) -> CountGrid:
    """A grid of ``rows`` SLIs ending at the minute of ``now``, plus one always-empty row."""
    return CountGrid(
        rows + 1,
        minute_slots=math.ceil(minute_span / timedelta(minutes=1)),
        hour_slots=math.ceil(hour_span / timedelta(hours=1)),
        current_minute=minute_index(now.timestamp()),
    )


def grid_range(grid: CountGrid) -> tuple[int, int]:
    """``[start, end)`` in Unix seconds of the bucket starts :func:`load_grid` reads."""
    current = grid.current_minute
    return (current // 60 - grid.hour_slots + 1) * HOUR, (current + 1) * MINUTE


def rows_of(row_of_sli: dict[int, int], sli_ids: NDArray[np.int64]) -> NDArray[np.int64]:
    """Grid rows of SLI ids via a lookup table; -1 for SLIs the grid does not hold."""
    if not sli_ids.size:
        return np.zeros(0, dtype=np.int64)
    size = max(int(sli_ids.max()), max(row_of_sli, default=0)) + 1
    table = np.full(size, -1, dtype=np.int64)
    if row_of_sli:
        table[np.fromiter(row_of_sli, dtype=np.int64)] = np.fromiter(
            row_of_sli.values(), dtype=np.int64
        )
    return table[np.clip(sli_ids, 0, None)] * (sli_ids >= 0) - (sli_ids < 0)


def load_buckets(
    grid: CountGrid, row_of_sli: dict[int, int], buckets: events_service.BucketRows
) -> None:
    if not buckets.sli_id.size:
        return
    rows = rows_of(row_of_sli, buckets.sli_id)
    hours = buckets.start // HOUR
    in_hours = (hours > grid.current_minute // 60 - grid.hour_slots) & (
        hours <= grid.current_minute // 60
    )
    np.add.at(
        grid.hour_good, (rows[in_hours], hours[in_hours] % grid.hour_slots), buckets.good[in_hours]
    )
    np.add.at(
        grid.hour_total,
        (rows[in_hours], hours[in_hours] % grid.hour_slots),
        buckets.total[in_hours],
    )
    minutes = buckets.start // MINUTE
    in_ring = (minutes > grid.current_minute - grid.minute_slots) & (minutes <= grid.current_minute)
    # Hour buckets inside the minute range (data compacted before an SLO with a longer alert
    # window was applied) count at their start minute, as any bucket counts at its start.
    slots = minutes[in_ring] % grid.minute_slots
    np.add.at(grid.minute_good, (rows[in_ring], slots), buckets.good[in_ring].astype(np.int32))
    np.add.at(grid.minute_total, (rows[in_ring], slots), buckets.total[in_ring].astype(np.int32))


def stored_series(session: Session, slos: Sequence[SLO], at: datetime) -> list[EventSeries]:
    """Each SLO's buckets at ``at`` as ``slo.service.series_for`` reads them one SLO at a
    time, from two queries for all of them (one for their SLI ids, one for the buckets)."""
    if not slos:
        return []
    sli_ids = events_service.sli_ids_by_name(session, {slo.sli.store_key for slo in slos})
    # Per SLO, the bucket starts series_for reads: the grid's range, or the sliced window.
    spans: list[tuple[int, int]] = []
    grids: list[CountGrid | None] = []
    for slo in slos:
        if slo.sli.is_sliced:
            grids.append(None)
            spans.append(
                (math.ceil(window_start(slo.window, at).timestamp()), math.ceil(at.timestamp()))
            )
        else:
            fresh = empty_grid(
                1 if slo.sli.store_key in sli_ids else 0,
                minute_span=minute_span_for([slo]),
                hour_span=hour_span_for([slo]),
                now=at,
            )
            grids.append(fresh)
            spans.append(grid_range(fresh))
    wanted = {sli_ids[slo.sli.store_key] for slo in slos if slo.sli.store_key in sli_ids}
    rows = events_service.bucket_rows(
        session,
        sli_ids=sorted(wanted),
        start=min(start for start, _end in spans),
        end=max(end for _start, end in spans),
    )
    result: list[EventSeries] = []
    for slo, grid, (start, end) in zip(slos, grids, spans, strict=True):
        sli_id = sli_ids.get(slo.sli.store_key)
        if sli_id is None:
            result.append(
                EventSeries.empty()
                if grid is None
                else EventSeries.from_counts(*grid.buckets_of(0))
            )
            continue
        # Rows come sorted by SLI, then start: this SLI's rows in [start, end) are one run.
        first, last = np.searchsorted(rows.sli_id, [sli_id, sli_id + 1])
        low, high = first + np.searchsorted(rows.start[first:last], [start, end])
        if grid is None:
            result.append(
                EventSeries.from_counts(
                    rows.start[low:high].astype(np.float64),
                    rows.good[low:high].copy(),
                    rows.total[low:high].copy(),
                )
            )
            continue
        picked = events_service.BucketRows(
            *(
                column[low:high]
                for column in (rows.sli_id, rows.resolution, rows.start, rows.good, rows.total)
            )
        )
        load_buckets(grid, {sli_id: 0}, picked)
        result.append(EventSeries.from_counts(*grid.buckets_of(0)))
    return result
