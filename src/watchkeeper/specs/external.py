"""SLIs of monitoring systems Watchkeeper does not read (Datadog, CloudWatch, New Relic, ...).

OpenSLO allows any ``metricSource.type``. Watchkeeper evaluates its own event store and
Prometheus; an SLO reading anything else is *catalogued*: validated, stored, listed and
exported with its source type and metric definition kept as written, but never evaluated
(no figures; the deploy gate counts it as "no data"). In the native format such an SLI is
``source: external`` with ``external: {type: Datadog, metric: {...}}``, where ``metric`` is
the OpenSLO SLI ``spec`` (``ratioMetric`` or ``thresholdMetric``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from watchkeeper.core.slo import ExternalMetric, SLIKind
from watchkeeper.specs.cursor import Cursor, describe

EXTERNAL_FIELDS = ("type", "metric")
METRIC_KINDS = ("ratioMetric", "thresholdMetric")


def plain_json(cursor: Cursor) -> Any:
    """The value under ``cursor`` as plain JSON data (dicts, lists, text, numbers, booleans,
    null); each value JSON cannot hold is reported and the result is None."""
    mark = cursor.mark()
    value = _plain(cursor)
    return value if cursor.clean_since(mark) else None


def _plain(cursor: Cursor) -> Any:
    value = cursor.value
    if isinstance(value, Mapping):
        result: dict[str, Any] = {}
        for key in value:
            if not isinstance(key, str):
                cursor.error(f"field names must be text, not {key!r}")
                continue
            child = cursor.get(key)
            result[key] = None if child is None else _plain(child)
        return result
    if isinstance(value, list):
        return [_plain(item) for item in cursor.items() or []]
    if value is None or isinstance(value, str | bool | int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            cursor.error("must be a finite number")
        return value
    cursor.error(f"must be text, a number, true/false, a list or a mapping, not {describe(value)}")
    return None


def read_external(cursor: Cursor, kind: SLIKind, observations: bool) -> ExternalMetric | None:
    """The native ``external`` block: the source ``type`` and the OpenSLO ``metric`` spec.

    The metric must be the shape ``kind`` reads: a ``thresholdMetric`` for observations, a
    ``ratioMetric`` otherwise (with ``raw`` exactly for raw SLIs).
    """
    mark = cursor.mark()
    if not cursor.fields(EXTERNAL_FIELDS):
        return None
    source_type = cursor.read("type", Cursor.text, required=True)
    if source_type is not None and not source_type.strip():
        cursor.error_at("type", "must not be empty")
    metric_at = cursor.require("metric", " (the OpenSLO SLI spec: ratioMetric or thresholdMetric)")
    metric = plain_json(metric_at) if metric_at is not None else None
    if metric_at is not None and metric is not None:
        if (
            not isinstance(metric, dict)
            or len(metric) != 1
            or next(iter(metric)) not in METRIC_KINDS
        ):
            metric_at.error("must hold exactly one of ratioMetric or thresholdMetric")
        else:
            shape = next(iter(metric))
            wanted = "thresholdMetric" if observations else "ratioMetric"
            if shape != wanted:
                metric_at.error(f"a {kind.value} SLI reads a {wanted}, not a {shape}")
            elif shape == "ratioMetric":
                body = metric[shape]
                has_raw = isinstance(body, dict) and body.get("raw") is not None
                if has_raw != (kind is SLIKind.RAW):
                    metric_at.error(
                        "a ratioMetric with raw is a raw SLI (kind: raw); good/bad with total "
                        "is any other kind"
                    )
    if not cursor.clean_since(mark) or source_type is None or metric is None:
        return None
    return ExternalMetric.of(source_type, metric)
