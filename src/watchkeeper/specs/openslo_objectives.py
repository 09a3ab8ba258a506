"""OpenSLO objectives: each completes the SLO's indicator into one Watchkeeper SLI.

An OpenSLO SLI says where numbers come from; the objective says what is good (``op`` and
``value`` for threshold metrics, forbidden for ratio metrics as the reference validator
rules), how much must be (``target`` / ``targetPercent``) and, for ``Timeslices``, what
makes a slice good (``timeSliceTarget``, ``timeSliceWindow``); ``RatioTimeslices`` needs only
the ``timeSliceWindow`` (core/timeslices.py). Several objectives give several SLOs.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

from watchkeeper.core.slo import SLI, ExternalMetric, Operator, PromQueries, SLIKind, SourceKind
from watchkeeper.specs.cursor import Cursor
from watchkeeper.specs.fields import ratio_from_percent, read_objective, read_slice_target
from watchkeeper.specs.openslo_parts import read_slice_window
from watchkeeper.specs.problems import did_you_mean

OBJECTIVE_FIELDS = (
    "displayName",
    "op",
    "value",
    "target",
    "targetPercent",
    "timeSliceTarget",
    "timeSliceWindow",
)
BUDGETING_METHODS = ("Occurrences", "Timeslices", "RatioTimeslices")
MetricShape = Literal["ratio", "threshold", "raw"]


@dataclass(frozen=True)
class MetricDraft:
    """What an OpenSLO SLI says before an objective completes it."""

    name: str
    shape: MetricShape
    source: SourceKind
    queries: PromQueries | None = None
    external: ExternalMetric | None = None


@dataclass(frozen=True)
class Objective:
    """One entry of an SLO's ``objectives``."""

    target: float
    operator: Operator | None
    value: float | None
    slice_target: float | None
    slice_window: timedelta | None
    display_name: str | None
    at: Cursor


def read_budgeting_method(cursor: Cursor) -> str | None:
    """``budgetingMethod``: Occurrences, Timeslices or RatioTimeslices."""
    value = cursor.text()
    if value is None:
        return None
    if value not in BUDGETING_METHODS:
        cursor.error(
            f"must be one of {', '.join(BUDGETING_METHODS)}, not {value!r}"
            f"{did_you_mean(value, BUDGETING_METHODS)}"
        )
        return None
    return value


def metric_shape(sli_spec: Cursor | None) -> MetricShape | None:
    """The shape an SLI ``spec`` declares, even when its metric has mistakes (so objectives
    are still checked against it); None when it declares none or both."""
    if sli_spec is None or not isinstance(sli_spec.value, Mapping):
        return None
    ratio, threshold = sli_spec.get("ratioMetric"), sli_spec.get("thresholdMetric")
    if (ratio is None) == (threshold is None):
        return None
    if threshold is not None:
        return "threshold"
    assert ratio is not None
    return "raw" if ratio.has("raw") else "ratio"


def read_objective_item(
    item: Cursor, method: str | None, shape: MetricShape | None
) -> Objective | None:
    """One objective, checked against the budgeting method and the SLI's metric shape."""
    mark = item.mark()
    if not item.fields(OBJECTIVE_FIELDS):
        return None
    display_name = item.read("displayName", Cursor.text)
    target = item.read("target", read_objective)
    percent_at = item.get("targetPercent")
    if percent_at is not None:
        percent = percent_at.number()
        if item.has("target"):
            item.error_at("targetPercent", "give target or targetPercent, not both")
        elif percent is not None and not 0 < percent < 100:
            percent_at.error(
                f"must be a percent between 0 and 100 (exclusive), not {percent_at.value!r}"
            )
        elif percent is not None:
            target = ratio_from_percent(percent)
    elif not item.has("target"):
        item.error("needs target (e.g. 0.999) or targetPercent (e.g. 99.9)")
    operator = item.read("op", lambda c: c.choice(Operator))
    value = item.read("value", Cursor.number)
    slice_target = slice_window = None
    if method == "Timeslices":
        slice_target = item.read("timeSliceTarget", read_slice_target, required=True)
    if method in ("Timeslices", "RatioTimeslices"):
        slice_window = item.read("timeSliceWindow", read_slice_window, required=True)
        if shape == "raw":
            item.error(f"{method} need good/total counts or observations, not a raw ratio")
    if shape == "threshold":
        for key in ("op", "value"):
            item.require(key, " for a thresholdMetric")
    elif shape is not None:
        for key in ("op", "value"):
            if item.has(key):
                item.error_at(key, "only applies to a thresholdMetric; this SLI is a ratioMetric")
    if not item.clean_since(mark) or target is None:
        return None
    return Objective(target, operator, value, slice_target, slice_window, display_name, item)


def objective_name(base: str, objective: Objective, index: int, *, several: bool) -> str:
    """The SLO name: the SLO's own for one objective, else ``<slo>-<displayName or index>``."""
    if not several:
        return base
    slug = re.sub(r"[^a-z0-9\-_.]+", "-", (objective.display_name or "").lower()).strip("-")
    return f"{base}-{slug or index}"


def build_sli(metric: MetricDraft, method: str, objective: Objective) -> SLI:
    """The core SLI an OpenSLO SLI becomes under one objective."""
    observations = metric.shape == "threshold"
    if method == "Timeslices":
        kind = SLIKind.TIMESLICES
    elif method == "RatioTimeslices":
        kind = SLIKind.RATIO_TIMESLICES
    else:
        kind = {"ratio": SLIKind.RATIO, "threshold": SLIKind.THRESHOLD, "raw": SLIKind.RAW}[
            metric.shape
        ]
    sliced = kind in (SLIKind.TIMESLICES, SLIKind.RATIO_TIMESLICES)
    return SLI(
        name=metric.name,
        kind=kind,
        source=metric.source,
        threshold=objective.value if observations else None,
        operator=(objective.operator or Operator.LTE) if observations else Operator.LTE,
        slice_duration=objective.slice_window if sliced else None,
        slice_target=objective.slice_target if kind is SLIKind.TIMESLICES else None,
        slice_kind=SLIKind.THRESHOLD if sliced and observations else SLIKind.RATIO,
        queries=metric.queries,
        external=metric.external,
    )
