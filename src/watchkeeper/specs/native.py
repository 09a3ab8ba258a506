"""The native format (``apiVersion: watchkeeper/v1``): reading documents and writing dicts.

Three kinds: ``ServiceLevels`` (a service with its SLOs, service fields inherited),
``SLO`` (one SLO with its service fields inline: the form stored for an applied SLO) and
``ErrorBudgetPolicy`` (see :mod:`watchkeeper.specs.policies`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

from watchkeeper.core.duration import format_duration
from watchkeeper.core.slo import (
    SLI,
    SLO,
    Alerting,
    AlertTarget,
    MaintenanceWindow,
    RollingWindow,
    SLIKind,
    SourceKind,
    Window,
)
from watchkeeper.core.windows import nominal_period
from watchkeeper.specs.cursor import Cursor, DocumentContext
from watchkeeper.specs.fields import (
    ParsedSLO,
    check_alerts_fit,
    read_alerting,
    read_labels,
    read_maintenance,
    read_name,
    read_objective,
    read_tier,
    read_window,
)
from watchkeeper.specs.policies import policy_from_dict, policy_to_dict
from watchkeeper.specs.problems import Problem, SpecError, did_you_mean
from watchkeeper.specs.sli_fields import read_sli

__all__ = [
    "API_VERSION",
    "Inherited",
    "parse_native_slos",
    "policy_from_dict",
    "policy_to_dict",
    "slo_body_to_dict",
    "slo_from_dict",
    "slo_to_dict",
]

API_VERSION = "watchkeeper/v1"
KINDS = ("ServiceLevels", "SLO", "ErrorBudgetPolicy")
INHERITED_FIELDS = ("owner", "tier", "labels", "policy", "maintenance")
SERVICE_FIELDS = ("apiVersion", "kind", "service", *INHERITED_FIELDS, "slos")
SLO_FIELDS = ("name", "description", "objective", "window", "sli", "alerting", *INHERITED_FIELDS)
SINGLE_SLO_FIELDS = ("apiVersion", "kind", "service", *SLO_FIELDS)


@dataclass(frozen=True)
class Inherited:
    """Service-level fields an SLO takes unless it sets its own (labels merge, maintenance adds)."""

    owner: str | None = None
    tier: str | None = None
    labels: Mapping[str, str] = field(default_factory=dict)
    policy: str | None = None
    maintenance: tuple[MaintenanceWindow, ...] = ()


# -- reading ---------------------------------------------------------------------------------


def parse_native_slos(doc: Cursor, kind: str) -> list[ParsedSLO]:
    """The SLOs of a ``ServiceLevels`` or ``SLO`` document (problems go to its context)."""
    if kind == "SLO":
        doc.fields(SINGLE_SLO_FIELDS)
        service = doc.read("service", read_name, required=True)
        parsed = _read_slo(doc, service, Inherited(), check_fields=False)
        return [parsed] if parsed is not None else []
    doc.fields(SERVICE_FIELDS)
    service = doc.read("service", read_name, required=True)
    inherited = Inherited(
        owner=doc.read("owner", Cursor.text),
        tier=doc.read("tier", read_tier),
        labels=doc.read("labels", read_labels) or {},
        policy=doc.read("policy", read_name),
        maintenance=doc.read("maintenance", read_maintenance) or (),
    )
    slos = doc.require("slos", " (a list of SLOs)")
    items = slos.items() if slos is not None else None
    if items == []:
        doc.error_at("slos", "must list at least one SLO")
    results = [_read_slo(item, service, inherited, check_fields=True) for item in items or []]
    return [parsed for parsed in results if parsed is not None]


def _read_slo(
    cursor: Cursor, service: str | None, inherited: Inherited, *, check_fields: bool
) -> ParsedSLO | None:
    mark = cursor.mark()
    if check_fields and not cursor.fields(SLO_FIELDS):
        return None
    name = cursor.read("name", read_name, required=True)
    description = cursor.read("description", Cursor.text) or ""
    objective = cursor.read("objective", read_objective, required=True)
    window_at = cursor.require("window", " (e.g. 30d, or {calendar: month})")
    window = read_window(window_at) if window_at is not None else None
    sli_at = cursor.require("sli")
    sli = read_sli(sli_at, f"{service}-{name}") if sli_at is not None else None
    period = nominal_period(window) if window is not None else None
    alerting_at = cursor.get("alerting")
    alerting = read_alerting(alerting_at, period) if alerting_at is not None else Alerting()
    owner = cursor.read("owner", Cursor.text) if cursor.has("owner") else inherited.owner
    tier = cursor.read("tier", read_tier) if cursor.has("tier") else inherited.tier
    policy = cursor.read("policy", read_name) if cursor.has("policy") else inherited.policy
    labels = {**inherited.labels, **(cursor.read("labels", read_labels) or {})}
    maintenance = inherited.maintenance + (cursor.read("maintenance", read_maintenance) or ())
    if window_at is not None and window is not None and alerting is not None:
        check_alerts_fit(window_at, window, alerting.windows)
    if (
        not cursor.clean_since(mark)
        or service is None
        or name is None
        or objective is None
        or window is None
        or sli is None
        or alerting is None
    ):
        return None
    slo = SLO(
        service=service,
        name=name,
        sli=sli,
        objective=objective,
        window=window,
        alerting=alerting,
        description=description,
        owner=owner,
        tier=tier,
        labels=MappingProxyType(labels),
        maintenance=maintenance,
        policy=policy,
    )
    return ParsedSLO(slo, cursor.get("name") or cursor)


def check_kind(doc: Cursor) -> str | None:
    """The ``kind`` of a native document, or None after reporting a missing or unknown one."""
    kind = doc.read("kind", Cursor.text, required=True)
    if kind is not None and kind not in KINDS:
        doc.error_at(
            "kind",
            f"unknown kind {kind!r} for {API_VERSION}; expected one of {', '.join(KINDS)}"
            f"{did_you_mean(kind, KINDS)}",
        )
        return None
    return kind


def slo_from_dict(data: Mapping[str, Any]) -> SLO:
    """Rebuild an SLO from :func:`slo_to_dict` output (or any single-SLO native document)."""
    problems: list[Problem] = []
    doc = Cursor(DocumentContext("<slo>", 1, problems), dict(data))
    for key, expected in (("apiVersion", API_VERSION), ("kind", "SLO")):
        if doc.has(key) and doc.value[key] != expected:
            doc.error_at(key, f"must be {expected!r}")
    parsed = parse_native_slos(doc, "SLO")
    if problems or not parsed:
        raise SpecError(problems or [Problem("<slo>", 1, None, "", "not an SLO")])
    return parsed[0].slo


# -- writing ---------------------------------------------------------------------------------


def _timestamp(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def window_to_dict(window: Window) -> str | dict[str, Any]:
    """A window in native form: ``30d`` or ``{calendar, timezone[, count]}``."""
    if isinstance(window, RollingWindow):
        return format_duration(window.duration)
    result: dict[str, Any] = {"calendar": window.unit.value, "timezone": window.timezone}
    if window.count != 1:
        result["count"] = window.count
    return result


def sli_to_dict(sli: SLI, *, default_name: str | None = None) -> dict[str, Any]:
    """An SLI in native form; ``name`` is left out when it equals ``default_name``."""
    result: dict[str, Any] = {}
    if sli.name != default_name:
        result["name"] = sli.name
    if sli.kind is not SLIKind.RATIO:
        result["kind"] = sli.kind.value
    if sli.source is not SourceKind.WATCHKEEPER:
        result["source"] = sli.source.value
    if sli.uses_observations:
        result["threshold"] = sli.threshold
        result["operator"] = sli.operator.value
    if sli.is_sliced:
        assert sli.slice_duration is not None
        result["slice"] = format_duration(sli.slice_duration)
        if sli.slice_target is not None:
            result["slice_target"] = sli.slice_target
        if sli.slice_kind is not SLIKind.RATIO:
            result["slice_kind"] = sli.slice_kind.value
    if sli.queries is not None:
        histogram = sli.queries.histogram
        queries: dict[str, Any] = {"source": sli.queries.source}
        if histogram is not None:
            queries |= {
                "histogram": histogram.metric,
                "threshold": histogram.threshold,
                "selector": histogram.selector or None,
            }
        else:
            queries |= {
                "good": sli.queries.good,
                "bad": sli.queries.bad,
                "total": sli.queries.total,
                "error_ratio": sli.queries.raw_error_ratio,
            }
        result["prometheus"] = {key: value for key, value in queries.items() if value is not None}
    if sli.external is not None:
        result["external"] = {
            "type": sli.external.source_type,
            "metric": sli.external.definition_dict(),
        }
    return result


def target_to_dict(target: AlertTarget) -> dict[str, Any]:
    """An alert target in native form, only what differs from the defaults."""
    result: dict[str, Any] = {}
    if not target.enabled:
        result["enabled"] = False
    if target.labels:
        result["labels"] = dict(target.labels)
    if target.annotations:
        result["annotations"] = dict(target.annotations)
    if target.runbook_url is not None:
        result["runbook_url"] = target.runbook_url
    if target.name is not None:
        result["name"] = target.name
    return result


def alerting_to_dict(alerting: Alerting, *, include_windows: bool = True) -> dict[str, Any]:
    """Alerting in native form (windows with exact factors), only what differs from defaults."""
    result: dict[str, Any] = {}
    if alerting.name is not None:
        result["name"] = alerting.name
    for key, target in (("page", alerting.page), ("ticket", alerting.ticket)):
        written = target_to_dict(target)
        if written:
            result[key] = written
    if include_windows and alerting.windows is not None:
        result["windows"] = [
            {
                "severity": window.severity.value,
                "long": format_duration(window.long),
                "short": format_duration(window.short),
                "factor": window.factor,
            }
            for window in alerting.windows
        ]
    if alerting.min_events:
        result["min_events"] = alerting.min_events
    return result


def maintenance_to_list(windows: tuple[MaintenanceWindow, ...]) -> list[dict[str, Any]]:
    """Maintenance windows in native form."""
    result: list[dict[str, Any]] = []
    for window in windows:
        item: dict[str, Any] = {"start": _timestamp(window.start), "end": _timestamp(window.end)}
        if window.reason:
            item["reason"] = window.reason
        result.append(item)
    return result


def slo_body_to_dict(
    slo: SLO, *, inherited: Inherited | None = None, always_name_sli: bool = False
) -> dict[str, Any]:
    """One SLO as an item of ``slos``: only what it does not inherit from ``inherited``."""
    inherited = inherited or Inherited()
    result: dict[str, Any] = {"name": slo.name}
    if slo.description:
        result["description"] = slo.description
    result["objective"] = slo.objective
    result["window"] = window_to_dict(slo.window)
    default_name = None if always_name_sli else f"{slo.service}-{slo.name}"
    result["sli"] = sli_to_dict(slo.sli, default_name=default_name)
    alerting = alerting_to_dict(slo.alerting)
    if alerting:
        result["alerting"] = alerting
    for key, value, parent in (
        ("owner", slo.owner, inherited.owner),
        ("tier", slo.tier, inherited.tier),
        ("policy", slo.policy, inherited.policy),
    ):
        if value != parent:
            if value is None:
                raise ValueError(f"{slo.key}: cannot unset the inherited {key}")
            result[key] = value
    own_labels = {k: v for k, v in slo.labels.items() if inherited.labels.get(k) != v}
    if own_labels:
        result["labels"] = own_labels
    if slo.maintenance[: len(inherited.maintenance)] != inherited.maintenance:
        raise ValueError(f"{slo.key}: maintenance does not start with the inherited windows")
    own_maintenance = slo.maintenance[len(inherited.maintenance) :]
    if own_maintenance:
        result["maintenance"] = maintenance_to_list(own_maintenance)
    return result


def slo_to_dict(slo: SLO) -> dict[str, Any]:
    """The native single-SLO document of ``slo`` (JSON-ready); ``slo_from_dict`` inverts it."""
    body = slo_body_to_dict(slo, always_name_sli=True)
    return {"apiVersion": API_VERSION, "kind": "SLO", "service": slo.service, **body}
