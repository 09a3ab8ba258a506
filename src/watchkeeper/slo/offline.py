"""Offline evaluation (``slo eval``): specs plus an SLI data file, no server, no database.

Events are counted exactly by their own timestamps into ``[at - w, at)``: no bucketing.
"""

from __future__ import annotations

import difflib
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np

from watchkeeper.core.evaluation import SLOStatus, evaluate
from watchkeeper.core.series import EventSeries
from watchkeeper.core.slo import SLI, SLO, SLIKind
from watchkeeper.errors import InvalidInput
from watchkeeper.events.datafile import read_rows
from watchkeeper.slo.exceptions import check_evaluation_time


@dataclass(frozen=True)
class OfflineResult:
    """Statuses of the evaluable SLOs, and notes on those that were not."""

    statuses: list[tuple[SLO, SLOStatus]]
    skipped: list[str]
    ignored_slis: list[str]


@dataclass
class _Columns:
    times: list[float] = field(default_factory=list)
    good: list[int] = field(default_factory=list)
    total: list[int] = field(default_factory=list)
    count_lines: list[int] = field(default_factory=list)
    value_times: list[float] = field(default_factory=list)
    values: list[float] = field(default_factory=list)
    value_lines: list[int] = field(default_factory=list)


def _series(sli: SLI, column: _Columns) -> EventSeries:
    """The SLI's own rows: values judged against its threshold, or good/total counts."""
    if sli.uses_observations:
        threshold = sli.threshold if sli.threshold is not None else 0.0
        return EventSeries.from_observations(
            np.array(column.value_times, dtype=np.float64),
            np.array(column.values, dtype=np.float64),
            sli.operator,
            threshold,
        )
    return EventSeries.from_counts(
        np.array(column.times, dtype=np.float64),
        np.array(column.good, dtype=np.int64),
        np.array(column.total, dtype=np.int64),
    )


def _check_row_kinds(name: str, column: _Columns, slis: list[SLI], path: Path) -> None:
    """Every row must be read by some SLO: values by a threshold SLI, counts by another."""
    observes = any(s.uses_observations for s in slis)
    counts = any(not s.uses_observations for s in slis)
    if column.value_lines and not observes:
        raise InvalidInput(
            f"{path}:{column.value_lines[0]}: SLI {name!r} counts events: "
            "rows need 'good' and 'total', not a 'value'"
        )
    if column.count_lines and not counts:
        raise InvalidInput(
            f"{path}:{column.count_lines[0]}: SLI {name!r} is a threshold SLI: "
            "rows need a 'value', not good/total"
        )


def evaluate_file(
    slos: tuple[SLO, ...], data: Path, *, at: datetime, ignore_unknown: bool = False
) -> OfflineResult:
    """Evaluate every SLO at ``at`` from the events in ``data`` (CSV or JSONL)."""
    check_evaluation_time(at)
    by_name: dict[str, list[SLI]] = defaultdict(list)
    for slo in slos:
        by_name[slo.sli.name].append(slo.sli)
    columns: dict[str, _Columns] = defaultdict(_Columns)
    unknown: dict[str, int] = {}
    for row in read_rows(data):
        if row.sli not in by_name:
            unknown.setdefault(row.sli, row.line)
            continue
        column = columns[row.sli]
        if row.value is not None:
            column.value_times.append(row.time)
            column.values.append(row.value)
            column.value_lines.append(row.line)
        else:
            column.times.append(row.time)
            column.good.append(row.good or 0)
            column.total.append(row.total or 0)
            column.count_lines.append(row.line)
    if unknown and not ignore_unknown:
        name, line = next(iter(unknown.items()))
        close = difflib.get_close_matches(name, list(by_name), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        others = f" and {len(unknown) - 1} more unknown SLI names" if len(unknown) > 1 else ""
        raise InvalidInput(
            f"{data}:{line}: unknown SLI {name!r}{hint}{others}; the specs declare: "
            f"{', '.join(sorted(by_name))} (use --ignore-unknown to skip such rows)"
        )
    for name, found in columns.items():
        _check_row_kinds(name, found, by_name[name], data)
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
        rows = columns.get(slo.sli.name)
        source = EventSeries.empty() if rows is None else _series(slo.sli, rows)
        statuses.append((slo, evaluate(slo, source, at)))
    return OfflineResult(statuses, skipped, sorted(unknown))
