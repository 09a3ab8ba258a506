"""Generated rules as plain data: rule groups of recording and alerting rules, per service."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Any


class Mode(StrEnum):
    """Which rules to generate."""

    EXACT = "exact"  # Watchkeeper's own: traffic-weighted, NaN-safe
    SLOTH = "sloth"  # the rules Sloth generates for the same spec


class OutputFormat(StrEnum):
    """How generated rules are written."""

    RULES = "rules"  # a Prometheus rule file: {groups: [...]}
    PROMETHEUS_RULE = "prometheusrule"  # a Prometheus-Operator PrometheusRule resource


def _frozen(mapping: Mapping[str, str] | None = None) -> Mapping[str, str]:
    return MappingProxyType(dict(mapping or {}))


@dataclass(frozen=True)
class Rule:
    """A recording rule (``record``) or an alerting rule (``alert``)."""

    expr: str
    record: str | None = None
    alert: str | None = None
    labels: Mapping[str, str] = field(default_factory=_frozen)
    annotations: Mapping[str, str] = field(default_factory=_frozen)

    def to_dict(self) -> dict[str, Any]:
        """The rule as Prometheus' rule-file YAML fields (labels sorted, empty maps left out)."""
        result: dict[str, Any] = {}
        if self.record is not None:
            result["record"] = self.record
        else:
            result["alert"] = self.alert
        result["expr"] = self.expr
        if self.labels:
            result["labels"] = {name: self.labels[name] for name in sorted(self.labels)}
        if self.annotations:
            result["annotations"] = {
                name: self.annotations[name] for name in sorted(self.annotations)
            }
        return result


@dataclass(frozen=True)
class RuleGroup:
    """A named group of rules Prometheus evaluates in order."""

    name: str
    rules: tuple[Rule, ...]
    interval: str | None = None  # None: Prometheus' global evaluation_interval

    def to_dict(self) -> dict[str, Any]:
        """The group as rule-file YAML fields."""
        result: dict[str, Any] = {"name": self.name}
        if self.interval is not None:
            result["interval"] = self.interval
        result["rules"] = [rule.to_dict() for rule in self.rules]
        return result


@dataclass(frozen=True)
class SLORules:
    """The rule groups generated for one SLO."""

    service: str
    slo: str
    groups: tuple[RuleGroup, ...]
