"""Use cases of the SLI event store: register SLIs, ingest events, compact old buckets.

Events are folded into 60-second buckets of summed good/total counts in memory (a NumPy
group-by), then written with one upsert per touched bucket. An ingest is all-or-nothing:
every row is checked, and every SLI name resolved, before anything is written.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import chain
from pathlib import Path
from typing import Any, cast

import numpy as np
from numpy.typing import NDArray
from sqlalchemy.orm import Session

from watchkeeper.core.grid import HOUR, MINUTE
from watchkeeper.core.slo import MAX_SLI_NAME, SLI, Operator, SLIKind, SourceKind
from watchkeeper.errors import InvalidInput
from watchkeeper.events import bucket_limits, datafile, repository
from watchkeeper.events.datafile import MAX_COUNT, EventChunk, EventRow
from watchkeeper.events.exceptions import InvalidEvents, ProblemLog
from watchkeeper.events.models import SLIRecord
from watchkeeper.events.repository import BucketCounts
from watchkeeper.events.repository import BucketRows as BucketRows
from watchkeeper.events.repository import BucketSeries as BucketSeries
from watchkeeper.events.rows import report_kind_mismatches, tally

RESOLUTIONS = (MINUTE, HOUR)
KIND_COUNTS = "counts"
KIND_OBSERVATIONS = "observations"

# Bucket keys pack (sli_id, start // resolution) into one int64 for a fast group-by:
# slots below 2**38 cover 1-second buckets up to year 9999, ids below 2**25 keep it positive.
_SLOT_BITS = 38
_SLOT_MASK = (1 << _SLOT_BITS) - 1
_MAX_PACKED_ID = 1 << 25
_REGROUP_AT = 1_000_000  # pending aggregated entries before they are merged again
_COMPACT_SPAN = 86_400  # minute buckets folded per DELETE ... RETURNING round


@dataclass(frozen=True)
class IngestResult:
    """How many events were accepted and how many buckets they touched."""

    accepted: int
    buckets: int


@dataclass(frozen=True)
class CompactResult:
    """What a compaction did: minute buckets folded, hour buckets written, hour buckets expired."""

    folded: int
    hour_buckets: int
    expired: int


def register_slis(session: Session, slis: Iterable[SLI], *, now: datetime) -> list[SLIRecord]:
    """Create or update the store's record of each event-store SLI (others are skipped).

    Records are keyed by ``SLI.store_key``: a new threshold for a stream of values is a new
    record (counting from now on), while records of other thresholds keep counting.
    """
    wanted: dict[str, SLI] = {}
    for sli in slis:
        if sli.source is not SourceKind.WATCHKEEPER or sli.kind is SLIKind.RAW:
            continue
        name = sli.name.strip()
        if not name or len(name) > MAX_SLI_NAME or name != sli.name:
            raise InvalidInput(
                f"SLI name must be 1 to {MAX_SLI_NAME} characters without surrounding "
                f"spaces: {sli.name!r}"
            )
        _definition(sli)  # a threshold SLI needs a finite threshold
        wanted[sli.store_key] = sli
    existing = repository.slis_by_names(session, wanted)
    records = []
    for key, sli in wanted.items():
        kind, threshold, operator = _definition(sli)
        record = existing.get(key)
        if record is None:
            record = repository.add_sli(
                session,
                SLIRecord(
                    name=key,
                    source_name=sli.name,
                    kind=kind,
                    threshold=threshold,
                    operator=operator,
                    created_at=now,
                ),
            )
        records.append(record)
    session.flush()
    return records


def _definition(sli: SLI) -> tuple[str, float | None, str | None]:
    if not sli.uses_observations:
        return KIND_COUNTS, None, None
    if sli.threshold is None or not math.isfinite(sli.threshold):
        raise InvalidInput(f"SLI {sli.name!r} takes observations but has no finite threshold")
    return KIND_OBSERVATIONS, float(sli.threshold), Operator(sli.operator).value


def ingest(
    session: Session,
    rows: Iterable[EventRow] | Sequence[Mapping[str, Any]],
    *,
    now: datetime,
    resolution: int = MINUTE,
) -> IngestResult:
    """Store events given as EventRow tuples (located by line) or decoded JSON objects (by index).

    Raises InvalidEvents, having written nothing, if any event is unusable: it lists every bad
    row and every unknown SLI name (UnknownSLI when unknown names are the only problem).
    """
    batch = _Batch(session, resolution=resolution)
    iterator = iter(rows)
    first = next(iterator, None)
    if first is None:
        return IngestResult(accepted=0, buckets=0)
    if isinstance(first, EventRow):
        event_rows = cast(Iterable[EventRow], chain((first,), iterator))
        for chunk in datafile.chunks_from_rows(event_rows, problems=batch.problems):
            batch.add(chunk)
    else:
        batch.add(datafile.parse_records([first, *iterator], problems=batch.problems))
    return batch.store(now=now)


def ingest_file(
    session: Session,
    path: str | Path,
    *,
    clock: Callable[[], datetime],
    progress: Callable[[int, int], None] | None = None,
    resolution: int = MINUTE,
) -> IngestResult:
    """Store the events of a CSV/JSONL/JSON file: streamed in chunks, written once at the end.

    ``clock`` is read when the buckets are written (not when reading starts), so their
    ``updated_at`` stays within the worker's re-read overlap however long a large file takes.

    ``progress(bytes_read, total_bytes)`` is called as the file is read. Raises
    UnreadableEventFile, InvalidEventFile (no events can be read from it), or InvalidEvents
    (every bad row with its line, and every unknown SLI name with its lines; UnknownSLI when
    those are the only problem), having written nothing.
    """
    source = str(path)
    batch = _Batch(session, resolution=resolution, source=source)
    for chunk in datafile.read_chunks(path, progress=progress, problems=batch.problems):
        batch.add(chunk)
    return batch.store(now=clock())


class _Batch:
    """Everything one ingest has read: SLIs resolved so far, problems, and summed buckets."""

    def __init__(
        self,
        session: Session,
        *,
        resolution: int,
        source: str | None = None,
        accept_counts: bool = False,
    ) -> None:
        if resolution not in RESOLUTIONS:
            raise InvalidInput(f"bucket resolution must be one of {RESOLUTIONS}, not {resolution}")
        self.session = session
        self.resolution = resolution
        self.source = source
        self.records: dict[str, list[SLIRecord]] = {}
        self.problems = ProblemLog()
        self.accepted = 0
        self.parts: list[BucketCounts] = []
        self.pending = 0
        # Pre-aggregated imports may carry counts for observation SLIs (already compared).
        self.accept_counts = accept_counts
        # An upper bound of any bucket's total: while it stays within MAX_COUNT, no sum can
        # leave the int64 range or the store's limit, and no bucket needs checking.
        self.total_bound = 0.0
        self.over_limit: set[int] = set()  # packed keys of buckets summing past MAX_COUNT

    def add(self, chunk: EventChunk) -> None:
        """Check a chunk against the SLI registry and fold its rows into bucket sums.

        Counts rows go to the name's counts record; each value row counts once in every
        observations record of its name (one per threshold in use). Rows naming no SLI, and
        refused rows that do, are noted as unknown names.
        """
        new_names = [name for name in chunk.names if name not in self.records]
        if new_names:
            # A name longer than any SLI's cannot be registered: no need to look it up.
            lookup = [name for name in new_names if len(name) <= MAX_SLI_NAME]
            found = repository.slis_by_source_names(self.session, lookup) if lookup else {}
            for name in new_names:
                self.records[name] = found.get(name, [])
        for name, rejected in chunk.rejected.items():
            if not self.records[name]:
                self.problems.add_unknown(
                    name, rejected.rows, rejected.locations, by_index=chunk.by_index
                )
        if len(chunk) == 0:
            return
        per_name = [self.records[name] for name in chunk.names]
        counts_ids = np.array(
            [next((r.id for r in rs if r.kind == KIND_COUNTS), -1) for rs in per_name],
            dtype=np.int64,
        )
        observers = [[r for r in rs if r.kind == KIND_OBSERVATIONS] for rs in per_name]
        if self.accept_counts:
            # Imported counts of a threshold SLI were compared already: they need one record.
            counts_ids = np.array(
                [
                    c if c >= 0 or len(o) != 1 else o[0].id
                    for c, o in zip(counts_ids.tolist(), observers, strict=True)
                ],
                dtype=np.int64,
            )
        has_observers = np.array([bool(o) for o in observers], dtype=np.bool_)
        row_counts_ids = counts_ids[chunk.sli]
        row_observed = has_observers[chunk.sli]
        unknown_rows = (row_counts_ids < 0) & ~row_observed
        if unknown_rows.any():
            for name, count, places in tally(chunk, unknown_rows):
                self.problems.add_unknown(name, count, places, by_index=chunk.by_index)
        is_value = chunk.is_value
        counts_rows = ~is_value & ~unknown_rows
        value_rows = is_value & ~unknown_rows
        mismatched = (counts_rows & (row_counts_ids < 0)) | (value_rows & ~row_observed)
        if mismatched.any():
            report_kind_mismatches(chunk, mismatched, self.problems)
        if self.problems:
            return  # the ingest will fail; keep reading only to report every problem
        slots = np.floor(chunk.time / self.resolution).astype(np.int64)
        largest_id = max([int(counts_ids.max(initial=0)), *(r.id for o in observers for r in o)])
        if largest_id >= _MAX_PACKED_ID:  # pragma: no cover - 33 million SLIs
            raise InvalidInput("too many SLIs for the in-memory bucket index")
        if counts_rows.any():
            ids = row_counts_ids[counts_rows]
            totals = chunk.total[counts_rows]
            self.total_bound += float(totals.sum(dtype=np.float64))
            self._fold((ids << _SLOT_BITS) | slots[counts_rows], chunk.good[counts_rows], totals)
        for code in np.unique(chunk.sli[value_rows]).tolist():
            rows = value_rows & (chunk.sli == code)
            values = chunk.value[rows]
            self.total_bound += float(len(values))
            for record in observers[code]:
                assert record.threshold is not None
                operator = Operator(record.operator or Operator.LTE)
                good = operator.good_mask(values, record.threshold).astype(np.int64)
                self._fold(
                    (np.int64(record.id) << _SLOT_BITS) | slots[rows],
                    good,
                    np.ones(len(good), dtype=np.int64),
                )
        self.accepted += len(chunk)

    def _fold(
        self, keys: NDArray[np.int64], good: NDArray[np.int64], total: NDArray[np.int64]
    ) -> None:
        part = self._group(keys, good, total)
        self.parts.append(part)
        self.pending += len(part.sli_id)
        if self.pending >= _REGROUP_AT and len(self.parts) > 1:
            self.parts = [self._merged()]
            self.pending = len(self.parts[0].sli_id)

    def _group(
        self, keys: NDArray[np.int64], good: NDArray[np.int64], total: NDArray[np.int64]
    ) -> BucketCounts:
        """:func:`_group`, noting buckets past MAX_COUNT once sums could get there."""
        if self.total_bound > MAX_COUNT:
            self.over_limit.update(bucket_limits.keys_past_limit(keys, total))
        return _group(keys, good, total)

    def _merged(self) -> BucketCounts:
        if len(self.parts) == 1:
            return self.parts[0]
        return self._group(
            np.concatenate([p.sli_id for p in self.parts]),
            np.concatenate([p.good for p in self.parts]),
            np.concatenate([p.total for p in self.parts]),
        )

    def store(self, *, now: datetime) -> IngestResult:
        """Raise what was found wrong, or upsert the summed buckets."""
        if self.problems:
            raise self._error()
        if not self.parts:
            return IngestResult(accepted=0, buckets=0)
        merged = self._merged()
        keys = merged.sli_id
        counts = BucketCounts(
            sli_id=keys >> _SLOT_BITS,
            start=(keys & _SLOT_MASK) * self.resolution,
            good=merged.good,
            total=merged.total,
        )
        self._check_limits(counts)
        if self.problems:
            raise self._error()
        buckets = repository.upsert_counts(
            self.session, counts, resolution=self.resolution, now=now
        )
        return IngestResult(accepted=self.accepted, buckets=buckets)

    def _error(self) -> InvalidEvents:
        return self.problems.error(
            self.source,
            known=repository.sli_names(self.session),
            hint="an SLI is registered when an SLO that uses it is applied",
        )

    def _check_limits(self, counts: BucketCounts) -> None:
        """Refuse buckets whose total (with what is stored) would pass MAX_COUNT."""
        keys = (counts.sli_id << _SLOT_BITS) | (counts.start // self.resolution)
        over = bucket_limits.keys_in(keys, self.over_limit)
        over |= bucket_limits.past_limit_with_stored(
            self.session, counts, resolution=self.resolution
        )
        if not over.any():
            return
        listed, found = bucket_limits.limit_problems(
            counts,
            over,
            resolution=self.resolution,
            names={r.id: r.source_name for rs in self.records.values() for r in rs},
            room=max(self.problems.cap - len(self.problems.problems), 0),
        )
        for problem in listed:
            self.problems.add(problem)
        self.problems.add_unlisted(found - len(listed))


def _group(
    keys: NDArray[np.int64], good: NDArray[np.int64], total: NDArray[np.int64]
) -> BucketCounts:
    """Sum good and total per distinct key (exact int64 sums; keys come back sorted).

    The key array travels in ``sli_id``: callers unpack it into (sli_id, start).
    """
    if len(keys) == 0:
        empty = np.zeros(0, dtype=np.int64)
        return BucketCounts(empty, empty, empty, empty)
    order = np.argsort(keys, kind="stable")
    sorted_keys = keys[order]
    heads = np.flatnonzero(np.concatenate(([True], sorted_keys[1:] != sorted_keys[:-1])))
    return BucketCounts(
        sli_id=sorted_keys[heads],
        start=np.zeros(len(heads), dtype=np.int64),
        good=np.add.reduceat(good[order], heads),
        total=np.add.reduceat(total[order], heads),
    )


def compact(
    session: Session,
    *,
    now: datetime,
    minute_retention: timedelta,
    hour_retention: timedelta,
) -> CompactResult:
    """Fold minute buckets of whole hours older than ``minute_retention`` into hour buckets,
    and delete buckets older than ``hour_retention``. Running it again changes nothing.
    """
    moment = now.timestamp()
    fold_before = _hour_floor(moment - minute_retention.total_seconds())
    expire_before = _hour_floor(moment - hour_retention.total_seconds())
    folded = written = 0
    while (
        oldest := repository.oldest_start(session, resolution=MINUTE, before=fold_before)
    ) is not None:
        end = min(fold_before, _hour_floor(oldest) + _COMPACT_SPAN)
        taken = repository.take_buckets(session, resolution=MINUTE, start=oldest, end=end)
        hours = _group(
            (taken.sli_id << _SLOT_BITS) | (taken.start // HOUR), taken.good, taken.total
        )
        keys = hours.sli_id
        written += repository.upsert_counts(
            session,
            BucketCounts(keys >> _SLOT_BITS, (keys & _SLOT_MASK) * HOUR, hours.good, hours.total),
            resolution=HOUR,
            now=now,
        )
        folded += len(taken.sli_id)
    expired = repository.delete_before(session, resolution=HOUR, before=expire_before)
    expired += repository.delete_before(session, resolution=MINUTE, before=expire_before)
    session.flush()
    return CompactResult(folded=folded, hour_buckets=written, expired=expired)


def _hour_floor(seconds: float) -> int:
    return math.floor(seconds / HOUR) * HOUR


def import_counts(
    session: Session,
    counts: Iterable[tuple[str, float, int, int]],
    *,
    now: datetime,
    resolution: int = MINUTE,
) -> int:
    """Store pre-aggregated ``(sli, time, good, total)`` counts; returns the buckets touched.

    Unlike :func:`ingest`, threshold SLIs take counts here: history imported from another
    system arrives already compared against the threshold. Otherwise the same checks and
    all-or-nothing rule apply (problems located by index).
    """
    records = [
        {"time": time, "sli": sli, "good": good, "total": total}
        for sli, time, good, total in counts
    ]
    batch = _Batch(session, resolution=resolution, accept_counts=True)
    if records:
        batch.add(datafile.parse_records(records, problems=batch.problems))
    return batch.store(now=now).buckets


# -- reads for other packages (the event store's one door: nobody else imports its repository)


def read_buckets(
    session: Session,
    sli_ids: Iterable[int],
    *,
    start: datetime | float,
    end: datetime | float,
) -> dict[int, BucketSeries]:
    """Stored buckets (both resolutions) starting in ``[start, end)``, per SLI id, sorted."""
    return repository.read_buckets(session, sli_ids, start, end)


def bucket_rows(
    session: Session, *, sli_ids: Iterable[int], start: datetime | float, end: datetime | float
) -> BucketRows:
    """Stored buckets (both resolutions) of ``sli_ids`` starting in ``[start, end)``, as
    parallel arrays sorted by SLI, start, then resolution (Unix seconds where ``float``)."""
    return repository.bucket_rows(session, sli_ids=sli_ids, start=start, end=end)


def changed_since(session: Session, *, since: datetime) -> BucketRows:
    """Buckets written at or after ``since``: the worker's incremental read."""
    return repository.changed_since(session, since)


def sums_by_period(
    session: Session, *, sli_ids: Iterable[int], edges: Sequence[int]
) -> dict[int, tuple[NDArray[np.int64], NDArray[np.int64]]]:
    """Per SLI id, good and total counts summed per period ``[edges[i], edges[i + 1])`` (Unix
    seconds; a bucket counts in the period its start lies in). One query per 500 SLIs."""
    ids = sorted(set(sli_ids))
    periods = max(len(edges) - 1, 0)
    sums = {i: (np.zeros(periods, np.int64), np.zeros(periods, np.int64)) for i in ids}
    for sli_id, index, good, total in repository.sums_by_period(session, sli_ids=ids, edges=edges):
        sums[sli_id][0][index] = good
        sums[sli_id][1][index] = total
    return sums


def sli_ids_by_name(session: Session, names: Iterable[str]) -> dict[str, int]:
    """The ids of the registered SLIs among ``names``, by name."""
    return repository.sli_ids_by_name(session, set(names))
