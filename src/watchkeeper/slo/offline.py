"""Offline evaluation (``slo eval``): specs plus an SLI data file, no server, no database.

Events are counted exactly by their own timestamps into ``[at - w, at)``: no bucketing.
"""

from __future__ import annotations

import difflib
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np

from watchkeeper.core.evaluation import SLOStatus, evaluate
from watchkeeper.core.series import EventSeries
from watchkeeper.core.slo import SLI, SLO, SLIKind
from watchkeeper.errors import InvalidInput
from watchkeeper.events.datafile import read_rows


@dataclass(frozen=True)
class OfflineResult:
    """Statuses of the evaluable SLOs, and notes on those that were not."""

    statuses: list[tuple[SLO, SLOStatus]]
    skipped: list[str]
    ignored_slis: list[str]


@dataclass
class _Columns:
    times: list[float]
    good: list[int]
    total: list[int]
    values: list[float]
    lines: list[int]


def _series(sli: SLI, columns: _Columns, path: Path) -> EventSeries:
    if sli.uses_observations:
        if columns.good:
            raise InvalidInput(
                f"{path}:{columns.lines[0]}: SLI {sli.name!r} is a threshold SLI: "
                "rows need a 'value', not good/total"
            )
        threshold = sli.threshold if sli.threshold is not None else 0.0
        return EventSeries.from_observations(
            np.array(columns.times, dtype=np.float64),
            np.array(columns.values, dtype=np.float64),
            sli.operator,
            threshold,
        )
    if columns.values:
        raise InvalidInput(
            f"{path}:{columns.lines[0]}: SLI {sli.name!r} counts events: "
            "rows need 'good' and 'total', not a 'value'"
        )
    return EventSeries.from_counts(
        np.array(columns.times, dtype=np.float64),
        np.array(columns.good, dtype=np.int64),
        np.array(columns.total, dtype=np.int64),
    )


def evaluate_file(
    slos: tuple[SLO, ...], data: Path, *, at: datetime, ignore_unknown: bool = False
) -> OfflineResult:
    """Evaluate every SLO at ``at`` from the events in ``data`` (CSV or JSONL)."""
    by_name = {slo.sli.name: slo.sli for slo in slos}
    columns: dict[str, _Columns] = defaultdict(lambda: _Columns([], [], [], [], []))
    unknown: dict[str, int] = {}
    for row in read_rows(data):
        if row.sli not in by_name:
            unknown.setdefault(row.sli, row.line)
            continue
        column = columns[row.sli]
        column.times.append(row.time)
        column.lines.append(row.line)
        if row.value is not None:
            column.values.append(row.value)
        else:
            column.good.append(row.good or 0)
            column.total.append(row.total or 0)
    if unknown and not ignore_unknown:
        name, line = next(iter(unknown.items()))
        close = difflib.get_close_matches(name, list(by_name), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        others = f" and {len(unknown) - 1} more unknown SLI names" if len(unknown) > 1 else ""
        raise InvalidInput(
            f"{data}:{line}: unknown SLI {name!r}{hint}{others}; the specs declare: "
            f"{', '.join(sorted(by_name))} (use --ignore-unknown to skip such rows)"
        )
    series = {name: _series(by_name[name], column, data) for name, column in columns.items()}
    statuses: list[tuple[SLO, SLOStatus]] = []
    skipped: list[str] = []
    for slo in slos:
        if slo.sli.kind is SLIKind.RAW:
            skipped.append(f"{slo.key}: raw error-ratio SLIs are evaluated by Prometheus only")
            continue
        source = series.get(slo.sli.name, EventSeries.empty())
        statuses.append((slo, evaluate(slo, source, at)))
    return OfflineResult(statuses, skipped, sorted(unknown))
