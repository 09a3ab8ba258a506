"""Offline evaluation (``slo eval``): specs plus an SLI data file, no server, no database.

Events are counted exactly by their own timestamps into ``[at - w, at)``: no bucketing. The
file is checked like an ingest: every bad row, every row of the wrong kind for its SLI and
every unknown SLI name is reported in one InvalidEvents error, before anything is evaluated.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from watchkeeper.core.evaluation import SLOStatus, evaluate
from watchkeeper.core.series import EventSeries
from watchkeeper.core.slo import SLI, SLO, SLIKind
from watchkeeper.events.datafile import read_chunks
from watchkeeper.events.exceptions import ProblemLog
from watchkeeper.events.rows import EventChunk, report_kind_mismatches, tally
from watchkeeper.slo.exceptions import check_evaluation_time

_DECLARED_SHOWN = 10


@dataclass(frozen=True)
class OfflineResult:
    """Statuses of the evaluable SLOs, and notes on those that were not."""

    statuses: list[tuple[SLO, SLOStatus]]
    skipped: list[str]
    ignored_slis: list[str]


@dataclass
class _Columns:
    """One SLI name's rows, as the arrays of each chunk (joined when evaluated)."""

    times: list[NDArray[np.float64]] = field(default_factory=list)
    good: list[NDArray[np.int64]] = field(default_factory=list)
    total: list[NDArray[np.int64]] = field(default_factory=list)
    value_times: list[NDArray[np.float64]] = field(default_factory=list)
    values: list[NDArray[np.float64]] = field(default_factory=list)


def _floats(parts: list[NDArray[np.float64]]) -> NDArray[np.float64]:
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.float64)


def _ints(parts: list[NDArray[np.int64]]) -> NDArray[np.int64]:
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)


def _series(sli: SLI, column: _Columns) -> EventSeries:
    """The SLI's own rows: values judged against its threshold, or good/total counts."""
    if sli.uses_observations:
        threshold = sli.threshold if sli.threshold is not None else 0.0
        return EventSeries.from_observations(
            _floats(column.value_times),
            _floats(column.values),
            sli.operator,
            threshold,
        )
    return EventSeries.from_counts(
        _floats(column.times),
        _ints(column.good),
        _ints(column.total),
    )


class _Reader:
    """Sorts a file's rows by SLI name, noting unknown names and rows of the wrong kind."""

    def __init__(self, slos: tuple[SLO, ...]) -> None:
        by_name: dict[str, list[SLI]] = defaultdict(list)
        for slo in slos:
            by_name[slo.sli.name].append(slo.sli)
        self.declared = sorted(by_name)
        # Every row must be read by some SLO: values by a threshold SLI, counts by another.
        self.observes = {n: any(s.uses_observations for s in slis) for n, slis in by_name.items()}
        self.counts = {n: any(not s.uses_observations for s in slis) for n, slis in by_name.items()}
        self.columns: dict[str, _Columns] = defaultdict(_Columns)
        self.problems = ProblemLog()

    def add(self, chunk: EventChunk) -> None:
        for name, rejected in chunk.rejected.items():
            if name not in self.observes:
                self.problems.add_unknown(
                    name, rejected.rows, rejected.locations, by_index=chunk.by_index
                )
        if len(chunk) == 0:
            return
        known = np.array([name in self.observes for name in chunk.names], dtype=np.bool_)
        observes = np.array([self.observes.get(n, False) for n in chunk.names], dtype=np.bool_)
        counts = np.array([self.counts.get(n, False) for n in chunk.names], dtype=np.bool_)
        row_known = known[chunk.sli]
        if not row_known.all():
            for name, count, places in tally(chunk, ~row_known):
                self.problems.add_unknown(name, count, places, by_index=chunk.by_index)
        is_value = chunk.is_value
        value_rows = row_known & is_value
        count_rows = row_known & ~is_value
        mismatched = (value_rows & ~observes[chunk.sli]) | (count_rows & ~counts[chunk.sli])
        if mismatched.any():
            report_kind_mismatches(chunk, mismatched, self.problems)
        if self.problems.count:
            return  # the file will be refused; keep reading only to report every problem
        for code in np.unique(chunk.sli[row_known]).tolist():
            column = self.columns[chunk.names[code]]
            mine = chunk.sli == code
            values = mine & value_rows
            if values.any():
                column.value_times.append(chunk.time[values])
                column.values.append(chunk.value[values])
            rows = mine & count_rows
            if rows.any():
                column.times.append(chunk.time[rows])
                column.good.append(chunk.good[rows])
                column.total.append(chunk.total[rows])

    def hint(self) -> str:
        shown = ", ".join(self.declared[:_DECLARED_SHOWN])
        rest = len(self.declared) - _DECLARED_SHOWN
        if rest > 0:
            shown += f" and {rest} more"
        return (
            f"the specs declare: {shown or 'no SLI'} (use --ignore-unknown to skip rows naming "
            "other SLIs)"
        )


def evaluate_file(
    slos: tuple[SLO, ...], data: Path, *, at: datetime, ignore_unknown: bool = False
) -> OfflineResult:
    """Evaluate every SLO at ``at`` from the events in ``data`` (CSV or JSONL).

    Raises InvalidEventFile when the file holds no events at all, and InvalidEvents listing
    every bad row and (unless ``ignore_unknown``) every unknown SLI name with its lines.
    """
    check_evaluation_time(at)
    reader = _Reader(slos)
    for chunk in read_chunks(data, problems=reader.problems):
        reader.add(chunk)
    ignored = sorted(reader.problems.unknown)
    if ignore_unknown:
        reader.problems.unknown.clear()
    if reader.problems:
        raise reader.problems.error(str(data), known=reader.declared, hint=reader.hint())
    statuses: list[tuple[SLO, SLOStatus]] = []
    skipped: list[str] = []
    for slo in slos:
        if slo.sli.external is not None:
            skipped.append(
                f"{slo.key}: catalogued only (its SLI reads {slo.sli.external.source_type}, "
                "which Watchkeeper does not evaluate)"
            )
            continue
        if slo.sli.kind is SLIKind.RAW:
            skipped.append(f"{slo.key}: raw error-ratio SLIs are evaluated by Prometheus only")
            continue
        rows = reader.columns.get(slo.sli.name)
        source = EventSeries.empty() if rows is None else _series(slo.sli, rows)
        statuses.append((slo, evaluate(slo, source, at)))
    return OfflineResult(statuses, skipped, ignored)
