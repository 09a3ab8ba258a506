"""The SLO evaluation tick: keep a CountGrid in step with the event store, evaluate every SLO,
store the latest status, history at a coarser cadence, and burn-rate alert transitions.

The grid is loaded in full when the set of SLOs changes; afterwards each tick reads only the
buckets updated since the previous read (with an overlap, since values are absolute the
re-read is harmless) and folds them in.

One SLO that cannot be evaluated (a stored spec that no longer parses, windows too long for
the grid or the calendar, an evaluation that raises) is stored as failing, with the reason
and no figures; every other SLO is evaluated and stored as usual.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

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
from watchkeeper.core.evaluation import SLOStatus
from watchkeeper.core.grid import HOUR, MINUTE, CountGrid, minute_index
from watchkeeper.core.series import EventSeries
from watchkeeper.core.slo import SLO, SourceKind
from watchkeeper.events import service as events_service
from watchkeeper.slo import repository
from watchkeeper.slo.alert_states import (
    AlertEntry,
    AlertKey,
    BatchAlerts,
    BatchTick,
    Transition,
    alert_cache,
    record_transitions,
    sync_alert_rows,
)
from watchkeeper.slo.buckets import (
    MIN_MINUTE_SPAN,
    evaluation_problem,
    hour_span_for,
    load_grid,
    minute_span_for,
    rows_of,
)
from watchkeeper.slo.exceptions import EvaluationFailed
from watchkeeper.slo.figures import (
    Failure,
    Figures,
    batch_statuses,
    failing_statuses,
    figures_from_status,
    single_statuses,
)
from watchkeeper.slo.repository import StatusBatch
from watchkeeper.slo.service import evaluate_or_fail, series_for, to_core

log = logging.getLogger("watchkeeper.evaluator")

# Changed buckets are re-read with this overlap so a transaction that committed late is seen.
READ_OVERLAP = timedelta(seconds=60)


@dataclass
class TickReport:
    """What one tick did, and how long its parts took (seconds of wall time)."""

    evaluated: int = 0  # SLOs evaluated and stored with figures
    changed_buckets: int = 0
    transitions: list[Transition] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)  # SLOs stored as failing
    reloaded: bool = False
    read_seconds: float = 0.0  # SLOs (on reload) and new buckets into the grid
    evaluate_seconds: float = 0.0
    store_seconds: float = 0.0  # statuses, history, alert states and transitions


@dataclass
class _Loaded:
    ids: list[int]  # the SLOs evaluated from the grid (ids and keys, not ORM records: the
    keys: list[str]  # worker keeps them for hours, outside any session)
    slos: tuple[SLO, ...]
    grid: CountGrid
    row_of_sli: dict[int, int]
    slo_rows: NDArray[np.int64]  # grid row of every SLO, by position
    single_index: list[int]  # positions evaluated one by one
    batch_index: NDArray[np.int64]  # positions evaluated by the batch path, by slot
    plan: BatchPlan
    batch_ids: list[int]  # SLO id by batch slot
    batch_keys: list[str]
    alerts: dict[AlertKey, AlertEntry]
    batch_alerts: BatchAlerts
    failed: dict[int, Failure]  # SLO id -> why it cannot be evaluated (until the next load)
    stored_errors: dict[int, str | None]  # SLO id -> error of its stored status row

    def plan_batch(self, positions: list[int]) -> None:
        """Evaluate the SLOs at ``positions`` by the batch path (the others: one by one)."""
        self.batch_index = np.array(positions, dtype=np.int64)
        self.plan = make_plan(tuple(self.slos[i] for i in positions), self.slo_rows[positions])
        self.batch_ids = [self.ids[i] for i in positions]
        self.batch_keys = [self.keys[i] for i in positions]
        self.batch_alerts = BatchAlerts.build(self.plan, self.batch_ids, self.alerts)


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
        started = time.perf_counter()
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
            loaded.batch_alerts = BatchAlerts.build(loaded.plan, loaded.batch_ids, loaded.alerts)
            loaded.stored_errors = repository.status_errors(session)
        if not loaded.ids and not loaded.failed:
            return report
        evaluating = time.perf_counter()
        report.read_seconds = evaluating - started
        result = self._evaluate_batch(loaded, now)
        singles, failures = self._evaluate_singles(session, loaded, now)
        storing = time.perf_counter()
        report.evaluate_seconds = storing - evaluating
        report.evaluated = len(loaded.batch_ids) + len(singles)
        report.failures = [*loaded.failed.values(), *failures]
        self._store(session, loaded, result, singles, report, now)
        self._last_stored = repository.latest_evaluation(session)
        report.store_seconds = time.perf_counter() - storing
        return report

    # -- loading -------------------------------------------------------------------------

    def _load(self, session: Session, now: datetime) -> None:
        ids: list[int] = []
        keys: list[str] = []
        slos: list[SLO] = []
        failed: dict[int, Failure] = {}
        # SLOs a metrics source answers (Prometheus) are evaluated by SourceEvaluator after
        # this tick; their alert-state and status rows are kept here, not judged stale.
        sourced_ids: list[int] = []
        sourced: list[SLO] = []
        for record in repository.list_all(session):
            try:
                slo = to_core(record)
            except EvaluationFailed as exc:
                failed[record.id] = Failure(record.id, record.key, exc.problem)
                continue
            if slo.sli.source is SourceKind.PROMETHEUS:
                if evaluation_problem(slo, now) is None:
                    sourced_ids.append(record.id)
                    sourced.append(slo)
                continue
            if slo.sli.source is not SourceKind.WATCHKEEPER:
                continue
            problem = evaluation_problem(slo, now)
            if problem is not None:
                failed[record.id] = Failure(record.id, record.key, problem)
                continue
            ids.append(record.id)
            keys.append(record.key)
            slos.append(slo)
        sli_ids = events_service.sli_ids_by_name(session, sorted({s.sli.store_key for s in slos}))
        row_of_sli = {sli_id: row for row, sli_id in enumerate(sorted(set(sli_ids.values())))}
        # An SLO whose SLI is not registered has no row: it reads an always-empty row.
        empty_row = len(row_of_sli)
        rows = np.array(
            [row_of_sli.get(sli_ids.get(s.sli.store_key, -1), empty_row) for s in slos],
            dtype=np.int64,
        )
        grid = load_grid(
            session,
            sli_ids=sorted(row_of_sli, key=row_of_sli.__getitem__),
            minute_span=minute_span_for(slos),
            hour_span=hour_span_for(slos),
            now=now,
        )
        # Status rows of SLOs no longer evaluated here (now reading another source) are stale.
        evaluated_ids = set(ids) | set(failed) | set(sourced_ids)
        stale = sorted(set(repository.status_errors(session)) - evaluated_ids)
        repository.delete_statuses(session, stale)
        alerts = sync_alert_rows(
            session, [*ids, *sourced_ids], [*slos, *sourced], now, keep=set(failed)
        )
        loaded = _Loaded(
            ids=ids,
            keys=keys,
            slos=tuple(slos),
            grid=grid,
            row_of_sli=row_of_sli,
            slo_rows=rows,
            single_index=[i for i, s in enumerate(slos) if needs_single_evaluation(s)],
            batch_index=np.zeros(0, dtype=np.int64),
            plan=make_plan((), np.zeros(0, dtype=np.int64)),
            batch_ids=[],
            batch_keys=[],
            alerts=alerts,
            batch_alerts=BatchAlerts([], np.zeros((0, 0), np.bool_), np.zeros((0, 0), np.bool_)),
            failed=failed,
            stored_errors=repository.status_errors(session),
        )
        loaded.plan_batch([i for i, s in enumerate(slos) if not needs_single_evaluation(s)])
        self._loaded = loaded
        self._last_read = now
        current = minute_index(now.timestamp())
        future = events_service.bucket_rows(
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
        changes = self._due(events_service.changed_since(session, since=since), loaded.grid)
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
            buckets = events_service.bucket_rows(
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
        self, changes: events_service.BucketRows, grid: CountGrid
    ) -> events_service.BucketRows:
        """Changes whose bucket has begun, with earlier pending ones; later ones wait."""
        newest = grid.current_minute * MINUTE
        if not self._pending and not bool((changes.start > newest).any()):
            return changes  # the usual case, kept vectorised
        merged = dict(self._pending)
        for change in changes:
            merged[(change.sli_id, change.resolution, change.start)] = (change.good, change.total)
        self._pending = {key: value for key, value in merged.items() if key[2] > newest}
        return events_service.BucketRows.from_rows(
            [(*key, *value) for key, value in merged.items() if key[2] <= newest]
        )

    # -- evaluating ----------------------------------------------------------------------

    def _evaluate_batch(self, loaded: _Loaded, now: datetime) -> BatchResult | None:
        """Every batch SLO at once; if that raises, find the SLOs at fault one by one, mark
        them failing (until the SLO set changes) and evaluate the others at once again."""
        if not loaded.batch_ids:
            return None
        try:
            return evaluate_batch(loaded.plan, loaded.grid, now)
        except Exception as exc:
            log.warning("batch evaluation failed (%s); evaluating SLOs one by one", exc)
            at_fault = self._isolate(loaded, now)
            if not at_fault:
                raise  # not the fault of any one SLO: the tick fails and the worker retries
        kept = [i for i in loaded.batch_index.tolist() if loaded.ids[i] not in at_fault]
        loaded.plan_batch(kept)
        return evaluate_batch(loaded.plan, loaded.grid, now) if kept else None

    def _isolate(self, loaded: _Loaded, now: datetime) -> set[int]:
        """Evaluate each batch SLO alone; record those that fail; return their ids."""
        at_fault: set[int] = set()
        for position in loaded.batch_index.tolist():
            slo_id, key = loaded.ids[position], loaded.keys[position]
            try:
                _evaluate_from_grid(loaded, position, now)
            except EvaluationFailed as exc:
                loaded.failed[slo_id] = Failure(slo_id, key, exc.problem)
                at_fault.add(slo_id)
        return at_fault

    def _evaluate_singles(
        self, session: Session, loaded: _Loaded, now: datetime
    ) -> tuple[list[Figures], list[Failure]]:
        singles: list[Figures] = []
        failures: list[Failure] = []
        for position in loaded.single_index:
            slo_id, slo = loaded.ids[position], loaded.slos[position]
            try:
                status = _evaluate_single(session, loaded, position, now)
            except EvaluationFailed as exc:
                failures.append(Failure(slo_id, loaded.keys[position], exc.problem))
                continue
            singles.append(figures_from_status(slo_id, slo.objective, status))
        return singles, failures

    # -- storing -------------------------------------------------------------------------

    def _store(
        self,
        session: Session,
        loaded: _Loaded,
        result: BatchResult | None,
        singles: list[Figures],
        report: TickReport,
        now: datetime,
    ) -> None:
        parts: list[StatusBatch] = []
        if result is not None:
            parts.append(batch_statuses(loaded.batch_ids, loaded.plan, result, now))
        if singles:
            parts.append(single_statuses(singles))
        # A failing SLO's row is rewritten only when its error changes; otherwise only
        # evaluated_at moves.
        stored = loaded.stored_errors
        changed = [f for f in report.failures if stored.get(f.slo_id) != f.error]
        unchanged = [f.slo_id for f in report.failures if stored.get(f.slo_id) == f.error]
        if changed:
            parts.append(failing_statuses(changed))
        statuses = parts[0] if len(parts) == 1 else StatusBatch.concat(parts)
        repository.write_statuses(session, statuses, at=now)
        repository.touch_statuses(session, unchanged, at=now)
        stored.update(zip(statuses.slo_id, statuses.error, strict=True))
        if self._last_history is None or now - self._last_history >= self.history_interval:
            repository.append_history(session, statuses, at=now)
            self._last_history = now
        batch = (
            None
            if result is None
            else BatchTick(
                loaded.batch_alerts, loaded.plan, result, loaded.batch_ids, loaded.batch_keys
            )
        )
        report.transitions = record_transitions(
            session, batch=batch, singles=singles, cache=loaded.alerts, now=now
        )


def _evaluate_from_grid(loaded: _Loaded, position: int, now: datetime) -> SLOStatus:
    """One SLO from the grid's buckets, alone; EvaluationFailed when it raises."""
    times, good, total = loaded.grid.buckets_of(int(loaded.slo_rows[position]))
    return evaluate_or_fail(loaded.slos[position], EventSeries.from_counts(times, good, total), now)


def _evaluate_single(session: Session, loaded: _Loaded, position: int, now: datetime) -> SLOStatus:
    """One SLO the batch path does not cover.

    Timeslice SLOs read their stored buckets for the whole window, so their slices keep the
    resolution stored (1-minute buckets last WATCHKEEPER_MINUTE_RETENTION_DAYS); the grid
    holds only hours beyond its minute ring.
    """
    slo = loaded.slos[position]
    if slo.sli.is_sliced:
        return evaluate_or_fail(slo, series_for(session, slo=slo, at=now), now)
    return _evaluate_from_grid(loaded, position, now)


__all__ = ["Evaluator", "Failure", "TickReport", "Transition", "figures_from_status"]
