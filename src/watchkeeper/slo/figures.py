"""What an evaluation tick stores for each SLO: its figures, as rows ready to write.

The batch path turns a BatchResult into status rows column by column (JSON text built once
per row from the float arrays, no dict per SLO), because a tick stores 10,000 of them; SLOs
evaluated one by one become a :class:`Figures` record first.
"""

from __future__ import annotations

import contextlib
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray

from watchkeeper.core.batch import BatchPlan, BatchResult
from watchkeeper.core.budget import sli_ratio
from watchkeeper.core.duration import format_duration
from watchkeeper.core.evaluation import SLOStatus
from watchkeeper.slo.repository import StatusBatch
from watchkeeper.slo.schemas import window_slis_of


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
    good: float
    total: float
    sli: float | None
    remaining: float | None
    burn_rates: dict[str, float | None]
    window_slis: dict[str, float | None]
    exhaustion_at: datetime | None
    alerts: list[AlertFigure]


class Failure(NamedTuple):
    """An SLO that cannot be evaluated, and why."""

    slo_id: int
    slo_key: str
    error: str


def figures_from_status(slo_id: int, status: SLOStatus) -> Figures:
    """Storage figures from a one-SLO evaluation."""
    return Figures(
        slo_id=slo_id,
        slo_key=status.slo_key,
        at=status.at,
        good=status.good,
        total=status.total,
        sli=status.sli,
        remaining=status.error_budget_remaining,
        burn_rates={format_duration(w): v for w, v in status.burn_rates.items()},
        window_slis=window_slis_of(status),
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


def _none_if_nan(values: NDArray[np.float64]) -> list[float | None]:
    """The values as Python floats, None where NaN (no data)."""
    listed: list[float | None] = values.tolist()
    if np.isnan(values).any():
        listed = [None if v != v else v for v in listed]  # v != v only for NaN
    return listed


def _json_number(value: float) -> str:
    """A float as JSON: shortest round-trip text, null for NaN (no data) and infinities."""
    return repr(value) if math.isfinite(value) else "null"


def json_objects(labels: Sequence[str], values: NDArray[np.float64]) -> list[str]:
    """Row i of ``values`` as a JSON object ``{labels[j]: values[i, j]}`` (NaN as null).

    Equal to ``json.dumps`` of the same dict, built without a dict per row.
    """
    template = "{" + ", ".join(f"{json.dumps(label)}: %s" for label in labels) + "}"
    width = len(labels)
    texts = [_json_number(v) for v in values.ravel().tolist()]
    return [template % tuple(texts[i : i + width]) for i in range(0, len(texts), width)]


def batch_statuses(
    slo_ids: Sequence[int], plan: BatchPlan, result: BatchResult, now: datetime
) -> StatusBatch:
    """Status rows of every SLO of a batch result, ``slo_ids`` by slot."""
    labels = [format_duration(w) for w in plan.burn_windows]
    seconds = result.exhaustion_seconds
    exhaustion: list[datetime | None] = [None] * len(slo_ids)
    for slot in np.flatnonzero(np.isfinite(seconds)).tolist():
        # An exhaustion beyond the calendar (a very slow burn) stays None.
        with contextlib.suppress(OverflowError):
            exhaustion[slot] = now + timedelta(seconds=float(seconds[slot]))
    count = len(slo_ids)
    return StatusBatch(
        slo_id=list(slo_ids),
        good=result.good.tolist(),
        total=result.total.tolist(),
        sli=_none_if_nan(result.sli),
        budget_remaining=_none_if_nan(result.budget_remaining),
        burn_rates=list(json_objects(labels, result.burn)),
        window_slis=list(json_objects(labels, sli_ratio(result.window_good, result.window_total))),
        exhaustion_at=exhaustion,
        error=[None] * count,
    )


def single_statuses(figures: Sequence[Figures]) -> StatusBatch:
    """Status rows of SLOs evaluated one by one."""
    return StatusBatch(
        slo_id=[f.slo_id for f in figures],
        good=[f.good for f in figures],
        total=[f.total for f in figures],
        sli=[f.sli for f in figures],
        budget_remaining=[f.remaining for f in figures],
        burn_rates=[json.dumps(f.burn_rates) for f in figures],
        window_slis=[json.dumps(f.window_slis) for f in figures],
        exhaustion_at=[f.exhaustion_at for f in figures],
        error=[None] * len(figures),
    )


def failing_statuses(failures: Sequence[Failure]) -> StatusBatch:
    """Status rows of failing SLOs: the error, and no figures."""
    nothing: list[None] = [None] * len(failures)
    return StatusBatch(
        slo_id=[f.slo_id for f in failures],
        good=list(nothing),
        total=list(nothing),
        sli=list(nothing),
        budget_remaining=list(nothing),
        burn_rates=list(nothing),
        window_slis=list(nothing),
        exhaustion_at=list(nothing),
        error=[f.error for f in failures],
    )
