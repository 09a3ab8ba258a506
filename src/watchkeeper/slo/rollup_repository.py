"""SQL of the hourly history rollup (slo_history_hourly): one row per SLO and UTC hour.

Split from repository.py by use case. The evaluation tick adds each history row to its hour
with an upsert (rows counted, the newer evaluation kept as the last, each window's peak burn
rate the higher of the two); the peaks are merged inside the upsert, in JSON, so the tick
never reads the rollup back. Backfills and the migration rebuild whole hours from
slo_history with the raw chart query itself, so both paths agree with it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, Table, case, delete, func, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.dml import UpdateBase
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import JSON

from watchkeeper.core.series import from_unix_seconds, to_unix_seconds
from watchkeeper.db import UTCDateTime
from watchkeeper.slo.chart_repository import HistoryBucket, UnixSeconds, history_buckets
from watchkeeper.slo.models import SLOHistoryHourly

HOUR = 3600
_HOURLY = cast(Table, SLOHistoryHourly.__table__)


class MergedPeaks(FunctionElement[Any]):
    """Two ``{window: burn rate}`` JSON objects merged key by key, keeping the higher value
    (null only where both are null or absent)."""

    type = JSON()
    name = "merged_peaks"
    inherit_cache = True


@compiles(MergedPeaks, "sqlite")
def _merged_peaks_sqlite(element: MergedPeaks, compiler: SQLCompiler, **kw: Any) -> str:
    existing, incoming = (compiler.process(c, **kw) for c in element.clauses)
    # JSON renders a REAL with 15 digits; printf's 17 keep the exact float.
    return (
        "COALESCE((SELECT json_group_object(key, CASE WHEN peak IS NULL THEN NULL "
        "ELSE json(printf('%!.17g', peak)) END) FROM (SELECT key, max(value) AS peak FROM "
        f"(SELECT key, value FROM json_each({existing}) "
        f"UNION ALL SELECT key, value FROM json_each({incoming})) GROUP BY key)), '{{}}')"
    )


@compiles(MergedPeaks, "postgresql")
def _merged_peaks_postgresql(element: MergedPeaks, compiler: SQLCompiler, **kw: Any) -> str:
    existing, incoming = (compiler.process(c, **kw) for c in element.clauses)
    return (
        "COALESCE((SELECT json_object_agg(peaks.key, peaks.peak) FROM "
        "(SELECT pairs.key, max(CAST(pairs.value AS DOUBLE PRECISION)) AS peak FROM "
        f"(SELECT key, value FROM json_each_text({existing}) "
        f"UNION ALL SELECT key, value FROM json_each_text({incoming})) AS pairs "
        "GROUP BY pairs.key) AS peaks), CAST('{}' AS JSON))"
    )


def _newer(column: str, excluded: Any) -> ColumnElement[Any]:
    """The stored value, or the incoming one when its evaluation is not older."""
    return case((excluded.last_at >= _HOURLY.c.last_at, excluded[column]), else_=_HOURLY.c[column])


def hourly_upsert(dialect: Dialect) -> UpdateBase:
    """INSERT of one hour row, merged into the stored row of that SLO and hour if any."""
    dialects = {"postgresql": postgresql, "sqlite": sqlite}
    if dialect.name not in dialects:  # pragma: no cover - the two supported databases
        raise NotImplementedError(f"no rollup upsert for the {dialect.name} dialect")
    statement: Any = dialects[dialect.name].insert(_HOURLY)
    excluded = statement.excluded
    return cast(
        UpdateBase,
        statement.on_conflict_do_update(
            index_elements=[_HOURLY.c.slo_id, _HOURLY.c.hour],
            set_={
                "row_count": _HOURLY.c.row_count + excluded.row_count,
                "budget_remaining": _newer("budget_remaining", excluded),
                "sli": _newer("sli", excluded),
                "last_at": _newer("last_at", excluded),
                "peak_burn_rates": MergedPeaks(_HOURLY.c.peak_burn_rates, excluded.peak_burn_rates),
            },
        ),
    )


def _burn_rate(good: float, total: float, objective: float) -> float | None:
    # The very expression of the chart's SQL (1 - good/total over the budget), so a peak
    # stored here equals the one the raw query computes, bit for bit.
    if total == 0:
        return None
    return (1.0 - float(good) / float(total)) / (1.0 - objective)


def peaks_json(window_counts: str | None, objective: float | None) -> str:
    """One history row's ``{window: burn rate}`` as JSON text, from its counts' JSON text."""
    if window_counts is None or objective is None:
        return "{}"
    peaks = {
        label: _burn_rate(pair[0], pair[1], objective)
        for label, pair in json.loads(window_counts).items()
    }
    return json.dumps(peaks, allow_nan=False)


def hourly_columns(
    dialect: Dialect,
    *,
    slo_ids: Sequence[int],
    at: datetime,
    objectives: Sequence[float | None],
    slis: Sequence[float | None],
    budgets: Sequence[float | None],
    window_counts: Sequence[str | None],
) -> dict[str, Sequence[Any]]:
    """Driver-ready columns of :func:`hourly_upsert` for history rows all stored at ``at``."""
    to_driver = _timestamp_processor(dialect)
    count = len(slo_ids)
    hour = from_unix_seconds(math.floor(to_unix_seconds(at)) // HOUR * HOUR)
    return {
        "slo_id": slo_ids,
        "hour": [to_driver(hour)] * count,
        "row_count": [1] * count,
        "last_at": [to_driver(at)] * count,
        "budget_remaining": budgets,
        "sli": slis,
        "peak_burn_rates": [
            peaks_json(counts, objective)
            for counts, objective in zip(window_counts, objectives, strict=True)
        ],
    }


def _timestamp_processor(dialect: Dialect) -> Callable[[datetime], Any]:
    processor = UTCDateTime().dialect_impl(dialect).bind_processor(dialect)
    if processor is None:
        return lambda value: value
    return cast(Callable[[datetime], Any], processor)


def whole_hours(start: datetime, end: datetime) -> tuple[int, int]:
    """``[start, end)`` widened to whole UTC hours, in Unix seconds."""
    first = math.floor(to_unix_seconds(start)) // HOUR * HOUR
    last = -(-math.ceil(to_unix_seconds(end)) // HOUR) * HOUR
    return first, max(last, first)


def rebuild(
    session: Session,
    slo_id: int,
    *,
    start: datetime,
    end: datetime,
    windows: Sequence[str],
    objective: float,
) -> int:
    """Recompute the SLO's hour rows of every hour touching ``[start, end)`` from its history
    (hours left without history lose their row); how many hour rows were written.

    ``objective`` judges rows that did not store theirs, as in the chart query.
    """
    first, last = whole_hours(start, end)
    if first >= last:
        return 0
    since, until = from_unix_seconds(first), from_unix_seconds(last)
    session.execute(
        delete(SLOHistoryHourly).where(
            SLOHistoryHourly.slo_id == slo_id,
            SLOHistoryHourly.hour >= since,
            SLOHistoryHourly.hour < until,
        )
    )
    buckets = history_buckets(
        session,
        slo_id,
        start=since,
        end=until,
        origin=0,
        width=HOUR,
        windows=windows,
        objective=objective,
    )
    rows = [
        {
            "slo_id": slo_id,
            "hour": from_unix_seconds(b.index * HOUR),
            "row_count": b.rows,
            "last_at": b.last_at,
            "budget_remaining": b.budget_remaining,
            "sli": b.sli,
            "peak_burn_rates": dict(zip(windows, b.burn_rates, strict=True)),
        }
        for b in buckets
    ]
    if rows:
        session.execute(insert(_HOURLY), rows)
    return len(rows)


def rows_in_hours(session: Session, slo_id: int, *, start: datetime, end: datetime) -> int:
    """History rows of the SLO in the hours touching ``[start, end)``, by the rollup."""
    first, last = whole_hours(start, end)
    total = session.scalar(
        select(func.coalesce(func.sum(SLOHistoryHourly.row_count), 0)).where(
            SLOHistoryHourly.slo_id == slo_id,
            SLOHistoryHourly.hour >= from_unix_seconds(first),
            SLOHistoryHourly.hour < from_unix_seconds(last),
        )
    )
    return int(total or 0)


def hourly_buckets(
    session: Session,
    slo_id: int,
    *,
    start: datetime,
    end: datetime,
    origin: int,
    width: int,
    windows: Sequence[str],
) -> list[HistoryBucket]:
    """As :func:`chart_repository.history_buckets`, from the hour rows in ``[start, end)``:
    ``origin`` and ``width`` must be whole hours, so every hour falls in one bucket."""
    if origin % HOUR or width % HOUR:
        raise ValueError(f"hour buckets need whole hours, got origin {origin}, width {width}")
    # Hours as whole seconds and each window's peak extracted by the database: no datetime
    # or JSON object is built in Python per hour.
    query = (
        select(
            UnixSeconds(SLOHistoryHourly.hour),
            SLOHistoryHourly.row_count,
            SLOHistoryHourly.last_at,
            SLOHistoryHourly.budget_remaining,
            SLOHistoryHourly.sli,
            *(SLOHistoryHourly.peak_burn_rates[label].as_float() for label in windows),
        )
        .where(
            SLOHistoryHourly.slo_id == slo_id,
            SLOHistoryHourly.hour >= start,
            SLOHistoryHourly.hour < end,
        )
        .order_by(SLOHistoryHourly.hour)
    )
    found: list[HistoryBucket] = []
    for row in session.execute(query):
        index = (int(row[0]) - origin) // width
        burns = tuple(None if v is None else float(v) for v in row[5:])
        if not found or found[-1].index != index:
            found.append(HistoryBucket(index, row[1], row[3], row[4], burns, row[2]))
            continue
        previous = found[-1]
        # Hours come in order: the later hour holds the bucket's last evaluation.
        found[-1] = HistoryBucket(
            index,
            previous.rows + row[1],
            row[3],
            row[4],
            tuple(_higher(a, b) for a, b in zip(previous.burn_rates, burns, strict=True)),
            row[2],
        )
    return found


def _higher(a: float | None, b: float | None) -> float | None:
    if a is None:
        return b
    if b is None:
        return a
    return max(a, b)
