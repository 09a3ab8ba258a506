"""Error-budget policies: ordered rules that turn SLO figures into a deploy decision."""

from __future__ import annotations

from collections.abc import Sequence
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


class IncidentDecision(StrEnum):
    """What the gate answers while a blocking incident is open on a covered service."""

    REQUIRE_APPROVAL = "require_approval"
    DENY = "deny"
    IGNORE = "ignore"


# Severity names are configurable (``incident severities apply``), so a rule that names none
# holds deploys for the worst ranks of whatever is configured, not for fixed names.
DEFAULT_BLOCKING_RANKS = 2


@dataclass(frozen=True)
class IncidentRule:
    """How open incidents on a covered service hold deploys.

    While an incident at one of ``severities`` is open on the service, the gate answers
    ``decision`` (``ignore``: incidents do not hold deploys). ``severities`` None means the
    ``DEFAULT_BLOCKING_RANKS`` worst configured severities. ``exempt_change_types`` lets
    change types (e.g. ``rollback``) through anyway.
    """

    severities: tuple[str, ...] | None = None
    decision: IncidentDecision = IncidentDecision.REQUIRE_APPROVAL
    exempt_change_types: tuple[str, ...] = ()

    @property
    def action(self) -> GateAction | None:
        """The gate action of a blocking incident; None when incidents are ignored."""
        if self.decision is IncidentDecision.IGNORE:
            return None
        return GateAction(self.decision.value)

    def blocking(self, configured: Sequence[str]) -> tuple[str, ...]:
        """The severities this rule holds deploys for; ``configured`` is worst first."""
        if self.severities is not None:
            return self.severities
        return tuple(configured[:DEFAULT_BLOCKING_RANKS])


DEFAULT_INCIDENT_RULE = IncidentRule()


@dataclass(frozen=True)
class ErrorBudgetPolicy:
    """A named, ordered list of rules attached to services and/or individual SLOs."""

    name: str
    rules: tuple[PolicyRule, ...]
    services: tuple[str, ...] = ()
    slos: tuple[str, ...] = ()  # ``service/name`` keys
    description: str = ""
    incidents: IncidentRule = DEFAULT_INCIDENT_RULE
