"""What an evaluation tick stores for each SLO: its figures, as rows ready to write.

A status row holds each burn-rate window's good and total counts with the objective; burn
rates and per-window SLIs are computed from them when read (:func:`window_figures`), with
the same array functions as the evaluation, so they read back bit for bit. The batch path
turns a BatchResult into rows column by column, because a tick stores 10,000 of them; SLOs
evaluated one by one become a :class:`Figures` record first.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray

from watchkeeper.core.batch import BatchPlan, BatchResult
from watchkeeper.core.budget import sli_ratio
from watchkeeper.core.burn_rate import burn_rate
from watchkeeper.core.duration import format_duration
from watchkeeper.core.evaluation import SLOStatus
from watchkeeper.slo.repository import StatusBatch


class AlertFigure(NamedTuple):
    """One burn-rate alert of one SLO as a tick evaluated it."""

    severity: str
    long_seconds: int
    short_seconds: int
    factor: float
    firing: bool
    long_burn_rate: float | None
    short_burn_rate: float | None


@dataclass(frozen=True)
class Figures:
    """One SLO's figures from a one-SLO evaluation (SLOs the batch path does not cover)."""

    slo_id: int
    slo_key: str
    at: datetime
    objective: float
    good: float
    total: float
    sli: float | None
    remaining: float | None
    window_counts: dict[str, tuple[float, float]]  # burn-rate window -> (good, total)
    exhaustion_at: datetime | None
    alerts: list[AlertFigure]


class Failure(NamedTuple):
    """An SLO that cannot be evaluated, and why."""

    slo_id: int
    slo_key: str
    error: str


def figures_from_status(slo_id: int, objective: float, status: SLOStatus) -> Figures:
    """Storage figures from a one-SLO evaluation."""
    return Figures(
        slo_id=slo_id,
        slo_key=status.slo_key,
        at=status.at,
        objective=objective,
        good=status.good,
        total=status.total,
        sli=status.sli,
        remaining=status.error_budget_remaining,
        window_counts={
            format_duration(w): (c.good, c.total) for w, c in sorted(status.window_counts.items())
        },
        exhaustion_at=status.exhaustion_at,
        alerts=[
            AlertFigure(
                severity=a.severity.value,
                long_seconds=int(a.long.total_seconds()),
                short_seconds=int(a.short.total_seconds()),
                factor=a.factor,
                firing=a.firing,
                long_burn_rate=a.long_burn_rate,
                short_burn_rate=a.short_burn_rate,
            )
            for a in status.alerts
        ],
    )


def window_figures(
    counts: Mapping[str, Sequence[float]], objective: float
) -> tuple[dict[str, float | None], dict[str, float | None]]:
    """Burn rate and SLI of every window from its stored (good, total), None without events.

    The same array functions the evaluation uses, in the same order, so the figures read
    back are the very floats the evaluation computed.
    """
    labels = list(counts)
    good = np.array([counts[label][0] for label in labels], dtype=np.float64)
    total = np.array([counts[label][1] for label in labels], dtype=np.float64)
    burn = _none_if_nan(burn_rate(total - good, total, objective))
    sli = _none_if_nan(sli_ratio(good, total))
    return dict(zip(labels, burn, strict=True)), dict(zip(labels, sli, strict=True))


def many_window_figures(
    counts: Sequence[Mapping[str, Sequence[float]]], objectives: Sequence[float]
) -> list[tuple[dict[str, float | None], dict[str, float | None]]]:
    """:func:`window_figures` of many rows, one array operation per set of window labels
    (elementwise, so each float is the one :func:`window_figures` gives)."""
    found: list[tuple[dict[str, float | None], dict[str, float | None]]] = [({}, {})] * len(counts)
    by_labels: dict[tuple[str, ...], list[int]] = {}
    for position, row in enumerate(counts):
        by_labels.setdefault(tuple(row), []).append(position)
    for labels, positions in by_labels.items():
        if not labels:
            continue
        pairs = np.array(
            [[counts[p][label] for label in labels] for p in positions], dtype=np.float64
        )
        good, total = pairs[:, :, 0], pairs[:, :, 1]
        objective = np.array([objectives[p] for p in positions], dtype=np.float64)[:, None]
        burns = burn_rate(total - good, total, objective)
        slis = sli_ratio(good, total)
        for index, position in enumerate(positions):
            found[position] = (
                dict(zip(labels, _none_if_nan(burns[index]), strict=True)),
                dict(zip(labels, _none_if_nan(slis[index]), strict=True)),
            )
    return found


def _none_if_nan(values: NDArray[np.float64]) -> list[float | None]:
    """The values as Python floats, None where NaN (no data)."""
    listed: list[float | None] = values.tolist()
    if np.isnan(values).any():
        listed = [None if v != v else v for v in listed]  # v != v only for NaN
    return listed


def _count_text(value: float) -> str:
    """A count as JSON: integral counts (all of them, in practice) without a decimal point."""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def counts_json(
    labels: Sequence[str], good: NDArray[np.float64], total: NDArray[np.float64]
) -> list[str]:
    """Row i as ``{labels[j]: [good[i, j], total[i, j]]}`` JSON text.

    Built from one template rather than a dict per row: counts are integers, which format
    several times faster than the ratios they determine (a tick writes 10,000 rows).
    """
    template = "{" + ", ".join(f"{json.dumps(label)}: [%s, %s]" for label in labels) + "}"
    pairs = np.empty((good.shape[0], 2 * len(labels)), dtype=np.float64)
    if not pairs.size:
        return [template] * good.shape[0]
    pairs[:, 0::2] = good
    pairs[:, 1::2] = total
    listed: Sequence[Sequence[object]]
    if np.array_equal(pairs, np.trunc(pairs)) and float(np.abs(pairs).max()) < 2.0**53:
        listed = pairs.astype(np.int64).tolist()
    else:  # never for counts of events or slices; kept exact all the same
        listed = [[_count_text(v) for v in row] for row in pairs.tolist()]
    return [template % tuple(row) for row in listed]


def batch_statuses(
    slo_ids: Sequence[int], plan: BatchPlan, result: BatchResult, now: datetime
) -> StatusBatch:
    """Status rows of every SLO of a batch result, ``slo_ids`` by slot."""
    labels = [format_duration(w) for w in plan.burn_windows]
    seconds = result.exhaustion_seconds
    exhaustion: list[datetime | None] = [None] * len(slo_ids)
    # An exhaustion beyond the calendar (a very slow burn) stays None.
    latest = (datetime.max.replace(tzinfo=now.tzinfo) - now).total_seconds()
    due = np.flatnonzero(np.isfinite(seconds) & (seconds < latest))
    for slot, after in zip(due.tolist(), seconds[due].tolist(), strict=True):
        with contextlib.suppress(OverflowError):  # rounding at the very edge of the calendar
            exhaustion[slot] = now + timedelta(seconds=after)
    return StatusBatch(
        slo_id=list(slo_ids),
        objective=plan.objectives.tolist(),
        good=result.good.tolist(),
        total=result.total.tolist(),
        sli=_none_if_nan(result.sli),
        budget_remaining=_none_if_nan(result.budget_remaining),
        window_counts=list(counts_json(labels, result.window_good, result.window_total)),
        exhaustion_at=exhaustion,
        error=[None] * len(slo_ids),
    )


def single_statuses(figures: Sequence[Figures]) -> StatusBatch:
    """Status rows of SLOs evaluated one by one."""
    return StatusBatch(
        slo_id=[f.slo_id for f in figures],
        objective=[f.objective for f in figures],
        good=[f.good for f in figures],
        total=[f.total for f in figures],
        sli=[f.sli for f in figures],
        budget_remaining=[f.remaining for f in figures],
        window_counts=[
            "{"
            + ", ".join(
                f"{json.dumps(label)}: [{_count_text(good)}, {_count_text(total)}]"
                for label, (good, total) in f.window_counts.items()
            )
            + "}"
            for f in figures
        ],
        exhaustion_at=[f.exhaustion_at for f in figures],
        error=[None] * len(figures),
    )


def failing_statuses(failures: Sequence[Failure]) -> StatusBatch:
    """Status rows of failing SLOs: the error, and no figures."""
    nothing: list[None] = [None] * len(failures)
    return StatusBatch(
        slo_id=[f.slo_id for f in failures],
        objective=list(nothing),
        good=list(nothing),
        total=list(nothing),
        sli=list(nothing),
        budget_remaining=list(nothing),
        window_counts=list(nothing),
        exhaustion_at=list(nothing),
        error=[f.error for f in failures],
    )
