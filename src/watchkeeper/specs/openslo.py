"""OpenSLO v1 (``apiVersion: openslo/v1``) into Watchkeeper SLOs.

Objects are collected from every document loaded together, then resolved: an SLO may name an
SLI, AlertPolicy, AlertCondition, AlertNotificationTarget or DataSource defined in any file.
Metric sources of ``type: watchkeeper`` read the built-in event store, where event rows name
the SLI by its ``metadata.name``; ``type: prometheus`` sources carry PromQL in
``spec.query`` (or ``spec.promql``); any other type is catalogued (specs/openslo_sli.py).
What OpenSLO has no field for (owner, tier, policy, maintenance, alert targets, names that
are not RFC 1123 labels) travels in ``watchkeeper.dev/...`` annotations.
"""

from __future__ import annotations

from collections.abc import Callable
from types import MappingProxyType
from typing import Literal, TypeVar

from watchkeeper.core.slo import SLO, Alerting, AlertWindow
from watchkeeper.core.windows import nominal_period
from watchkeeper.specs.cursor import Cursor
from watchkeeper.specs.fields import (
    NAME_PATTERN,
    NAME_RULE,
    ParsedSLO,
    check_alerts_fit,
    read_alerting,
    read_maintenance,
    read_name,
    read_sli_name,
    read_tier,
)
from watchkeeper.specs.openslo_objectives import (
    MetricDraft,
    MetricShape,
    build_sli,
    metric_shape,
    objective_name,
    read_budgeting_method,
    read_objective_item,
)
from watchkeeper.specs.openslo_parts import (
    OBJECT_FIELDS,
    SOURCE_ANNOTATION,
    Metadata,
    json_cursor,
    read_condition_object,
    read_label,
    read_metadata,
    read_time_window,
    watchkeeper_annotations,
)
from watchkeeper.specs.openslo_sli import SLIReader, windowed_count_query
from watchkeeper.specs.problems import did_you_mean

__all__ = ["KINDS", "OpenSLOObjects", "windowed_count_query"]

KINDS = (
    "SLO",
    "SLI",
    "Service",
    "AlertPolicy",
    "AlertCondition",
    "AlertNotificationTarget",
    "DataSource",
)
SLO_SPEC_FIELDS = (
    "description",
    "service",
    "indicator",
    "indicatorRef",
    "timeWindow",
    "budgetingMethod",
    "objectives",
    "alertPolicies",
)
POLICY_SPEC_FIELDS = (
    "description",
    "alertWhenNoData",
    "alertWhenResolved",
    "alertWhenBreaching",
    "conditions",
    "notificationTargets",
)
SLO_ANNOTATIONS = ("owner", "tier", "policy", "maintenance", "alerting", "name")
# An SLI whose Watchkeeper name (the event-store key) is not an RFC 1123 label keeps it here.
SLI_ANNOTATIONS = ("name",)
T = TypeVar("T")


class OpenSLOObjects:
    """The OpenSLO objects of one load, registered by kind and name, resolved together."""

    def __init__(self) -> None:
        self._named: dict[str, dict[str, Cursor]] = {kind: {} for kind in KINDS if kind != "SLO"}
        self._metadata: dict[int, Metadata] = {}
        self._data_source_types: dict[str, str | None] = {}
        # DataSource -> the Watchkeeper Prometheus source it stands for (its annotation).
        self._source_names: dict[str, str] = {}
        self._conditions: dict[str, AlertWindow | None] = {}
        self._policies: dict[str, tuple[AlertWindow, ...] | None] = {}
        self._slis: dict[str, MetricDraft | None] = {}
        self._sli_reader = SLIReader(self._lookup, self._data_source_types, self._source_names)

    def add(self, doc: Cursor) -> bool:
        """Register one ``openslo/v1`` document; True when it is an SLO to build later."""
        doc.fields(OBJECT_FIELDS)
        kind = doc.read("kind", Cursor.text, required=True)
        if kind is None:
            return False
        if kind not in KINDS:
            doc.error_at(
                "kind",
                f"unknown OpenSLO kind {kind!r}; expected one of {', '.join(KINDS)}"
                f"{did_you_mean(kind, KINDS)}",
            )
            return False
        metadata = read_metadata(doc.require("metadata"))
        self._metadata[id(doc)] = metadata
        if kind == "SLO":
            return True
        # An object with an invalid name is still registered (and so read and checked).
        name = metadata.name or metadata.written_name
        if name is not None:
            registry = self._named[kind]
            first = registry.get(name)
            if first is not None:
                where = f"{first.context.file}:{first.line}, document {first.context.document}"
                (doc.get("metadata") or doc).error(
                    f"{kind} {name!r} is defined twice (first in {where})"
                )
            else:
                registry[name] = doc
        return False

    def resolve(self) -> None:
        """Read every registered object once, in dependency order, reporting its problems."""
        for name, doc in self._named["DataSource"].items():
            spec = doc.require("spec")
            source_type = None
            if spec is not None and spec.fields(("description", "type", "connectionDetails")):
                source_type = spec.read("type", Cursor.text, required=True)
            self._data_source_types[name] = source_type
            source_name = _watchkeeper_source(doc)
            if source_name is not None:
                self._source_names[name] = source_name
        for kind in ("Service", "AlertNotificationTarget"):
            for doc in self._named[kind].values():
                spec = doc.get("spec")
                allowed = ("description",) if kind == "Service" else ("description", "target")
                if spec is not None and spec.fields(allowed):
                    spec.read("description", Cursor.text)
        for name, doc in self._named["AlertCondition"].items():
            self._conditions[name] = read_condition_object(doc)
        for name, doc in self._named["AlertPolicy"].items():
            self._policies[name] = self._read_policy(doc)
        for name, doc in self._named["SLI"].items():
            spec = doc.require("spec")
            sli_name = _sli_name(self._metadata[id(doc)]) or name
            self._slis[name] = (
                self._sli_reader.read_sli(sli_name, spec)
                if spec is not None and sli_name is not None
                else None
            )

    # -- references ----------------------------------------------------------------------

    def _lookup(self, ref: Cursor, kind: str) -> str | None:
        name = read_label(ref)
        if name is None:
            return None
        if name not in self._named[kind]:
            ref.error(
                f"refers to {kind} {name!r}, which is not among the loaded documents"
                f"{did_you_mean(name, self._named[kind])}"
            )
            return None
        return name

    def _inline(self, item: Cursor, kind: str) -> bool:
        if not item.fields(OBJECT_FIELDS):
            return False
        written = item.read("kind", Cursor.text)
        if written is not None and written != kind:
            item.error_at("kind", f"must be {kind} here, not {written!r}")
            return False
        return True

    # -- alert policies ------------------------------------------------------------------

    def _read_policy(self, obj: Cursor) -> tuple[AlertWindow, ...] | None:
        mark = obj.mark()
        spec = obj.require("spec")
        if spec is None or not spec.fields(POLICY_SPEC_FIELDS):
            return None
        spec.read("description", Cursor.text)
        for key in ("alertWhenNoData", "alertWhenResolved", "alertWhenBreaching"):
            spec.read(key, Cursor.boolean)
        windows: list[AlertWindow | None] = []
        conditions = spec.require("conditions")
        items = conditions.items() if conditions is not None else None
        if items == []:
            spec.error_at("conditions", "must hold at least one condition")
        for item in items or []:
            ref = item.get("conditionRef")
            if ref is not None:
                item.fields(("conditionRef",))
                name = self._lookup(ref, "AlertCondition")
                windows.append(self._conditions.get(name) if name is not None else None)
            elif self._inline(item, "AlertCondition"):
                windows.append(read_condition_object(item))
        targets = spec.get("notificationTargets")
        for item in (targets.items() or []) if targets is not None else []:
            ref = item.get("targetRef")
            if ref is not None:
                item.fields(("targetRef",))
                self._lookup(ref, "AlertNotificationTarget")
            else:
                self._inline(item, "AlertNotificationTarget")
        if not obj.clean_since(mark) or None in windows:
            return None
        return tuple(w for w in windows if w is not None)

    # -- SLOs ----------------------------------------------------------------------------

    def build_slos(self, doc: Cursor) -> list[ParsedSLO]:
        """The SLOs of one SLO document: one per objective."""
        mark = doc.mark()
        metadata = self._metadata[id(doc)]
        name_at = doc.get("metadata")
        name_at = (name_at.get("name") if name_at is not None else None) or doc
        spec = doc.require("spec")
        if spec is None or not spec.fields(SLO_SPEC_FIELDS):
            return []
        service = spec.read("service", read_name, required=True)
        description = spec.read("description", Cursor.text) or ""
        metric = self._slo_indicator(spec)
        shape = metric.shape if metric is not None else self._declared_shape(spec)
        window_at = spec.require("timeWindow")
        window = read_time_window(window_at) if window_at is not None else None
        method = spec.read("budgetingMethod", read_budgeting_method, required=True)
        windows = self._slo_alert_windows(spec)
        extras = watchkeeper_annotations(metadata, SLO_ANNOTATIONS)
        period = nominal_period(window) if window is not None else None
        alerting_at = extras.get("alerting")
        alerting_json = json_cursor(alerting_at) if alerting_at is not None else None
        alerting = (
            read_alerting(alerting_json, period, allow_windows=False)
            if alerting_json is not None
            else Alerting()
        )
        maintenance_at = extras.get("maintenance")
        maintenance_json = json_cursor(maintenance_at) if maintenance_at is not None else None
        maintenance = read_maintenance(maintenance_json) if maintenance_json is not None else ()
        own_name = _annotation(extras, "name", read_name)
        owner = _annotation(extras, "owner", Cursor.text)
        tier = _annotation(extras, "tier", read_tier)
        policy = _annotation(extras, "policy", read_name)
        objectives_at = spec.require("objectives")
        items = objectives_at.items() if objectives_at is not None else None
        if items == []:
            spec.error_at("objectives", "must hold at least one objective")
        objectives = [read_objective_item(item, method, shape) for item in items or []]
        if window_at is not None and window is not None and windows is not False:
            check_alerts_fit(window_at, window, windows)
        if (
            not doc.clean_since(mark)
            or metadata.name is None
            or service is None
            or metric is None
            or window is None
            or method is None
            or windows is False
            or alerting is None
            or maintenance is None
        ):
            return []
        alerting = Alerting(
            alerting.page, alerting.ticket, windows, alerting.min_events, alerting.name
        )
        results: list[ParsedSLO] = []
        for index, objective in enumerate(objectives):
            if objective is None:
                continue
            name = objective_name(
                own_name or metadata.name, objective, index, several=len(objectives) > 1
            )
            if not NAME_PATTERN.fullmatch(name):
                name_at.error(f"{name!r} is not a valid SLO name ({NAME_RULE})")
                continue
            slo = SLO(
                service=service,
                name=name,
                sli=build_sli(metric, method, objective),
                objective=objective.target,
                window=window,
                alerting=alerting,
                description=description,
                owner=owner,
                tier=tier,
                labels=MappingProxyType(dict(metadata.labels)),
                maintenance=maintenance or (),
                policy=policy,
            )
            results.append(ParsedSLO(slo, name_at))
        return results

    def _slo_indicator(self, spec: Cursor) -> MetricDraft | None:
        inline, ref = spec.get("indicator"), spec.get("indicatorRef")
        if inline is not None and ref is not None:
            spec.error_at("indicatorRef", "give indicator or indicatorRef, not both")
            return None
        if ref is not None:
            name = self._lookup(ref, "SLI")
            return self._slis.get(name) if name is not None else None
        if inline is None:
            spec.error("needs indicator (an inline SLI) or indicatorRef")
            return None
        if not self._inline(inline, "SLI"):
            return None
        metadata = read_metadata(inline.require("metadata"))
        sli_spec = inline.require("spec")
        sli_name = _sli_name(metadata)
        if sli_name is None or sli_spec is None:
            return None
        return self._sli_reader.read_sli(sli_name, sli_spec)

    def _declared_shape(self, spec: Cursor) -> MetricShape | None:
        """The metric shape of the SLO's indicator when it could not be read."""
        inline, ref = spec.get("indicator"), spec.get("indicatorRef")
        if inline is not None:
            return metric_shape(inline.get("spec"))
        name = ref.value if ref is not None else None
        doc = self._named["SLI"].get(name) if isinstance(name, str) else None
        return metric_shape(doc.get("spec")) if doc is not None else None

    def _slo_alert_windows(self, spec: Cursor) -> tuple[AlertWindow, ...] | Literal[False] | None:
        """The windows of the SLO's alert policies; None for none (defaults), False if invalid."""
        policies = spec.get("alertPolicies")
        items = policies.items() if policies is not None else None
        if not items:
            return None if policies is None or items == [] else False
        windows: list[AlertWindow] = []
        valid = True
        for item in items:
            ref = item.get("alertPolicyRef")
            if ref is not None:
                item.fields(("alertPolicyRef",))
                name = self._lookup(ref, "AlertPolicy")
                found = self._policies.get(name) if name is not None else None
            else:
                found = self._read_policy(item) if self._inline(item, "AlertPolicy") else None
            if found is None:
                valid = False
            else:
                windows.extend(found)
        return tuple(windows) if valid else False


def _sli_name(metadata: Metadata) -> str | None:
    """The Watchkeeper name of an SLI object: ``watchkeeper.dev/name``, else metadata.name."""
    extras = watchkeeper_annotations(metadata, SLI_ANNOTATIONS)
    return _annotation(extras, "name", read_sli_name) or metadata.name


def _annotation(
    extras: dict[str, Cursor], key: str, convert: Callable[[Cursor], T | None]
) -> T | None:
    at = extras.get(key)
    return convert(at) if at is not None else None


def _watchkeeper_source(doc: Cursor) -> str | None:
    """The Watchkeeper source a DataSource names in its ``watchkeeper.dev/source`` annotation
    (written by ``slo convert --to openslo``); other DataSources leave the default source."""
    metadata = doc.get("metadata")
    annotations = metadata.get("annotations") if metadata is not None else None
    if annotations is None or not isinstance(annotations.value, dict):
        return None
    value = annotations.value.get(SOURCE_ANNOTATION)
    return value if isinstance(value, str) and value.strip() else None
