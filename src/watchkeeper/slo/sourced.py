"""Evaluating SLOs whose counts come from a metrics source (Prometheus) rather than the grid.

``core.evaluation.evaluate`` asks a CountSource for sums over a handful of windows (the SLO
window, every burn window, maintenance cut-outs). :class:`SourceCounts` answers them from a
MetricsSource, each window fetched once (the answers kept), so the same windows asked again
(the deploy gate's rule windows, say) cost nothing. The worker evaluates many SLOs in two
passes: the first only records the windows each SLO needs, all of them are fetched at once
in the source's bounded pool, and the second evaluates from the answers (:func:`windows_needed`).

Sliced SLIs (timeslices) read the SLO window's history at the slice step instead: one range
query per query kind rather than one instant query per slice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

from watchkeeper.core.budget import FloatArray
from watchkeeper.core.evaluation import SLOStatus, evaluate
from watchkeeper.core.series import EventSeries
from watchkeeper.core.slo import SLO, SLIKind
from watchkeeper.core.windows import window_start
from watchkeeper.errors import WatchkeeperError
from watchkeeper.slo.exceptions import EvaluationFailed
from watchkeeper.sources.base import Counts, MetricsSource, Span


@dataclass
class SourceCounts:
    """A CountSource answering any windows of one SLO from a MetricsSource, fetched once."""

    slo: SLO
    source: MetricsSource
    known: dict[Span, Counts] = field(default_factory=dict)

    def sums(self, starts: FloatArray, ends: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Summed (good, total) over each ``[starts[i], ends[i])``."""
        spans = list(zip(np.asarray(starts).tolist(), np.asarray(ends).tolist(), strict=True))
        missing = list(dict.fromkeys(s for s in spans if s not in self.known))
        if missing:
            self.known.update(
                zip(missing, self.source.window_counts(self.slo, missing), strict=True)
            )
        good = np.array([self.known[s][0] for s in spans], dtype=np.float64)
        total = np.array([self.known[s][1] for s in spans], dtype=np.float64)
        return good, total


class _Recorder:
    """A CountSource that answers zeros and remembers the windows asked for."""

    def __init__(self) -> None:
        self.spans: list[Span] = []

    def sums(self, starts: FloatArray, ends: FloatArray) -> tuple[FloatArray, FloatArray]:
        self.spans.extend(zip(np.asarray(starts).tolist(), np.asarray(ends).tolist(), strict=True))
        zeros = np.zeros(np.asarray(starts).shape, dtype=np.float64)
        return zeros, zeros.copy()


def windows_needed(slo: SLO, at: datetime) -> list[Span]:
    """The windows evaluating ``slo`` at ``at`` sums over (none for sliced SLIs)."""
    if slo.sli.is_sliced:
        return []
    recorder = _Recorder()
    evaluate(slo, recorder, at)
    return list(dict.fromkeys(recorder.spans))


def _check(slo: SLO) -> None:
    if slo.sli.kind is SLIKind.RAW and slo.maintenance:
        raise EvaluationFailed(
            slo.key,
            "maintenance windows cannot be cut out of a raw error ratio; remove them or "
            "write the SLI as good/bad and total queries",
        )


def series_from_source(slo: SLO, source: MetricsSource, at: datetime) -> EventSeries:
    """A sliced SLO's history over its window at the slice step."""
    assert slo.sli.slice_duration is not None
    start = window_start(slo.window, at)
    return source.history(slo, start=start, end=at, step=slo.sli.slice_duration)


@dataclass(frozen=True)
class SourcedEvaluation:
    """An SLO evaluated from a source, and the CountSource that answered (for more windows)."""

    status: SLOStatus
    counts: SourceCounts | EventSeries


def evaluate_from(
    slo: SLO, source: MetricsSource, at: datetime, *, known: dict[Span, Counts] | None = None
) -> SourcedEvaluation:
    """Evaluate ``slo`` at ``at`` from ``source`` (``known``: windows already fetched).

    Source errors (SourceUnreachable, QueryFailed) are raised as they are; anything else the
    evaluation raises becomes EvaluationFailed, a fault of this SLO alone.
    """
    _check(slo)
    counts: SourceCounts | EventSeries
    if slo.sli.is_sliced:
        counts = series_from_source(slo, source, at)
    else:
        counts = SourceCounts(slo, source, dict(known or {}))
    try:
        return SourcedEvaluation(evaluate(slo, counts, at), counts)
    except WatchkeeperError:
        raise
    except Exception as exc:
        raise EvaluationFailed(slo.key, f"{type(exc).__name__}: {exc}") from exc
