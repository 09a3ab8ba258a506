"""The SLO evaluation tick: keep a CountGrid in step with the event store, evaluate every SLO,
store the latest status, history at a coarser cadence, and burn-rate alert transitions.

The grid is loaded in full when the set of SLOs changes; afterwards each tick reads only the
buckets updated since the previous read (with an overlap, since values are absolute the
re-read is harmless) and folds them in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sqlalchemy.orm import Session

from watchkeeper.core.batch import (
    BatchPlan,
    BatchResult,
    evaluate_batch,
    make_plan,
    needs_single_evaluation,
)
from watchkeeper.core.evaluation import SLOStatus, evaluate
from watchkeeper.core.grid import HOUR, MINUTE, CountGrid, minute_index
from watchkeeper.core.series import EventSeries
from watchkeeper.core.slo import (
    SLO,
    SourceKind,
)
from watchkeeper.events import repository as events_repository
from watchkeeper.slo import repository
from watchkeeper.slo.buckets import (
    MIN_MINUTE_SPAN,
    hour_span_for,
    load_grid,
    minute_span_for,
    rows_of,
)
from watchkeeper.slo.figures import (
    AlertKey,
    Transition,
    alert_cache,
    figures_from_status,
    record_transitions,
    sync_alert_rows,
    tick_figures,
)
from watchkeeper.slo.models import (
    SLORecord,
)
from watchkeeper.slo.service import series_for, to_core

# Changed buckets are re-read with this overlap so a transaction that committed late is seen.
READ_OVERLAP = timedelta(seconds=60)


@dataclass
class TickReport:
    """What one tick did."""

    evaluated: int = 0
    changed_buckets: int = 0
    transitions: list[Transition] = field(default_factory=list)
    reloaded: bool = False


@dataclass
class _Loaded:
    records: list[SLORecord]
    slos: tuple[SLO, ...]
    plan: BatchPlan
    batch_index: NDArray[np.int64]  # positions (in records) evaluated by the batch path
    single_index: list[int]
    grid: CountGrid
    row_of_sli: dict[int, int]
    slo_rows: NDArray[np.int64]  # grid row of every SLO, by position in records
    alerts: dict[AlertKey, list[Any]]  # [state row id, firing] of every alert
    has_status: set[int]  # SLO ids with a status row


class Evaluator:
    """Evaluates every applied SLO; one instance lives in each worker process."""

    def __init__(self, *, history_interval: timedelta = timedelta(minutes=5)) -> None:
        self.history_interval = history_interval
        self._version: tuple[int, datetime | None, int] | None = None
        self._loaded: _Loaded | None = None
        self._last_read: datetime | None = None
        self._last_history: datetime | None = None
        self._last_stored: datetime | None = None  # newest evaluated_at this worker stored
        # Buckets stamped after the newest minute (clock skew, early timestamps): applied once
        # their minute arrives, since they will not be read again as changes.
        self._pending: dict[tuple[int, int, int], tuple[int, int]] = {}

    @property
    def minute_span(self) -> timedelta:
        """Minutes of history kept (compaction must keep minute buckets at least this long)."""
        if self._loaded is None:
            return MIN_MINUTE_SPAN + timedelta(hours=2)
        grid = self._loaded.grid
        return timedelta(minutes=grid.minute_slots)

    def tick(self, session: Session, *, now: datetime) -> TickReport:
        """Bring the grid up to date, evaluate every SLO at ``now`` and store the results."""
        report = TickReport()
        version = repository.version(session)
        if version != self._version or self._loaded is None:
            self._load(session, now)
            self._version = version
            report.reloaded = True
        else:
            report.changed_buckets = self._read_changes(session, now)
        loaded = self._loaded
        assert loaded is not None
        if repository.latest_evaluation(session) != self._last_stored:
            # Another worker evaluated since our last tick (workers take turns under the
            # advisory lock): its alert transitions and status rows are the truth now.
            loaded.alerts = alert_cache(session)
            loaded.has_status = set(repository.status_ids(session))
        if not loaded.records:
            return report
        result = evaluate_batch(loaded.plan, loaded.grid, now)
        singles = {
            position: _evaluate_single(session, loaded, position, now)
            for position in loaded.single_index
        }
        report.evaluated = len(loaded.records)
        self._store(session, loaded, result, singles, now, report)
        self._last_stored = repository.latest_evaluation(session)
        return report

    # -- loading -------------------------------------------------------------------------

    def _load(self, session: Session, now: datetime) -> None:
        records = [
            r
            for r in repository.list_all(session)
            if to_core(r).sli.source is SourceKind.WATCHKEEPER
        ]
        slos = tuple(to_core(r) for r in records)
        sli_ids = events_repository.sli_ids_by_name(
            session, sorted({s.sli.store_key for s in slos})
        )
        row_of_sli = {sli_id: row for row, sli_id in enumerate(sorted(set(sli_ids.values())))}
        # An SLO whose SLI is not registered has no row: it reads an always-empty row.
        empty_row = len(row_of_sli)
        rows = np.array(
            [row_of_sli.get(sli_ids.get(s.sli.store_key, -1), empty_row) for s in slos],
            dtype=np.int64,
        )
        batch_positions = [i for i, s in enumerate(slos) if not needs_single_evaluation(s)]
        single_positions = [i for i, s in enumerate(slos) if needs_single_evaluation(s)]
        plan = make_plan(tuple(slos[i] for i in batch_positions), rows[batch_positions])
        grid = load_grid(
            session,
            sli_ids=sorted(row_of_sli, key=row_of_sli.__getitem__),
            minute_span=minute_span_for(slos),
            hour_span=hour_span_for(slos),
            now=now,
        )
        self._loaded = _Loaded(
            records=records,
            slos=slos,
            plan=plan,
            batch_index=np.array(batch_positions, dtype=np.int64),
            single_index=single_positions,
            grid=grid,
            row_of_sli=row_of_sli,
            slo_rows=rows,
            alerts=sync_alert_rows(session, records, slos, now),
            has_status=set(repository.status_ids(session)),
        )
        self._last_read = now
        current = minute_index(now.timestamp())
        future = events_repository.bucket_rows(
            session, sli_ids=list(row_of_sli), start=(current + 1) * MINUTE, end=2**62
        )
        self._pending = {
            (change.sli_id, change.resolution, change.start): (change.good, change.total)
            for change in future
        }

    def _read_changes(self, session: Session, now: datetime) -> int:
        loaded = self._loaded
        assert loaded is not None and self._last_read is not None
        since = self._last_read - READ_OVERLAP
        self._last_read = now
        loaded.grid.advance(minute_index(now.timestamp()))
        changes = self._due(events_repository.changed_since(session, since=since), loaded.grid)
        if not changes.sli_id.size:
            return 0
        grid, row_of_sli = loaded.grid, loaded.row_of_sli
        all_rows = rows_of(row_of_sli, changes.sli_id)
        known = all_rows >= 0
        sli_id, resolution = changes.sli_id[known], changes.resolution[known]
        start, good, total = changes.start[known], changes.good[known], changes.total[known]
        rows = all_rows[known]
        minutes = start // MINUTE
        in_ring = (resolution == MINUTE) & (minutes > grid.current_minute - grid.minute_slots)
        grid.set_minutes(rows[in_ring], minutes[in_ring], good[in_ring], total[in_ring])
        # Hour rows (compaction) and minute rows older than the ring: re-sum their hours.
        stale = ~in_ring
        if stale.any():
            hours = start[stale] // HOUR
            affected = sorted(set(zip(sli_id[stale].tolist(), hours.tolist(), strict=True)))
            buckets = events_repository.bucket_rows(
                session,
                sli_ids=sorted({a[0] for a in affected}),
                start=min(a[1] for a in affected) * HOUR,
                end=(max(a[1] for a in affected) + 1) * HOUR,
            )
            wanted = set(affected)
            keys = list(zip(buckets.sli_id.tolist(), (buckets.start // HOUR).tolist(), strict=True))
            mask = np.array([k in wanted for k in keys], dtype=np.bool_)
            sums: dict[tuple[int, int], list[int]] = {a: [0, 0] for a in affected}
            for key, g, t in zip(
                (k for k, m in zip(keys, mask, strict=True) if m),
                buckets.good[mask].tolist(),
                buckets.total[mask].tolist(),
                strict=True,
            ):
                sums[key][0] += g
                sums[key][1] += t
            grid.set_hours(
                np.array([row_of_sli[a[0]] for a in affected], dtype=np.int64),
                np.array([a[1] for a in affected], dtype=np.int64),
                np.array([sums[a][0] for a in affected], dtype=np.int64),
                np.array([sums[a][1] for a in affected], dtype=np.int64),
            )
        return int(known.sum())

    def _due(
        self, changes: events_repository.BucketRows, grid: CountGrid
    ) -> events_repository.BucketRows:
        """Changes whose bucket has begun, with earlier pending ones; later ones wait."""
        newest = grid.current_minute * MINUTE
        if not self._pending and not bool((changes.start > newest).any()):
            return changes  # the usual case, kept vectorised
        merged = dict(self._pending)
        for change in changes:
            merged[(change.sli_id, change.resolution, change.start)] = (change.good, change.total)
        self._pending = {key: value for key, value in merged.items() if key[2] > newest}
        return events_repository.BucketRows.from_rows(
            [(*key, *value) for key, value in merged.items() if key[2] <= newest]
        )

    # -- storing -------------------------------------------------------------------------

    def _store(
        self,
        session: Session,
        loaded: _Loaded,
        result: BatchResult,
        singles: dict[int, SLOStatus],
        now: datetime,
        report: TickReport,
    ) -> None:
        figures = tick_figures(
            loaded.records, loaded.plan, loaded.batch_index, result, singles, now
        )
        updates = [
            {"b_slo_id": f.slo_id, **f.status_row()}
            for f in figures
            if f.slo_id in loaded.has_status
        ]
        inserts = [f for f in figures if f.slo_id not in loaded.has_status]
        if updates:
            repository.update_statuses(session, updates)
        if inserts:
            repository.insert_statuses(session, [f.status_row() for f in inserts])
            loaded.has_status.update(f.slo_id for f in inserts)
        if self._last_history is None or now - self._last_history >= self.history_interval:
            repository.insert_history(session, [f.history_row() for f in figures])
            self._last_history = now
        report.transitions = record_transitions(session, loaded.alerts, figures, now)


def _evaluate_single(session: Session, loaded: _Loaded, position: int, now: datetime) -> SLOStatus:
    """One SLO the batch path does not cover.

    Timeslice SLOs read their stored buckets for the whole window, so their slices keep the
    resolution stored (1-minute buckets last WATCHKEEPER_MINUTE_RETENTION_DAYS); the grid
    holds only hours beyond its minute ring.
    """
    slo = loaded.slos[position]
    if slo.sli.is_sliced:
        return evaluate(slo, series_for(session, slo=slo, at=now), now)
    times, good, total = loaded.grid.buckets_of(int(loaded.slo_rows[position]))
    return evaluate(slo, EventSeries.from_counts(times, good, total), now)


__all__ = ["Evaluator", "TickReport", "Transition", "figures_from_status"]
