"""SQL of the SLO chart: stored evaluations downsampled into time buckets by the database.

Split from repository.py by use case. One statement groups an SLO's history rows into
buckets of whole seconds and keeps, per bucket, the last evaluation's budget and SLI and the
highest burn rate of each window, so a 30-day chart never moves its rows to Python.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Float,
    and_,
    cast,
    func,
    literal,
    literal_column,
    select,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.sql.selectable import Subquery

from watchkeeper.slo.models import SLOHistory


class UnixSeconds(FunctionElement[int]):
    """Whole Unix seconds (rounded down) of a timestamp column, on SQLite and PostgreSQL."""

    type = BigInteger()
    name = "unix_seconds"
    inherit_cache = True


@compiles(UnixSeconds, "sqlite")
def _unix_seconds_sqlite(element: UnixSeconds, compiler: SQLCompiler, **kw: Any) -> str:
    # UTCDateTime stores UTC text on SQLite; %s reads it as seconds since the epoch.
    return f"CAST(strftime('%s', {compiler.process(element.clauses, **kw)}) AS INTEGER)"


@compiles(UnixSeconds, "postgresql")
def _unix_seconds_postgresql(element: UnixSeconds, compiler: SQLCompiler, **kw: Any) -> str:
    return f"CAST(FLOOR(EXTRACT(EPOCH FROM {compiler.process(element.clauses, **kw)})) AS BIGINT)"


@dataclass(frozen=True)
class HistoryBucket:
    """One bucket of stored evaluations: its index, last figures and peak burn rates."""

    index: int
    rows: int
    budget_remaining: float | None
    sli: float | None
    burn_rates: tuple[float | None, ...]  # in the order of the windows asked for
    last_at: datetime  # of the evaluation the budget and SLI are from


def _burn_rate(label: str, objective: float, rows: Subquery) -> ColumnElement[Any]:
    """A row's burn rate over ``label`` from its stored counts (NULL without events).

    ``rows`` holds history rows with their ``counts`` (``window_counts`` as the query reads
    them). Rows written before migration 0005 hold the burn rate itself instead.
    """
    good = rows.c.counts[(label, 0)].as_float()
    total = rows.c.counts[(label, 1)].as_float()
    one = literal(1.0, Float)
    # The bad share as 1 - good/total: one count fewer to extract from the JSON per row.
    from_counts = (one - good / func.nullif(total, 0)) / (
        one - func.coalesce(rows.c.objective, objective)
    )
    legacy = rows.c.burn_rates[label].as_float()
    return func.coalesce(from_counts, legacy)


def _history_rows(dialect: str, slo_id: int, *, start: datetime, end: datetime) -> Subquery:
    """The SLO's history rows in ``[start, end)``, their ``window_counts`` as ``counts``.

    On PostgreSQL the counts are parsed once per row into ``jsonb``: a ``json`` value is
    text, and every count extracted from it parses the whole document again (14 times a
    row for the default windows: most of a 30-day chart's time). ``OFFSET 0`` keeps the
    planner from inlining the cast into each extraction. The numbers read are the same
    (jsonb keeps a number's exact decimal value).
    """
    parsed = dialect == "postgresql"
    rows = select(
        SLOHistory.at,
        SLOHistory.objective,
        SLOHistory.burn_rates,
        (cast(SLOHistory.window_counts, JSONB) if parsed else SLOHistory.window_counts).label(
            "counts"
        ),
    ).where(SLOHistory.slo_id == slo_id, SLOHistory.at >= start, SLOHistory.at < end)
    return (rows.offset(0) if parsed else rows).subquery("history")


def history_buckets(
    session: Session,
    slo_id: int,
    *,
    start: datetime,
    end: datetime,
    origin: int,
    width: int,
    windows: Sequence[str],
    objective: float,
) -> list[HistoryBucket]:
    """Buckets ``[origin + i * width, origin + (i + 1) * width)`` of the SLO's history rows in
    ``[start, end)``, only those holding rows, in order.

    ``objective`` judges rows that did not store theirs. Two rows of one bucket at the same
    instant (never written by the worker) resolve to the one inserted last.
    """
    rows = _history_rows(session.get_bind().dialect.name, slo_id, start=start, end=end)
    bucket = ((UnixSeconds(rows.c.at) - origin) // width).label("bucket")
    peaks = [
        func.max(_burn_rate(label, objective, rows)).label(f"burn_{i}")
        for i, label in enumerate(windows)
    ]
    grouped = (
        select(bucket, func.count().label("rows"), func.max(rows.c.at).label("last_at"), *peaks)
        # By its name: the bucket expression is computed once per row, not twice.
        .group_by(literal_column("bucket"))
        .subquery()
    )
    # The bucket's last evaluation, found again through the (slo_id, at) index.
    query = (
        select(
            grouped.c.bucket,
            grouped.c.rows,
            SLOHistory.id,
            SLOHistory.budget_remaining,
            SLOHistory.sli,
            SLOHistory.at,
            *(grouped.c[f"burn_{i}"] for i in range(len(windows))),
        )
        .join(SLOHistory, and_(SLOHistory.slo_id == slo_id, SLOHistory.at == grouped.c.last_at))
        .order_by(grouped.c.bucket, SLOHistory.id)
    )
    found: dict[int, HistoryBucket] = {}
    for row in session.execute(query):
        index = int(row[0])
        found[index] = HistoryBucket(
            index=index,
            rows=int(row[1]),
            budget_remaining=row[3],
            sli=row[4],
            burn_rates=tuple(None if v is None else float(v) for v in row[6:]),
            last_at=row[5],
        )
    return list(found.values())
