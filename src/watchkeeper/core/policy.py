"""Error-budget policies: ordered rules that turn SLO figures into a deploy decision."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from watchkeeper.core.slo import Severity


class GateAction(StrEnum):
    """What a matching rule decides for a deploy."""

    ALLOW = "allow"
    DENY = "deny"
    REQUIRE_APPROVAL = "require_approval"


class ConditionKind(StrEnum):
    """What a rule looks at."""

    BUDGET_REMAINING_BELOW = "budget_remaining_below"  # remaining < value (fraction, may be 0)
    BUDGET_CONSUMED_OVER = "budget_consumed_over"  # consumed within `within` > value (fraction)
    ALERT_FIRING = "alert_firing"  # a burn-rate alert of `severity` is firing
    BURN_RATE_ABOVE = "burn_rate_above"  # burn rate over `within` > value
    NO_DATA = "no_data"  # the SLO has no events in its window


@dataclass(frozen=True)
class PolicyCondition:
    """One condition, checked against each SLO the policy covers."""

    kind: ConditionKind
    value: float | None = None
    within: timedelta | None = None
    severity: Severity | None = None


@dataclass(frozen=True)
class PolicyRule:
    """A rule: when ``condition`` holds for any covered SLO, ``action`` applies.

    ``exempt_change_types`` lists change types (e.g. ``fix``, ``rollback``) the rule lets through.
    """

    name: str
    condition: PolicyCondition
    action: GateAction
    exempt_change_types: tuple[str, ...] = ()
    description: str = ""


@dataclass(frozen=True)
class ErrorBudgetPolicy:
    """A named, ordered list of rules attached to services and/or individual SLOs."""

    name: str
    rules: tuple[PolicyRule, ...]
    services: tuple[str, ...] = ()
    slos: tuple[str, ...] = ()  # ``service/name`` keys
    description: str = ""
