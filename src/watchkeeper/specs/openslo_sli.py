"""OpenSLO SLIs: ``thresholdMetric`` or ``ratioMetric`` and their metric sources.

Any ``metricSource.type`` is valid OpenSLO. ``watchkeeper`` reads the built-in event store;
``prometheus`` carries PromQL in ``spec.query`` (or ``spec.promql``), parsed when the spec is
validated; every other type (Datadog, CloudWatch, NewRelic, ``Any``, ...) makes the SLI
external: catalogued with its metric definition kept as written (specs/external.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from watchkeeper.core.slo import ExternalMetric, PromQueries, SourceKind
from watchkeeper.specs.cursor import Cursor
from watchkeeper.specs.external import plain_json
from watchkeeper.specs.openslo_objectives import MetricDraft
from watchkeeper.specs.openslo_parts import LABEL_PATTERN, LABEL_RULE
from watchkeeper.specs.promql import WINDOW_PLACEHOLDER, query_problem

SLI_SPEC_FIELDS = ("description", "thresholdMetric", "ratioMetric")
RATIO_METRIC_FIELDS = ("counter", "good", "bad", "total", "rawType", "raw")
METRIC_SOURCE_FIELDS = ("metricSourceRef", "type", "spec")
# Lookup of a referenced object by kind: the name when it is loaded, else None (reported).
Lookup = Callable[[Cursor, str], str | None]

_PLAIN_SELECTOR = re.compile(r"^\s*[A-Za-z_:][A-Za-z0-9_:]*\s*(\{[^{}]*\})?\s*$")


def windowed_count_query(query: str, *, counter: bool) -> str:
    """PromQL counting events over ``{{.window}}`` from an OpenSLO metric query.

    OpenSLO queries name the metric itself (``http_requests_total{code!~"5.."}``), with
    ``counter`` saying whether it is a monotonic counter. Queries that already place
    ``{{.window}}`` are kept as written. Counters become ``increase`` over the window (a range
    selector for a plain selector, a subquery otherwise); other metrics are summed over it.
    """
    if WINDOW_PLACEHOLDER.search(query):
        return query
    if counter:
        if _PLAIN_SELECTOR.match(query):
            return f"sum(increase({query.strip()}[{{{{.window}}}}]))"
        return f"sum(increase(({query.strip()})[{{{{.window}}}}:]))"
    return f"sum(sum_over_time(({query.strip()})[{{{{.window}}}}:]))"


@dataclass(frozen=True)
class Source:
    """One ``metricSource``: its kind, its PromQL (Prometheus), its source type as written
    (or as its DataSource gives it) and its JSON form with the type resolved."""

    kind: SourceKind
    query: str | None
    source_type: str
    written: dict[str, Any]
    # The DataSource a Prometheus query names (its metricSourceRef): Watchkeeper's source name.
    data_source: str | None = None


class SLIReader:
    """Reads OpenSLO SLI specs; ``lookup`` resolves DataSource references."""

    def __init__(
        self,
        lookup: Lookup,
        data_source_types: dict[str, str | None],
        source_names: dict[str, str] | None = None,
    ) -> None:
        self._lookup = lookup
        self._data_source_types = data_source_types
        self._source_names = {} if source_names is None else source_names

    def read_sli(self, name: str, spec: Cursor) -> MetricDraft | None:
        """An SLI ``spec``: what the objectives complete into Watchkeeper SLIs."""
        mark = spec.mark()
        if not spec.fields(SLI_SPEC_FIELDS):
            return None
        spec.read("description", Cursor.text)
        ratio, threshold = spec.get("ratioMetric"), spec.get("thresholdMetric")
        if ratio is not None and threshold is not None:
            spec.error_at("thresholdMetric", "give ratioMetric or thresholdMetric, not both")
            # Both are still read, so their own mistakes are reported in the same pass.
            self._read_ratio(name, ratio, mark)
            self._read_threshold(name, spec, threshold, mark)
            return None
        if threshold is not None:
            return self._read_threshold(name, spec, threshold, mark)
        if ratio is None:
            spec.error("needs ratioMetric or thresholdMetric")
            return None
        return self._read_ratio(name, ratio, mark)

    def _read_threshold(
        self, name: str, spec: Cursor, threshold: Cursor, mark: int
    ) -> MetricDraft | None:
        source = self._read_metric(threshold)
        if source is not None and source.kind is SourceKind.PROMETHEUS:
            threshold.error(
                "threshold metrics compare raw observations from Watchkeeper's event store; "
                "for Prometheus write a ratioMetric whose good query counts a histogram "
                "bucket (le=...)"
            )
        if source is None or not spec.clean_since(mark):
            return None
        if source.kind is SourceKind.EXTERNAL:
            external = ExternalMetric.of(
                source.source_type, {"thresholdMetric": {"metricSource": source.written}}
            )
            return MetricDraft(name, "threshold", SourceKind.EXTERNAL, external=external)
        return MetricDraft(name, "threshold", SourceKind.WATCHKEEPER)

    def _read_metric(self, metric: Cursor) -> Source | None:
        if not metric.fields(("metricSource",)):
            return None
        source = metric.require("metricSource")
        return self._read_source(source) if source is not None else None

    def _read_source(self, source: Cursor) -> Source | None:
        mark = source.mark()
        if not source.fields(METRIC_SOURCE_FIELDS):
            return None
        source_type = source.read("type", Cursor.text)
        ref = source.get("metricSourceRef")
        name = None
        if ref is not None and ref.name(LABEL_PATTERN, LABEL_RULE) is not None:
            name = self._lookup(ref, "DataSource")
            if name is not None:
                source_type = source_type or self._data_source_types.get(name)
        if source_type is None:
            if ref is None:
                source.error(
                    "needs a type (e.g. prometheus, watchkeeper, Datadog) or a metricSourceRef"
                )
            return None
        if not source_type.strip():
            source.error_at("type", "must not be empty")
            return None
        lowered = source_type.lower()
        if lowered == "watchkeeper":
            spec_at = source.get("spec")
            spec = plain_json(spec_at) if spec_at is not None else None
            written = {"type": "watchkeeper", **({"spec": spec} if spec else {})}
            return Source(SourceKind.WATCHKEEPER, None, "watchkeeper", written)
        if lowered != "prometheus":
            spec_at = source.require("spec", f" (the {source_type} query or settings)")
            spec = plain_json(spec_at) if spec_at is not None else None
            if spec_at is not None and spec is not None and not isinstance(spec, dict):
                spec_at.error("must be a mapping")
            if not source.clean_since(mark) or spec is None:
                return None
            return Source(
                SourceKind.EXTERNAL, None, source_type, {"type": source_type, "spec": spec}
            )
        return self._read_prometheus(source, mark, self._source_names.get(name or ""))

    def _read_prometheus(self, source: Cursor, mark: int, data_source: str | None) -> Source | None:
        spec = source.require("spec", " with query: <PromQL>")
        if spec is None or not spec.fields(("query", "promql")):
            return None
        key = "promql" if spec.has("promql") and not spec.has("query") else "query"
        if spec.has("promql") and spec.has("query"):
            spec.error_at("promql", "give query or promql, not both")
        query_at = spec.require(key, " (PromQL)")
        query = query_at.text() if query_at is not None else None
        if query_at is None or query is None:
            return None
        if not query.strip():
            spec.error_at(key, "must not be empty")
            return None
        problem = query_problem(query)
        if problem is not None:
            query_at.error(problem)
        if not source.clean_since(mark):
            return None
        return Source(SourceKind.PROMETHEUS, query, "prometheus", {}, data_source)

    def _read_ratio(self, name: str, ratio: Cursor, mark: int) -> MetricDraft | None:
        if not ratio.fields(RATIO_METRIC_FIELDS):
            return None
        counter = ratio.read("counter", Cursor.boolean)
        parts: dict[str, Source] = {}
        for key in ("good", "bad", "total", "raw"):
            at = ratio.get(key)
            source = self._read_metric(at) if at is not None else None
            if source is not None:
                parts[key] = source
        kinds = {source.kind for source in parts.values()}
        external = SourceKind.EXTERNAL in kinds
        if not external and len(kinds) > 1:
            ratio.error("mixes metric source types; use prometheus or watchkeeper throughout")
        data_sources = {s.data_source for s in parts.values() if s.data_source is not None}
        if len(data_sources) > 1:
            ratio.error("reads several Watchkeeper sources; one SLI's queries go to one Prometheus")
        raw_type = None
        if ratio.has("raw"):
            for key in ("good", "bad", "total"):
                if ratio.has(key):
                    ratio.error_at(key, "cannot be combined with raw")
            raw_type = ratio.read("rawType", Cursor.text, required=True)
            if raw_type is not None and raw_type not in ("success", "failure"):
                ratio.error_at("rawType", f"must be success or failure, not {raw_type!r}")
            raw = parts.get("raw")
            if raw is not None and raw.kind is SourceKind.WATCHKEEPER and not external:
                ratio.error_at(
                    "raw", "raw ratios need a prometheus source (the store keeps counts)"
                )
        else:
            if ratio.has("rawType"):
                ratio.error_at("rawType", "only applies with raw")
            if ratio.has("good") and ratio.has("bad"):
                ratio.error_at("bad", "give good or bad, not both")
            elif not ratio.has("good") and not ratio.has("bad"):
                ratio.error("needs good or bad, with total")
            if external or SourceKind.PROMETHEUS in kinds:
                ratio.require("total", " (the denominator)")
        if not ratio.clean_since(mark):
            return None
        if external:
            return _external_ratio(name, ratio, parts, counter, raw_type)
        if raw_type is not None:
            raw = parts["raw"]
            assert raw.query is not None
            query = raw.query if raw_type == "failure" else f"1 - ({raw.query})"
            return MetricDraft(
                name,
                "raw",
                SourceKind.PROMETHEUS,
                PromQueries(raw_error_ratio=query, source=raw.data_source),
            )
        source_kind = next(iter(kinds), SourceKind.WATCHKEEPER)
        if source_kind is SourceKind.WATCHKEEPER:
            # Event rows carry good and total whichever the spec names (good = total - bad).
            return MetricDraft(name, "ratio", source_kind)
        windowed = {
            key: windowed_count_query(source.query or "", counter=counter is not False)
            for key, source in parts.items()
        }
        queries = PromQueries(
            good=windowed.get("good"),
            bad=windowed.get("bad"),
            total=windowed["total"],
            source=next(iter(data_sources), None),
        )
        return MetricDraft(name, "ratio", source_kind, queries)


def _external_ratio(
    name: str, ratio: Cursor, parts: dict[str, Source], counter: bool | None, raw_type: str | None
) -> MetricDraft:
    """A ratio metric some of whose sources Watchkeeper does not read: kept as written."""
    written: dict[str, Any] = {}
    for key in ratio.value:  # in the order written, so it is written back the same
        source = parts.get(key)
        if key == "counter" and counter is not None:
            written[key] = counter
        elif key == "rawType" and raw_type is not None:
            written[key] = raw_type
        elif source is not None and source.kind is SourceKind.PROMETHEUS:
            # Keep the query exactly as given (not the windowed form Watchkeeper would run).
            query_at = ratio.get(key)
            spec_at = query_at.get("metricSource") if query_at is not None else None
            spec_at = spec_at.get("spec") if spec_at is not None else None
            spec = plain_json(spec_at) if spec_at is not None else {}
            written[key] = {"metricSource": {"type": "prometheus", "spec": spec}}
        elif source is not None:
            written[key] = {"metricSource": source.written}
    types = list(
        dict.fromkeys(s.source_type for s in parts.values() if s.kind is SourceKind.EXTERNAL)
    )
    external = ExternalMetric.of(", ".join(types), {"ratioMetric": written})
    if raw_type is not None:
        return MetricDraft(name, "raw", SourceKind.EXTERNAL, external=external)
    return MetricDraft(name, "ratio", SourceKind.EXTERNAL, external=external)
