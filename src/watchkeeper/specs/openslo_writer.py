"""Write SLOs as OpenSLO v1 documents: Service, SLI, AlertCondition, AlertPolicy and SLO.

SLIs that several SLOs share (same name and definition) become one SLI document referenced
by ``indicatorRef``; an SLI name used with different definitions is written inline in each
SLO instead. Custom alert windows become one AlertPolicy with one AlertCondition each (the
spec allows one condition per policy). Fields OpenSLO lacks go in ``watchkeeper.dev/``
annotations, so reading the output back gives equal SLOs. Object names must be RFC 1123
labels: an SLO or SLI name that is not one is written as a label derived from it, with the
name itself in a ``watchkeeper.dev/name`` annotation; a Service object is written only for
service names that are labels (``spec.service`` carries the name either way). Catalogued
(external) SLIs are written back with their metric definition as it was read.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from typing import Any

from watchkeeper.core.duration import format_duration
from watchkeeper.core.slo import SLI, SLO, CalendarUnit, RollingWindow, SLIKind, SourceKind
from watchkeeper.specs.native import alerting_to_dict, maintenance_to_list
from watchkeeper.specs.openslo_parts import (
    ANNOTATION_PREFIX,
    API_VERSION,
    LABEL_PATTERN,
    SHORT_WINDOW_ANNOTATION,
    SHORT_WINDOW_DIVISOR,
    SOURCE_ANNOTATION,
)

_CALENDAR_SUFFIX = {CalendarUnit.WEEK: "w", CalendarUnit.MONTH: "M", CalendarUnit.QUARTER: "Q"}
# A Monday that starts a month and a quarter: periods align to the unit's start anyway.
_CALENDAR_START = "2024-01-01 00:00:00"


def _object(kind: str, metadata: dict[str, Any], spec: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": API_VERSION, "kind": kind, "metadata": metadata, "spec": spec}


_NOT_LABEL = re.compile(r"[^a-z0-9]+")
_LABEL_LENGTH = 63


def label_for(name: str) -> str:
    """``name`` when it is an RFC 1123 label, else a label derived from it (same name, same
    label): lowercased, other characters as ``-``, cut short, with a hash of the name."""
    if LABEL_PATTERN.fullmatch(name):
        return name
    digest = hashlib.sha256(name.encode("utf-8")).hexdigest()[:8]
    stem = _NOT_LABEL.sub("-", name.lower()).strip("-")[: _LABEL_LENGTH - len(digest) - 1]
    return f"{stem.rstrip('-')}-{digest}" if stem.rstrip("-") else f"x-{digest}"


def _metadata(name: str) -> dict[str, Any]:
    """``metadata`` naming an object ``name``, through an annotation when it is no label."""
    label = label_for(name)
    if label == name:
        return {"name": name}
    return {"name": label, "annotations": {ANNOTATION_PREFIX + "name": name}}


def _source(sli: SLI, query: str | None) -> dict[str, Any]:
    if sli.source is SourceKind.WATCHKEEPER:
        return {"metricSource": {"type": "watchkeeper"}}
    named = sli.queries.source if sli.queries is not None else None
    reference = {"metricSourceRef": label_for(named)} if named else {}
    return {"metricSource": {**reference, "type": "prometheus", "spec": {"query": query}}}


def _data_sources(slos: Sequence[SLO]) -> list[dict[str, Any]]:
    """A DataSource for each named Prometheus source the SLIs read (metricSourceRef)."""
    names = sorted(
        {
            slo.sli.queries.source
            for slo in slos
            if slo.sli.source is SourceKind.PROMETHEUS
            and slo.sli.queries is not None
            and slo.sli.queries.source
        }
    )
    # Where that Prometheus is lives in Watchkeeper's sources file, not in the spec.
    return [
        _object(
            "DataSource",
            {"name": label_for(name), "annotations": {SOURCE_ANNOTATION: name}},
            {"type": "prometheus", "connectionDetails": {}},
        )
        for name in names
    ]


def sli_spec(sli: SLI) -> dict[str, Any]:
    """The OpenSLO SLI ``spec`` of an SLI (thresholds live in the SLO's objective)."""
    if sli.external is not None:
        return sli.external.definition_dict()
    if sli.uses_observations:
        return {"thresholdMetric": _source(sli, None)}
    queries = sli.queries
    if sli.kind is SLIKind.RAW:
        assert queries is not None
        return {"ratioMetric": {"rawType": "failure", "raw": _source(sli, queries.raw_error_ratio)}}
    ratio: dict[str, Any] = {}
    if queries is not None:
        if queries.good is not None:
            ratio["good"] = _source(sli, queries.good)
        if queries.bad is not None:
            ratio["bad"] = _source(sli, queries.bad)
        ratio["total"] = _source(sli, queries.total)
    else:
        ratio["good"] = _source(sli, None)
        ratio["total"] = _source(sli, None)
    return {"ratioMetric": ratio}


def _time_window(slo: SLO) -> dict[str, Any]:
    window = slo.window
    if isinstance(window, RollingWindow):
        return {"duration": format_duration(window.duration), "isRolling": True}
    return {
        "duration": f"{window.count}{_CALENDAR_SUFFIX[window.unit]}",
        "isRolling": False,
        "calendar": {"startTime": _CALENDAR_START, "timeZone": window.timezone},
    }


def _objective(slo: SLO) -> dict[str, Any]:
    sli = slo.sli
    objective: dict[str, Any] = {}
    if sli.uses_observations:
        objective["op"] = sli.operator.value
        objective["value"] = sli.threshold
    objective["target"] = slo.objective
    if sli.kind is SLIKind.TIMESLICES:
        objective["timeSliceTarget"] = sli.slice_target
    if sli.is_sliced:
        assert sli.slice_duration is not None
        objective["timeSliceWindow"] = format_duration(sli.slice_duration)
    return objective


def _budgeting_method(sli: SLI) -> str:
    if sli.kind is SLIKind.TIMESLICES:
        return "Timeslices"
    if sli.kind is SLIKind.RATIO_TIMESLICES:
        return "RatioTimeslices"
    return "Occurrences"


def _annotations(slo: SLO) -> dict[str, str]:
    annotations: dict[str, str] = {}
    for key, value in (("owner", slo.owner), ("tier", slo.tier), ("policy", slo.policy)):
        if value is not None:
            annotations[ANNOTATION_PREFIX + key] = value
    if slo.maintenance:
        annotations[ANNOTATION_PREFIX + "maintenance"] = json.dumps(
            maintenance_to_list(slo.maintenance)
        )
    alerting = alerting_to_dict(slo.alerting, include_windows=False)
    if alerting:
        annotations[ANNOTATION_PREFIX + "alerting"] = json.dumps(alerting)
    return annotations


def _unique(name: str, taken: set[str]) -> str:
    name = label_for(name)
    candidate, index = name, 2
    while candidate in taken:
        candidate, index = f"{name}-{index}", index + 1
    taken.add(candidate)
    return candidate


def openslo_documents(slos: Sequence[SLO]) -> list[dict[str, Any]]:
    """OpenSLO v1 documents for ``slos``: services, data sources, SLIs, alert objects, then
    SLOs."""
    services = list(dict.fromkeys(slo.service for slo in slos))
    documents = [
        _object("Service", {"name": service}, {})
        for service in services
        if LABEL_PATTERN.fullmatch(service)
    ]
    documents += _data_sources(slos)

    specs_by_name: dict[str, list[dict[str, Any]]] = {}
    for slo in slos:
        specs_by_name.setdefault(slo.sli.name, []).append(sli_spec(slo.sli))
    shared = {name for name, specs in specs_by_name.items() if all(s == specs[0] for s in specs)}
    documents += [
        _object("SLI", _metadata(name), specs_by_name[name][0]) for name in sorted(shared)
    ]

    conditions: list[dict[str, Any]] = []
    policies: list[dict[str, Any]] = []
    slo_documents: list[dict[str, Any]] = []
    taken: set[str] = set()
    for slo in slos:
        spec: dict[str, Any] = {}
        if slo.description:
            spec["description"] = slo.description
        spec["service"] = slo.service
        if slo.sli.name in shared:
            spec["indicatorRef"] = label_for(slo.sli.name)
        else:
            spec["indicator"] = {"metadata": _metadata(slo.sli.name), "spec": sli_spec(slo.sli)}
        spec["timeWindow"] = [_time_window(slo)]
        spec["budgetingMethod"] = _budgeting_method(slo.sli)
        spec["objectives"] = [_objective(slo)]
        refs: list[dict[str, str]] = []
        for window in slo.alerting.windows or ():
            base = (
                f"{slo.service}-{slo.name}-{window.severity.value}-{format_duration(window.long)}"
            )
            name = _unique(base, taken)
            metadata: dict[str, Any] = {"name": name}
            if window.short != window.long / SHORT_WINDOW_DIVISOR:
                metadata["annotations"] = {
                    ANNOTATION_PREFIX + SHORT_WINDOW_ANNOTATION: format_duration(window.short)
                }
            condition = {
                "kind": "burnrate",
                "op": "gt",
                "threshold": window.factor,
                "lookbackWindow": format_duration(window.long),
            }
            conditions.append(
                _object(
                    "AlertCondition",
                    metadata,
                    {"severity": window.severity.value, "condition": condition},
                )
            )
            policies.append(
                _object(
                    "AlertPolicy",
                    {"name": name},
                    {"alertWhenBreaching": True, "conditions": [{"conditionRef": name}]},
                )
            )
            refs.append({"alertPolicyRef": name})
        if refs:
            spec["alertPolicies"] = refs
        metadata = _metadata(slo.name)
        if slo.labels:
            metadata["labels"] = dict(slo.labels)
        annotations = {**metadata.pop("annotations", {}), **_annotations(slo)}
        if annotations:
            metadata["annotations"] = annotations
        slo_documents.append(_object("SLO", metadata, spec))
    return documents + conditions + policies + slo_documents
