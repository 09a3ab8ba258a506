"""Bucket sums within the exact count limit.

A row's count is at most MAX_COUNT (2**53 - 1), and so is a bucket's total, stored plus
incoming: evaluation reads counts as float64 and the API writes them as JSON numbers, both
exact only up to 2**53. Refusing past it also keeps every sum far inside the BIGINT columns,
so the database never overflows (PostgreSQL would fail the write; SQLite would turn the sum
into an inexact REAL). Writes that race with the check can pass the limit at most a few
times over, still exact in BIGINT.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import UTC, datetime

import numpy as np
from numpy.typing import NDArray
from sqlalchemy.orm import Session

from watchkeeper.events import repository
from watchkeeper.events.exceptions import EventProblem
from watchkeeper.events.repository import BucketCounts
from watchkeeper.events.rows import MAX_COUNT


def keys_past_limit(keys: NDArray[np.int64], total: NDArray[np.int64]) -> list[int]:
    """The distinct keys whose totals sum past MAX_COUNT (exactly, whatever int64 does).

    Float sums of non-negative integers are exact below 2**53 and never fall back below it
    once the exact sum passes it (rounding is monotonic), while int64 sums can wrap around.
    """
    if len(keys) == 0:
        return []
    order = np.argsort(keys, kind="stable")
    sorted_keys = keys[order]
    heads = np.flatnonzero(np.concatenate(([True], sorted_keys[1:] != sorted_keys[:-1])))
    sums = np.add.reduceat(total[order].astype(np.float64), heads)
    past: list[int] = sorted_keys[heads][sums > MAX_COUNT].tolist()
    return past


def past_limit_with_stored(
    session: Session, counts: BucketCounts, *, resolution: int
) -> NDArray[np.bool_]:
    """Which of ``counts``' buckets would pass MAX_COUNT once added to the stored ones."""
    over = np.zeros(len(counts.sli_id), dtype=np.bool_)
    if len(counts.sli_id) == 0:
        return over
    sli_ids = np.unique(counts.sli_id).tolist()
    start, end = int(counts.start.min()), int(counts.start.max()) + 1
    largest = repository.largest_total(
        session, sli_ids=sli_ids, resolution=resolution, start=start, end=end
    )
    if largest + int(counts.total.max()) <= MAX_COUNT:
        return over  # the usual case: one aggregate query tells that nothing can pass
    stored = repository.bucket_rows(session, sli_ids=sli_ids, start=start, end=end)
    same = stored.resolution == resolution
    stored_totals = dict(
        zip(
            zip(stored.sli_id[same].tolist(), stored.start[same].tolist(), strict=True),
            stored.total[same].tolist(),
            strict=True,
        )
    )
    for row, (sli_id, bucket_start, total) in enumerate(
        zip(counts.sli_id.tolist(), counts.start.tolist(), counts.total.tolist(), strict=True)
    ):
        over[row] = stored_totals.get((sli_id, bucket_start), 0) + total > MAX_COUNT
    return over


def limit_problems(
    counts: BucketCounts,
    over: NDArray[np.bool_],
    *,
    resolution: int,
    names: Mapping[int, str],
    room: int,
) -> tuple[list[EventProblem], int]:
    """Problems for the first ``room`` buckets past the limit, and how many there are."""
    rows = np.flatnonzero(over)
    problems = []
    for row in rows[:room].tolist():
        start = datetime.fromtimestamp(int(counts.start[row]), UTC).isoformat()
        name = names.get(int(counts.sli_id[row]), "?")
        problems.append(
            EventProblem(
                f"SLI {name!r}, {resolution}-second bucket from {start.replace('+00:00', 'Z')}: "
                f"the totals would sum to more than {MAX_COUNT}, the most a bucket keeps exactly",
                field="total",
            )
        )
    return problems, len(rows)


def keys_in(keys: NDArray[np.int64], wanted: Collection[int]) -> NDArray[np.bool_]:
    """Which of ``keys`` are among ``wanted``."""
    if not wanted:
        return np.zeros(len(keys), dtype=np.bool_)
    return np.isin(keys, np.fromiter(wanted, dtype=np.int64, count=len(wanted)))
