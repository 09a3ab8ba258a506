"""The deploy gate: applying error-budget policies to SLO figures.

Each policy's rules are checked in order for every SLO it covers; the first rule whose
condition holds (and whose exemptions do not cover the change type) decides for that SLO.
Across SLOs and policies the most restrictive decision wins: deny over require_approval over
allow. With no matching rule a deploy is allowed. Modelled on the error-budget policy of the
SRE Workbook (appendix B): freeze on an exhausted budget, except fixes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta

import numpy as np

from watchkeeper.core.duration import format_duration
from watchkeeper.core.evaluation import SLOStatus, window_sums
from watchkeeper.core.policy import (
    ConditionKind,
    ErrorBudgetPolicy,
    GateAction,
    PolicyCondition,
    PolicyRule,
)
from watchkeeper.core.series import CountSource, to_unix_seconds
from watchkeeper.core.slo import SLO, Severity

_RESTRICTIVENESS = {GateAction.ALLOW: 0, GateAction.REQUIRE_APPROVAL: 1, GateAction.DENY: 2}


@dataclass(frozen=True)
class SLOFacts:
    """What the gate knows of one SLO at decision time."""

    key: str
    service: str
    policy: str | None
    budget_remaining: float | None
    total: float
    firing: frozenset[Severity] = frozenset()
    consumed_within: Mapping[timedelta, float | None] = field(default_factory=dict)
    burn_rate_within: Mapping[timedelta, float | None] = field(default_factory=dict)


@dataclass(frozen=True)
class RuleMatch:
    """A rule that held for an SLO, with the figure that made it hold."""

    policy: str
    rule: str
    slo: str
    action: GateAction
    reason: str


@dataclass(frozen=True)
class GateDecision:
    """The gate's answer: the action, the deciding match (if any) and every match seen."""

    action: GateAction
    decided_by: RuleMatch | None
    matches: tuple[RuleMatch, ...]
    policies: tuple[str, ...]

    @property
    def allowed(self) -> bool:
        """True only for an outright allow."""
        return self.action is GateAction.ALLOW


def policies_for(slo: SLOFacts, policies: Sequence[ErrorBudgetPolicy]) -> list[ErrorBudgetPolicy]:
    """Policies attached to an SLO: named by it, or listing its service or its key."""
    return [
        policy
        for policy in policies
        if policy.name == slo.policy or slo.service in policy.services or slo.key in policy.slos
    ]


def condition_holds(condition: PolicyCondition, slo: SLOFacts) -> str | None:
    """A human reason when ``condition`` holds for ``slo``, else None."""
    kind, value = condition.kind, condition.value
    if kind is ConditionKind.NO_DATA:
        return "no events in the SLO window" if slo.total == 0 else None
    if kind is ConditionKind.ALERT_FIRING:
        severity = condition.severity or Severity.PAGE
        return f"{severity.value} burn-rate alert firing" if severity in slo.firing else None
    if value is None:
        return None
    if kind is ConditionKind.BUDGET_REMAINING_BELOW:
        remaining = slo.budget_remaining
        if remaining is not None and remaining < value:
            return f"error budget remaining {remaining:.2%} < {value:.2%}"
        return None
    within = condition.within
    if kind is ConditionKind.BUDGET_CONSUMED_OVER:
        if within is None:  # over the whole SLO window: what is no longer remaining
            remaining = slo.budget_remaining
            consumed = None if remaining is None else 1.0 - remaining
            span = "the SLO window"
        else:
            consumed = slo.consumed_within.get(within)
            span = f"the last {format_duration(within)}"
        if consumed is not None and consumed > value:
            return f"{consumed:.2%} of the error budget consumed in {span}"
        return None
    if within is None:
        return None
    burn = slo.burn_rate_within.get(within)
    if burn is not None and burn > value:
        return f"burn rate {burn:.3g} over {format_duration(within)} > {value:g}"
    return None


def _first_match(
    policy: ErrorBudgetPolicy, slo: SLOFacts, change_type: str | None
) -> RuleMatch | None:
    for rule in policy.rules:
        if change_type is not None and change_type in rule.exempt_change_types:
            continue
        reason = condition_holds(rule.condition, slo)
        if reason is not None:
            return RuleMatch(policy.name, rule.name, slo.key, rule.action, reason)
    return None


def decide(
    slos: Sequence[SLOFacts],
    policies: Sequence[ErrorBudgetPolicy],
    *,
    change_type: str | None = None,
) -> GateDecision:
    """Decide a deploy for the SLOs of a service under the given policies.

    An SLO naming a policy that does not exist is denied: a typo must not open the gate.
    """
    matches: list[RuleMatch] = []
    applied: set[str] = set()
    known = {policy.name for policy in policies}
    for slo in slos:
        if slo.policy is not None and slo.policy not in known:
            reason = f"policy {slo.policy!r} is named by the SLO but has not been applied"
            matches.append(
                RuleMatch(slo.policy, "missing-policy", slo.key, GateAction.DENY, reason)
            )
        for policy in policies_for(slo, policies):
            applied.add(policy.name)
            match = _first_match(policy, slo, change_type)
            if match is not None:
                matches.append(match)
    deciding = max(matches, key=lambda m: _RESTRICTIVENESS[m.action], default=None)
    action = deciding.action if deciding is not None else GateAction.ALLOW
    return GateDecision(action, deciding, tuple(matches), tuple(sorted(applied)))


def facts_for(
    slo: SLO, source: CountSource, status: SLOStatus, windows: set[timedelta]
) -> SLOFacts:
    """The gate's view of one evaluated SLO, with figures over every rule window.

    Budget consumed within ``d`` is the share of the whole window's budget spent by the bad
    events of the last ``d``: ``bad_d / ((1 - objective) x total_window)``.
    """
    ordered = sorted(windows)
    end = to_unix_seconds(status.at)
    # Events before the SLO window (last month, for a calendar window) spent another budget.
    window_begins = to_unix_seconds(status.window_start)
    starts = np.array(
        [max(end - w.total_seconds(), window_begins) for w in ordered], dtype=np.float64
    )
    good, total = window_sums(slo, source, starts, np.full(starts.shape, end))
    budget_events = slo.error_budget * status.total
    consumed: dict[timedelta, float | None] = {}
    burns: dict[timedelta, float | None] = {}
    for i, within in enumerate(ordered):
        bad = float(total[i] - good[i])
        consumed[within] = bad / budget_events if status.total > 0 else None
        burns[within] = (bad / float(total[i])) / slo.error_budget if total[i] > 0 else None
    return SLOFacts(
        key=slo.key,
        service=slo.service,
        policy=slo.policy,
        budget_remaining=status.error_budget_remaining,
        total=status.total,
        firing=frozenset(a.severity for a in status.alerts if a.firing),
        consumed_within=consumed,
        burn_rate_within=burns,
    )


def rule_windows(policies: Sequence[ErrorBudgetPolicy]) -> set[timedelta]:
    """The ``within`` durations any rule needs figures for."""
    return {
        rule.condition.within
        for policy in policies
        for rule in policy.rules
        if rule.condition.within is not None
    }


__all__ = [
    "GateDecision",
    "PolicyRule",
    "RuleMatch",
    "SLOFacts",
    "decide",
    "facts_for",
    "rule_windows",
]
