"""Sloth specs into Watchkeeper SLOs.

Two shapes with the same content: the file format (``version: "prometheus/v1"``) and the
Kubernetes resource (``apiVersion: sloth.slok.dev/v1``, ``kind: PrometheusServiceLevel``,
content under ``spec``). Field names are read as either spelling Sloth has used
(``error_query`` / ``errorQuery``, ``page_alert`` / ``pageAlert``). Objectives are percents.
Sloth specs have no window: every SLO gets the loader's default period (Sloth's 30d).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from types import MappingProxyType
from typing import TypeVar

from watchkeeper.core.duration import format_duration
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
from watchkeeper.core.windows import default_alert_windows, longest_alert_window
from watchkeeper.specs.cursor import Cursor
from watchkeeper.specs.fields import (
    ParsedSLO,
    check_query,
    check_window_placeholder,
    check_window_range,
    ratio_from_percent,
    read_labels,
    read_name,
)

VERSION = "prometheus/v1"
CRD_API_VERSION = "sloth.slok.dev/v1"
CRD_KIND = "PrometheusServiceLevel"
SPEC_FIELDS = ("version", "service", "labels", "slos")
CRD_FIELDS = ("apiVersion", "kind", "metadata", "spec")
CRD_SPEC_FIELDS = ("service", "labels", "slos", "sloPlugins")
SLO_FIELDS = ("name", "objective", "description", "labels", "sli", "alerting", "plugins")
SLI_FIELDS = ("events", "raw", "plugin")
EVENTS_FIELDS = ("error_query", "errorQuery", "total_query", "totalQuery")
RAW_FIELDS = ("error_ratio_query", "errorRatioQuery")
ALERTING_FIELDS = (
    "name",
    "labels",
    "annotations",
    "page_alert",
    "pageAlert",
    "ticket_alert",
    "ticketAlert",
)
ALERT_FIELDS = ("disable", "labels", "annotations")
PLUGINS_UNSUPPORTED = "Sloth SLO plugins are not supported; Watchkeeper generates the rules itself"

T = TypeVar("T")


def _either(
    cursor: Cursor, keys: tuple[str, str], convert: Callable[[Cursor], T | None], *, required: bool
) -> tuple[T | None, Cursor | None]:
    """Read a field Sloth spells two ways (snake_case in files, camelCase in the CRD)."""
    first, second = keys
    if cursor.has(first) and cursor.has(second):
        cursor.error_at(second, f"give {first} or {second}, not both")
    key = second if cursor.has(second) and not cursor.has(first) else first
    at = cursor.get(key)
    if at is None:
        if required:
            cursor.error_at(first, "is required")
        return None, None
    return convert(at), at


def parse_sloth(doc: Cursor, *, crd: bool, period: timedelta) -> list[ParsedSLO]:
    """The SLOs of one Sloth document (file format, or the CRD when ``crd``)."""
    body = doc
    if crd:
        doc.fields(CRD_FIELDS)
        kind = doc.read("kind", Cursor.text, required=True)
        if kind is not None and kind != CRD_KIND:
            doc.error_at("kind", f"must be {CRD_KIND} for {CRD_API_VERSION}, not {kind!r}")
        metadata = doc.get("metadata")
        if metadata is not None:
            metadata.entries()
        spec = doc.require("spec")
        if spec is None or not spec.fields(CRD_SPEC_FIELDS):
            return []
        body = spec
        if body.has("sloPlugins"):
            body.error_at("sloPlugins", PLUGINS_UNSUPPORTED)
    else:
        doc.fields(SPEC_FIELDS)
    service = body.read("service", read_name, required=True)
    labels = body.read("labels", read_labels) or {}
    slos = body.require("slos", " (a list of SLOs)")
    items = slos.items() if slos is not None else None
    if items == []:
        body.error_at("slos", "must list at least one SLO")
    # Out of range is reported once here; the SLOs are still read for their own problems.
    in_range = check_window_range(
        body, RollingWindow(period), what="the SLO period given to Sloth specs (--period)"
    )
    longest = longest_alert_window(default_alert_windows(period))
    if in_range and period < longest:
        body.error(
            f"the SLO period ({format_duration(period)}) is shorter than the longest default "
            f"alert window ({format_duration(longest)})"
        )
    results = [_read_slo(item, service, labels, period) for item in items or []]
    return [parsed for parsed in results if parsed is not None]


def _read_slo(
    item: Cursor, service: str | None, labels: dict[str, str], period: timedelta
) -> ParsedSLO | None:
    mark = item.mark()
    if not item.fields(SLO_FIELDS):
        return None
    name = item.read("name", read_name, required=True)
    objective = item.read("objective", _read_percent_objective, required=True)
    description = item.read("description", Cursor.text) or ""
    own_labels = item.read("labels", read_labels) or {}
    if item.has("plugins"):
        item.error_at("plugins", PLUGINS_UNSUPPORTED)
    sli_at = item.require("sli")
    queries, kind = _read_sli(sli_at) if sli_at is not None else (None, None)
    alerting_at = item.get("alerting")
    alerting = _read_alerting(alerting_at) if alerting_at is not None else Alerting()
    if (
        not item.clean_since(mark)
        or service is None
        or name is None
        or objective is None
        or queries is None
        or kind is None
        or alerting is None
    ):
        return None
    slo = SLO(
        service=service,
        name=name,
        sli=SLI(name=f"{service}-{name}", kind=kind, source=SourceKind.PROMETHEUS, queries=queries),
        objective=objective,
        window=RollingWindow(period),
        alerting=alerting,
        description=description,
        labels=MappingProxyType({**labels, **own_labels}),
    )
    return ParsedSLO(slo, item.get("name") or item)


def _read_percent_objective(cursor: Cursor) -> float | None:
    value = cursor.number()
    if value is None:
        return None
    if not 0 < value < 100:
        cursor.error(
            f"must be a percent between 0 and 100 (exclusive), e.g. 99.9; not {cursor.value!r}"
        )
        return None
    return ratio_from_percent(value)


def _read_sli(cursor: Cursor) -> tuple[PromQueries | None, SLIKind | None]:
    if not cursor.fields(SLI_FIELDS):
        return None, None
    given = [key for key in SLI_FIELDS if cursor.has(key)]
    if len(given) != 1:
        cursor.error(
            f"must hold exactly one of events, raw or plugin ({', '.join(given) or 'none'})"
        )
        return None, None
    if given[0] == "plugin":
        cursor.error_at(
            "plugin",
            "Sloth SLI plugins are not supported; write the PromQL as sli.events "
            "(error_query, total_query) or sli.raw (error_ratio_query)",
        )
        return None, None
    at = cursor.get(given[0])
    assert at is not None
    mark = at.mark()
    if given[0] == "raw":
        if not at.fields(RAW_FIELDS):
            return None, None
        query, query_at = _either(
            at, ("error_ratio_query", "errorRatioQuery"), _read_query, required=True
        )
        if query is not None and query_at is not None:
            check_query(query_at, query)
        if query is None or not at.clean_since(mark):
            return None, None
        return PromQueries(raw_error_ratio=query), SLIKind.RAW
    if not at.fields(EVENTS_FIELDS):
        return None, None
    bad, bad_at = _either(at, ("error_query", "errorQuery"), _read_query, required=True)
    total, total_at = _either(at, ("total_query", "totalQuery"), _read_query, required=True)
    for query, query_at in ((bad, bad_at), (total, total_at)):
        if query is not None and query_at is not None:
            check_window_placeholder(query_at, query)
            check_query(query_at, query)
    if bad is None or total is None or not at.clean_since(mark):
        return None, None
    return PromQueries(bad=bad, total=total), SLIKind.RATIO


def _read_query(cursor: Cursor) -> str | None:
    value = cursor.text()
    if value is not None and not value.strip():
        cursor.error("must not be empty")
        return None
    return value


def _read_alerting(cursor: Cursor) -> Alerting | None:
    mark = cursor.mark()
    if not cursor.fields(ALERTING_FIELDS):
        return None
    name = cursor.read("name", Cursor.text)
    labels = cursor.read("labels", read_labels) or {}
    annotations = cursor.read("annotations", read_labels) or {}
    page, _ = _either(
        cursor,
        ("page_alert", "pageAlert"),
        lambda c: _read_alert(c, labels, annotations),
        required=False,
    )
    ticket, _ = _either(
        cursor,
        ("ticket_alert", "ticketAlert"),
        lambda c: _read_alert(c, labels, annotations),
        required=False,
    )
    if not cursor.clean_since(mark):
        return None
    default = AlertTarget(
        labels=MappingProxyType(labels), annotations=MappingProxyType(annotations)
    )
    return Alerting(page=page or default, ticket=ticket or default, name=name)


def _read_alert(
    cursor: Cursor, labels: dict[str, str], annotations: dict[str, str]
) -> AlertTarget | None:
    """A page or ticket alert; the alerting-level labels and annotations apply to both."""
    mark = cursor.mark()
    if not cursor.fields(ALERT_FIELDS):
        return None
    disable = cursor.read("disable", Cursor.boolean) or False
    own_labels = cursor.read("labels", read_labels) or {}
    own_annotations = cursor.read("annotations", read_labels) or {}
    if not cursor.clean_since(mark):
        return None
    return AlertTarget(
        enabled=not disable,
        labels=MappingProxyType({**labels, **own_labels}),
        annotations=MappingProxyType({**annotations, **own_annotations}),
    )
