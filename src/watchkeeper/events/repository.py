"""All SQL of the SLI event store: the SLI registry and bucketed good/total counts.

Bucket writes are upserts that add to what is stored (``good = sli_bucket.good +
excluded.good``), so concurrent ingests into the same bucket never lose counts. The same
``INSERT ... ON CONFLICT`` and ``DELETE ... RETURNING`` run on SQLite (3.35+) and PostgreSQL.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import chain
from typing import Any, NamedTuple, cast

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import Table, case, delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from watchkeeper.events.models import SLIBucket, SLIRecord

BUCKETS = cast(Table, SLIBucket.__table__)
_BUCKET_COLUMNS = (
    BUCKETS.c.sli_id,
    BUCKETS.c.resolution,
    BUCKETS.c.start,
    BUCKETS.c.good,
    BUCKETS.c.total,
)
_NAMES_PER_QUERY = 500
_IDS_PER_QUERY = 500


class BucketSeries(NamedTuple):
    """Buckets of one SLI, sorted by start: start times (Unix seconds), good and total counts."""

    times: NDArray[np.float64]
    good: NDArray[np.int64]
    total: NDArray[np.int64]


class BucketChange(NamedTuple):
    """One stored bucket as it is now (counts are totals, not deltas)."""

    sli_id: int
    resolution: int
    start: int
    good: int
    total: int


@dataclass(frozen=True, eq=False)
class BucketRows:
    """Stored buckets as parallel int64 arrays; iterating yields BucketChange tuples."""

    sli_id: NDArray[np.int64]
    resolution: NDArray[np.int64]
    start: NDArray[np.int64]
    good: NDArray[np.int64]
    total: NDArray[np.int64]

    @classmethod
    def from_rows(cls, rows: Sequence[Sequence[int]]) -> BucketRows:
        """Build from (sli_id, resolution, start, good, total) rows."""
        # fromiter over the flattened rows avoids numpy inspecting each Row as a sequence.
        flat = np.fromiter(chain.from_iterable(rows), dtype=np.int64, count=5 * len(rows))
        table = flat.reshape(-1, 5)
        return cls(*(np.ascontiguousarray(table[:, i]) for i in range(5)))

    def __len__(self) -> int:
        return len(self.sli_id)

    def __getitem__(self, index: int) -> BucketChange:
        return BucketChange(
            int(self.sli_id[index]),
            int(self.resolution[index]),
            int(self.start[index]),
            int(self.good[index]),
            int(self.total[index]),
        )

    def __iter__(self) -> Iterator[BucketChange]:
        columns = (self.sli_id, self.resolution, self.start, self.good, self.total)
        for row in zip(*(c.tolist() for c in columns), strict=True):
            yield BucketChange(*row)


class BucketCounts(NamedTuple):
    """Parallel arrays of bucket keys and counts, one entry per bucket."""

    sli_id: NDArray[np.int64]
    start: NDArray[np.int64]
    good: NDArray[np.int64]
    total: NDArray[np.int64]


def slis_by_names(session: Session, names: Collection[str]) -> dict[str, SLIRecord]:
    """The registered SLIs among ``names``, by name."""
    found: dict[str, SLIRecord] = {}
    wanted = sorted(set(names))
    for offset in range(0, len(wanted), _NAMES_PER_QUERY):
        batch = wanted[offset : offset + _NAMES_PER_QUERY]
        for record in session.scalars(select(SLIRecord).where(SLIRecord.name.in_(batch))):
            found[record.name] = record
    return found


def slis_by_source_names(session: Session, names: Collection[str]) -> dict[str, list[SLIRecord]]:
    """The records counting rows that name each of ``names`` (several for several thresholds)."""
    found: dict[str, list[SLIRecord]] = {}
    wanted = sorted(set(names))
    for offset in range(0, len(wanted), _NAMES_PER_QUERY):
        batch = wanted[offset : offset + _NAMES_PER_QUERY]
        query = select(SLIRecord).where(SLIRecord.source_name.in_(batch)).order_by(SLIRecord.id)
        for record in session.scalars(query):
            found.setdefault(record.source_name, []).append(record)
    return found


def sli_ids_by_name(session: Session, names: Collection[str]) -> dict[str, int]:
    """The ids of the registered SLIs among ``names``, by name."""
    return {name: record.id for name, record in slis_by_names(session, names).items()}


def sli_names(session: Session) -> list[str]:
    """Every SLI name event rows may carry, sorted."""
    query = select(SLIRecord.source_name).distinct().order_by(SLIRecord.source_name)
    return list(session.scalars(query))


def add_sli(session: Session, record: SLIRecord) -> SLIRecord:
    """Insert an SLI row."""
    session.add(record)
    session.flush()
    return record


def upsert_counts(session: Session, counts: BucketCounts, *, resolution: int, now: datetime) -> int:
    """Add counts to their buckets, creating missing ones; returns the number of buckets."""
    if len(counts.sli_id) == 0:
        return 0
    rows = [
        {
            "sli_id": sli_id,
            "resolution": resolution,
            "start": start,
            "good": good,
            "total": total,
            "updated_at": now,
        }
        for sli_id, start, good, total in zip(
            counts.sli_id.tolist(),
            counts.start.tolist(),
            counts.good.tolist(),
            counts.total.tolist(),
            strict=True,
        )
    ]
    session.execute(_upsert_statement(session), rows)
    return len(rows)


def _upsert_statement(session: Session) -> Any:
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        insert: Any = postgresql.insert(BUCKETS)
    elif dialect == "sqlite":
        insert = sqlite.insert(BUCKETS)
    else:  # pragma: no cover - the two supported databases are above
        raise NotImplementedError(f"no bucket upsert for the {dialect} dialect")
    return insert.on_conflict_do_update(
        index_elements=[BUCKETS.c.sli_id, BUCKETS.c.resolution, BUCKETS.c.start],
        set_={
            "good": BUCKETS.c.good + insert.excluded.good,
            "total": BUCKETS.c.total + insert.excluded.total,
            "updated_at": insert.excluded.updated_at,
        },
    )


def largest_total(
    session: Session, *, sli_ids: Collection[int], resolution: int, start: int, end: int
) -> int:
    """The largest stored total among buckets of ``resolution`` starting in ``[start, end)``."""
    ids = sorted(set(sli_ids))
    largest = 0
    for offset in range(0, len(ids), _IDS_PER_QUERY):
        query = select(func.max(BUCKETS.c.total)).where(
            BUCKETS.c.sli_id.in_(ids[offset : offset + _IDS_PER_QUERY]),
            BUCKETS.c.resolution == resolution,
            BUCKETS.c.start >= start,
            BUCKETS.c.start < end,
        )
        value = session.execute(query).scalar()
        if value is not None:
            largest = max(largest, int(value))
    return largest


def bucket_rows(
    session: Session,
    *,
    sli_ids: Iterable[int],
    start: datetime | float,
    end: datetime | float,
) -> BucketRows:
    """Buckets of both resolutions whose start lies in ``[start, end)``.

    Sorted by SLI, start, then resolution (an hour bucket before the minutes of its hour).
    """
    ids = sorted(set(sli_ids))
    lower, upper = math.ceil(_unix(start)), math.ceil(_unix(end))
    rows: list[Sequence[int]] = []
    for offset in range(0, len(ids), _IDS_PER_QUERY):
        query = (
            select(*_BUCKET_COLUMNS)
            .where(
                BUCKETS.c.sli_id.in_(ids[offset : offset + _IDS_PER_QUERY]),
                BUCKETS.c.start >= lower,
                BUCKETS.c.start < upper,
            )
            .order_by(BUCKETS.c.sli_id, BUCKETS.c.start, BUCKETS.c.resolution)
        )
        rows.extend(cast(Sequence[Sequence[int]], session.execute(query).all()))
    return BucketRows.from_rows(rows)


def read_buckets(
    session: Session,
    sli_ids: Iterable[int],
    start: datetime | float,
    end: datetime | float,
) -> dict[int, BucketSeries]:
    """Per SLI, the buckets (both resolutions) starting in ``[start, end)``, sorted by start.

    Every requested SLI is in the result, with empty arrays when it has no buckets.
    """
    ids = sorted(set(sli_ids))
    rows = bucket_rows(session, sli_ids=ids, start=start, end=end)
    firsts = np.searchsorted(rows.sli_id, ids, side="left").tolist()
    lasts = np.searchsorted(rows.sli_id, ids, side="right").tolist()
    return {
        sli_id: BucketSeries(
            times=rows.start[first:last].astype(np.float64),
            good=rows.good[first:last].copy(),
            total=rows.total[first:last].copy(),
        )
        for sli_id, first, last in zip(ids, firsts, lasts, strict=True)
    }


def changed_since(session: Session, since: datetime) -> BucketRows:
    """Buckets written at or after ``since`` (ties come again: counts are totals, not deltas).

    Deletions are not reported: compaction replaces minute rows by an hour row written now.
    """
    query = (
        select(*_BUCKET_COLUMNS)
        .where(BUCKETS.c.updated_at >= since)
        .order_by(BUCKETS.c.sli_id, BUCKETS.c.resolution, BUCKETS.c.start)
    )
    return BucketRows.from_rows(cast(Sequence[Sequence[int]], session.execute(query).all()))


def oldest_start(session: Session, *, resolution: int, before: int) -> int | None:
    """The earliest bucket start of ``resolution`` below ``before``, if any."""
    query = select(func.min(BUCKETS.c.start)).where(
        BUCKETS.c.resolution == resolution, BUCKETS.c.start < before
    )
    value = session.execute(query).scalar()
    return None if value is None else int(value)


def take_buckets(session: Session, *, resolution: int, start: int, end: int) -> BucketCounts:
    """Delete the buckets of ``resolution`` starting in ``[start, end)`` and return them.

    ``DELETE ... RETURNING`` hands back exactly the rows removed, so counts that a concurrent
    ingest adds meanwhile are either in what is returned or in a row not deleted.
    """
    statement = (
        delete(BUCKETS)
        .where(
            BUCKETS.c.resolution == resolution,
            BUCKETS.c.start >= start,
            BUCKETS.c.start < end,
        )
        .returning(BUCKETS.c.sli_id, BUCKETS.c.start, BUCKETS.c.good, BUCKETS.c.total)
    )
    table = np.array(session.execute(statement).all(), dtype=np.int64).reshape(-1, 4)
    return BucketCounts(table[:, 0], table[:, 1], table[:, 2], table[:, 3])


def delete_before(session: Session, *, resolution: int, before: int) -> int:
    """Delete buckets of ``resolution`` that start before ``before``; returns how many."""
    statement = delete(BUCKETS).where(BUCKETS.c.resolution == resolution, BUCKETS.c.start < before)
    result = session.execute(statement)
    return int(getattr(result, "rowcount", 0) or 0)


def _unix(moment: datetime | float) -> float:
    if isinstance(moment, datetime):
        if moment.tzinfo is None:
            raise ValueError("naive datetime: pass a timezone-aware UTC time")
        return moment.timestamp()
    return float(moment)


def sums_by_period(
    session: Session, *, sli_ids: Collection[int], edges: Sequence[int]
) -> list[tuple[int, int, int, int]]:
    """(sli id, period index, good, total) summed over the buckets (both resolutions) whose
    start lies in ``[edges[i], edges[i + 1])``; periods without buckets are left out."""
    ids = sorted(set(sli_ids))
    if len(edges) < 2 or not ids:
        return []
    period = case(
        *((BUCKETS.c.start < edge, index) for index, edge in enumerate(edges[1:])),
    ).label("period")
    found: list[tuple[int, int, int, int]] = []
    for offset in range(0, len(ids), _IDS_PER_QUERY):
        query = (
            select(BUCKETS.c.sli_id, period, func.sum(BUCKETS.c.good), func.sum(BUCKETS.c.total))
            .where(
                BUCKETS.c.sli_id.in_(ids[offset : offset + _IDS_PER_QUERY]),
                BUCKETS.c.start >= edges[0],
                BUCKETS.c.start < edges[-1],
            )
            .group_by(BUCKETS.c.sli_id, period)
        )
        found.extend(
            (int(sli_id), int(index), int(good), int(total))
            for sli_id, index, good, total in session.execute(query)
        )
    return found
