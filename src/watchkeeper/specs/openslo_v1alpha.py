"""OpenSLO v1alpha SLOs (``apiVersion: openslo/v1alpha``, ``kind: SLO``), as Sloth reads them.

Only the part of v1alpha Sloth supports: an ``SLO`` whose objectives are ``ratioMetrics``
with Prometheus ``good`` and ``total`` queries (``{{.window}}`` where the range goes), an
objective ``target`` ratio and ``timeWindows`` in days (``count``, ``unit: Day``; the loader's
default period when absent). Each objective is an SLO of its own, named
``<metadata.name>-<objective index>`` as Sloth names it, with no burn-rate alerts (Sloth
writes none for OpenSLO SLOs). Other v1alpha kinds and metric shapes are refused by name.
"""

from __future__ import annotations

from datetime import timedelta

from watchkeeper.core.slo import (
    SLI,
    SLO,
    Alerting,
    AlertTarget,
    PromQueries,
    RollingWindow,
    SLIKind,
    SourceKind,
)
from watchkeeper.specs.cursor import Cursor
from watchkeeper.specs.fields import (
    NAME_PATTERN,
    NAME_RULE,
    ParsedSLO,
    check_query,
    check_window_placeholder,
    check_window_range,
    read_name,
)

API_VERSION = "openslo/v1alpha"
KIND = "SLO"
DOC_FIELDS = ("apiVersion", "kind", "metadata", "spec")
METADATA_FIELDS = ("name", "displayName")
SPEC_FIELDS = ("service", "description", "objectives", "timeWindows", "budgetingMethod")
OBJECTIVE_FIELDS = ("displayName", "ratioMetrics", "target", "value")
RATIO_FIELDS = ("good", "total", "counter", "incremental")
QUERY_FIELDS = ("source", "queryType", "query")
WINDOW_FIELDS = ("count", "unit", "isRolling")
WINDOW_UNIT = "Day"
NO_ALERTS = Alerting(page=AlertTarget(enabled=False), ticket=AlertTarget(enabled=False))


def parse_openslo_v1alpha(doc: Cursor, *, period: timedelta) -> list[ParsedSLO]:
    """The SLOs of one ``openslo/v1alpha`` SLO document: one per objective."""
    mark = doc.mark()
    if not doc.fields(DOC_FIELDS):
        return []
    kind = doc.read("kind", Cursor.text, required=True)
    if kind is not None and kind != KIND:
        doc.error_at("kind", f"only {KIND} is read for {API_VERSION}, not {kind!r}")
        return []
    metadata = doc.require("metadata")
    name = None
    if metadata is not None and metadata.fields(METADATA_FIELDS):
        name = metadata.read("name", read_name, required=True)
        metadata.read("displayName", Cursor.text)
    spec = doc.require("spec")
    if spec is None or not spec.fields(SPEC_FIELDS):
        return []
    service = spec.read("service", read_name, required=True)
    description = spec.read("description", Cursor.text) or ""
    spec.read("budgetingMethod", Cursor.text)
    window = _read_windows(spec.get("timeWindows"), period)
    objectives_at = spec.require("objectives")
    items = objectives_at.items() if objectives_at is not None else None
    if items == []:
        spec.error_at("objectives", "must hold at least one objective")
    objectives = [_read_objective(item) for item in items or []]
    if not doc.clean_since(mark) or name is None or service is None or window is None:
        return []
    name_at = (metadata.get("name") if metadata is not None else None) or doc
    results: list[ParsedSLO] = []
    for index, objective in enumerate(objectives):
        if objective is None:
            continue
        target, queries = objective
        slo_name = f"{name}-{index}"
        if not NAME_PATTERN.fullmatch(slo_name):
            name_at.error(f"{slo_name!r} is not a valid SLO name ({NAME_RULE})")
            continue
        slo = SLO(
            service=service,
            name=slo_name,
            sli=SLI(
                name=f"{service}-{slo_name}",
                kind=SLIKind.RATIO,
                source=SourceKind.PROMETHEUS,
                queries=queries,
            ),
            objective=target,
            window=window,
            alerting=NO_ALERTS,
            description=description,
        )
        results.append(ParsedSLO(slo, name_at))
    return results


def _read_windows(cursor: Cursor | None, period: timedelta) -> RollingWindow | None:
    """The SLO period from ``timeWindows`` (one item, in days), else the default period."""
    if cursor is None:
        return RollingWindow(period)
    items = cursor.items()
    if items is None:
        return None
    if len(items) != 1:
        cursor.error("give exactly one time window")
        return None
    item = items[0]
    if not item.fields(WINDOW_FIELDS):
        return None
    count = item.read("count", Cursor.number, required=True)
    unit = item.read("unit", Cursor.text, required=True)
    item.read("isRolling", Cursor.boolean)
    if unit is not None and unit != WINDOW_UNIT:
        item.error_at("unit", f"must be {WINDOW_UNIT} (as Sloth reads v1alpha), not {unit!r}")
        return None
    if count is None or unit is None:
        return None
    if count != int(count) or count < 1:
        item.error_at("count", f"must be a whole number of days, not {count!r}")
        return None
    window = RollingWindow(timedelta(days=int(count)))
    if not check_window_range(item, window):
        return None
    return window


def _read_objective(item: Cursor) -> tuple[float, PromQueries] | None:
    mark = item.mark()
    if not item.fields(OBJECTIVE_FIELDS):
        return None
    item.read("displayName", Cursor.text)
    item.read("value", Cursor.number)
    target = item.read("target", _read_target, required=True)
    ratio = item.get("ratioMetrics")
    if ratio is None:
        item.error(
            "needs ratioMetrics with good and total Prometheus queries "
            "(the only objective Sloth reads in v1alpha)"
        )
        return None
    queries = _read_ratio(ratio)
    if not item.clean_since(mark) or target is None or queries is None:
        return None
    return target, queries


def _read_target(cursor: Cursor) -> float | None:
    value = cursor.number()
    if value is None:
        return None
    if not 0 < value < 1:
        cursor.error(f"must be a ratio between 0 and 1 (exclusive), e.g. 0.999; not {value!r}")
        return None
    return value


def _read_ratio(cursor: Cursor) -> PromQueries | None:
    mark = cursor.mark()
    if not cursor.fields(RATIO_FIELDS):
        return None
    cursor.read("counter", Cursor.boolean)
    cursor.read("incremental", Cursor.boolean)
    good_at, total_at = cursor.require("good"), cursor.require("total")
    good = _read_query(good_at) if good_at is not None else None
    total = _read_query(total_at) if total_at is not None else None
    if not cursor.clean_since(mark) or good is None or total is None:
        return None
    return PromQueries(good=good, total=total)


def _read_query(cursor: Cursor) -> str | None:
    if not cursor.fields(QUERY_FIELDS):
        return None
    source = cursor.read("source", Cursor.text, required=True)
    query_type = cursor.read("queryType", Cursor.text)
    if source is not None and source != "prometheus":
        cursor.error_at("source", f"must be prometheus, not {source!r}")
        return None
    if query_type is not None and query_type != "promql":
        cursor.error_at("queryType", f"must be promql, not {query_type!r}")
        return None
    query_at = cursor.require("query")
    query = query_at.text() if query_at is not None else None
    if query_at is None or query is None:
        return None
    if not query.strip():
        query_at.error("must not be empty")
        return None
    check_window_placeholder(query_at, query)
    return query if check_query(query_at, query) else None
