"""Readers for a native SLI block: its kind, its source and the fields each combination needs.

PromQL of Prometheus sources is parsed here, at validation, so a query that Prometheus would
refuse is reported on its own line before anything is applied.
"""

from __future__ import annotations

import re
from enum import StrEnum

from watchkeeper.core.slo import SLI, HistogramSLI, Operator, PromQueries, SLIKind, SourceKind
from watchkeeper.specs.cursor import Cursor
from watchkeeper.specs.external import read_external
from watchkeeper.specs.fields import (
    check_query,
    check_window_placeholder,
    read_sli_name,
    read_slice,
    read_slice_target,
)

SLI_FIELDS = (
    "name",
    "kind",
    "source",
    "counts",
    "threshold",
    "operator",
    "slice",
    "slice_target",
    "slice_kind",
    "prometheus",
    "external",
)
PROMETHEUS_FIELDS = (
    "source",
    "good",
    "bad",
    "total",
    "error_ratio",
    "histogram",
    "threshold",
    "selector",
)
_METRIC_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_SOURCE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,62}")


class Counts(StrEnum):
    """What event-store rows of a ratio SLI count besides the total."""

    GOOD = "good"
    BAD = "bad"


class SliceKind(StrEnum):
    """What a timeslice's ratio is computed from."""

    RATIO = "ratio"
    THRESHOLD = "threshold"


def read_sli(cursor: Cursor, default_name: str) -> SLI | None:
    """A native SLI block; checks that kind, source and their fields fit together."""
    mark = cursor.mark()
    if not cursor.fields(SLI_FIELDS):
        return None
    name = cursor.read("name", read_sli_name) or default_name
    kind = cursor.read("kind", lambda c: c.choice(SLIKind)) or SLIKind.RATIO
    source = cursor.read("source", lambda c: c.choice(SourceKind)) or SourceKind.WATCHKEEPER
    counts = cursor.read("counts", lambda c: c.choice(Counts)) or Counts.GOOD
    threshold = cursor.read("threshold", Cursor.number)
    operator = cursor.read("operator", lambda c: c.choice(Operator)) or Operator.LTE
    slice_duration = cursor.read("slice", read_slice)
    slice_target = cursor.read("slice_target", read_slice_target)
    slice_kind = cursor.read("slice_kind", lambda c: c.choice(SliceKind)) or SliceKind.RATIO

    sliced = kind in (SLIKind.TIMESLICES, SLIKind.RATIO_TIMESLICES)
    observations = kind is SLIKind.THRESHOLD or (sliced and slice_kind is SliceKind.THRESHOLD)
    if observations:
        if not cursor.has("threshold"):
            cursor.error_at("threshold", "is required: good when value <operator> threshold")
    else:
        for key in ("threshold", "operator"):
            if cursor.has(key):
                cursor.error_at(
                    key, "only applies to kind threshold, or timeslices with slice_kind threshold"
                )
    if sliced:
        cursor.require("slice", f" for {kind.value} (e.g. 1m)")
        if kind is SLIKind.TIMESLICES:
            cursor.require("slice_target", " for timeslices (e.g. 0.95)")
        elif cursor.has("slice_target"):
            cursor.error_at(
                "slice_target", "ratio_timeslices averages the slices' ratios; it has no target"
            )
    else:
        for key in ("slice", "slice_target", "slice_kind"):
            if cursor.has(key):
                cursor.error_at(key, "only applies to kind timeslices or ratio_timeslices")

    queries = None
    external = None
    if source is SourceKind.EXTERNAL:
        for key in ("prometheus", "counts"):
            if cursor.has(key):
                cursor.error_at(key, "does not apply to source: external")
        external_at = cursor.require("external", " for source: external ({type, metric})")
        if external_at is not None:
            external = read_external(external_at, kind, observations)
    elif cursor.has("external"):
        cursor.error_at("external", "only applies to source: external")
    if source is SourceKind.WATCHKEEPER:
        if kind is SLIKind.RAW:
            cursor.error_at(
                "kind",
                "raw SLIs need source: prometheus (the event store keeps counts, not ratios)",
            )
        if cursor.has("prometheus"):
            cursor.error_at("prometheus", "PromQL only applies to source: prometheus")
        if counts is Counts.BAD:
            cursor.error_at(
                "counts",
                "event rows always carry good and total (good = total - bad); "
                "remove counts: bad and send good counts",
            )
    elif source is SourceKind.PROMETHEUS:
        if cursor.has("counts"):
            cursor.error_at(
                "counts", "applies to the event store; with Prometheus give prometheus.bad"
            )
        if observations:
            cursor.error_at(
                "kind" if kind is SLIKind.THRESHOLD else "slice_kind",
                "threshold SLIs compare raw observations from the event store; with Prometheus "
                "use a ratio whose good query counts a histogram bucket (le=...)",
            )
        prometheus = cursor.require("prometheus", " for source: prometheus")
        if prometheus is not None:
            queries = read_prometheus(prometheus, raw=kind is SLIKind.RAW)
    if not cursor.clean_since(mark):
        return None
    return SLI(
        name=name,
        kind=kind,
        source=source,
        threshold=threshold if observations else None,
        operator=operator if observations else Operator.LTE,
        slice_duration=slice_duration if sliced else None,
        slice_target=slice_target if kind is SLIKind.TIMESLICES else None,
        slice_kind=SLIKind(slice_kind.value) if sliced else SLIKind.RATIO,
        queries=queries,
        external=external,
    )


def _query(cursor: Cursor, key: str) -> str | None:
    value = cursor.read(key, Cursor.text)
    if value is not None and not value.strip():
        cursor.error_at(key, "must not be empty")
        return None
    return value


def read_prometheus(cursor: Cursor, *, raw: bool) -> PromQueries | None:
    """PromQL of a Prometheus SLI: good or bad with total, error_ratio for raw SLIs, or a
    histogram with a threshold; ``source`` picks a configured Prometheus by name."""
    mark = cursor.mark()
    if not cursor.fields(PROMETHEUS_FIELDS):
        return None
    source = cursor.read("source", Cursor.text)
    if source is not None and not _SOURCE_NAME.fullmatch(source):
        cursor.error_at("source", "must be a source name such as prometheus or mimir-eu")
    if cursor.has("histogram"):
        histogram = _read_histogram(cursor, raw=raw)
        if not cursor.clean_since(mark) or histogram is None:
            return None
        good_sum, total_sum = histogram_queries(histogram)
        return PromQueries(good=good_sum, total=total_sum, source=source, histogram=histogram)
    for key in ("threshold", "selector"):
        if cursor.has(key):
            cursor.error_at(key, "only applies with histogram")
    good, bad = _query(cursor, "good"), _query(cursor, "bad")
    total, error_ratio = _query(cursor, "total"), _query(cursor, "error_ratio")
    if raw:
        cursor.require("error_ratio", " for raw SLIs")
        for key in ("good", "bad", "total"):
            if cursor.has(key):
                cursor.error_at(key, "raw SLIs take only error_ratio")
    else:
        if cursor.has("error_ratio"):
            cursor.error_at("error_ratio", "only applies to kind raw")
        if cursor.has("good") and cursor.has("bad"):
            cursor.error_at("bad", "give good or bad, not both")
        elif not cursor.has("good") and not cursor.has("bad"):
            cursor.error_at("good", "is required (or bad), with total; or give histogram")
        cursor.require("total", " (the denominator)")
        for key, query in (("good", good), ("bad", bad), ("total", total)):
            child = cursor.get(key)
            if child is not None and query is not None:
                check_window_placeholder(child, query)
    for key, query in (
        ("good", good),
        ("bad", bad),
        ("total", total),
        ("error_ratio", error_ratio),
    ):
        child = cursor.get(key)
        if child is not None and query is not None:
            check_query(child, query)
    if not cursor.clean_since(mark):
        return None
    return PromQueries(good=good, bad=bad, total=total, raw_error_ratio=error_ratio, source=source)


def _read_histogram(cursor: Cursor, *, raw: bool) -> HistogramSLI | None:
    """``histogram`` (base name or ``..._bucket``), ``threshold`` (a bucket bound) and an
    optional ``selector`` ({label matchers})."""
    if raw:
        cursor.error_at("histogram", "raw SLIs take only error_ratio")
    for key in ("good", "bad", "total", "error_ratio"):
        if cursor.has(key):
            cursor.error_at(key, "give histogram with threshold, or queries, not both")
    metric = cursor.read("histogram", Cursor.text)
    if metric is not None:
        metric = metric.strip().removesuffix("_bucket")
        if not _METRIC_NAME.fullmatch(metric):
            cursor.error_at(
                "histogram", "must be a metric name such as http_request_duration_seconds"
            )
            metric = None
    threshold = cursor.read("threshold", Cursor.number)
    cursor.require("threshold", " with histogram: the bucket bound (le) good requests stay under")
    if threshold is not None and not threshold > 0:
        cursor.error_at("threshold", "must be a bucket bound greater than 0")
    selector = (cursor.read("selector", Cursor.text) or "").strip()
    if selector and not (selector.startswith("{") and selector.endswith("}")):
        cursor.error_at("selector", 'must be label matchers in braces, e.g. {job="api"}')
    elif selector and metric is not None:
        child = cursor.get("selector")
        if child is not None:
            check_query(child, f"{metric}_count{selector}")
    if metric is None or threshold is None or not threshold > 0:
        return None
    return HistogramSLI(metric=metric, threshold=float(threshold), selector=selector)


def bucket_bound(threshold: float) -> str:
    """A matcher of the ``le`` label for ``threshold`` as exporters write it.

    Go clients write whole bounds as ``1``, Python clients as ``1.0``: both are matched.
    """
    if float(threshold).is_integer():
        return f'le=~"{int(threshold)}|{int(threshold)}[.]0"'
    return f'le="{threshold!r}"'


def histogram_queries(histogram: HistogramSLI) -> tuple[str, str]:
    """The good and total PromQL of a histogram SLI (``{{.window}}`` for the range)."""
    inner = histogram.selector.strip()[1:-1].strip().rstrip(",") if histogram.selector else ""
    matchers = f"{inner}, " if inner else ""
    good = (
        f"sum(increase({histogram.metric}_bucket{{{matchers}{bucket_bound(histogram.threshold)}}}"
        "[{{.window}}]))"
    )
    total = f"sum(increase({histogram.metric}_count{histogram.selector}[{{{{.window}}}}]))"
    return good, total
