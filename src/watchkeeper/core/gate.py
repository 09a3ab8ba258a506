"""The deploy gate: applying error-budget policies to SLO figures.

Each policy's rules are checked in order for every SLO it covers; the first rule whose
condition holds decides for that SLO. A rule that holds but exempts the deploy's change type
is recorded as an exemption and the next rules are checked. Across SLOs and policies the most
restrictive decision wins: deny over require_approval over allow. Modelled on the
error-budget policy of the SRE Workbook (appendix B): freeze on an exhausted budget, except
fixes.

The gate never allows what it cannot check:

- an SLO the gate could not evaluate (it reads another system, or its evaluation failed)
  has no figures and counts as having no data: ``no_data`` rules hold for it; when no rule
  of a policy decides for it (nor exempts the change), that policy requires approval
  (rule ``not-evaluated``): a policy allows an unchecked SLO only through a rule that says
  so, e.g. ``when: {no_data: true}, action: allow``;
- an SLO naming a policy that has not been applied is denied;
- a rule that cannot be checked (no threshold, no window, a figure that was not computed or
  is not a number) holds, with a reason saying so, instead of silently passing.

A window without events has no figures (``None``): rules on those figures do not hold, and
``no_data`` rules speak for an SLO with no events in its whole window.

Open incidents hold deploys too: while an incident at a blocking severity is open on the
service, each policy covering the service answers its ``incidents`` decision (default: the
two worst configured severities require approval; rule ``open-incident``). A service no
policy covers gets that default from the built-in rule (policy ``(built-in)``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta

import numpy as np

from watchkeeper.core.duration import format_duration
from watchkeeper.core.evaluation import SLOStatus, window_sums
from watchkeeper.core.policy import (
    DEFAULT_INCIDENT_RULE,
    ConditionKind,
    ErrorBudgetPolicy,
    GateAction,
    IncidentRule,
    PolicyCondition,
    PolicyRule,
)
from watchkeeper.core.series import CountSource, to_unix_seconds
from watchkeeper.core.slo import SLO, Severity

# The rule named when a policy has nothing to say about an SLO the gate could not evaluate.
NOT_EVALUATED_RULE = "not-evaluated"
# The rule named when an open incident holds a deploy, and the policy of services without one.
OPEN_INCIDENT_RULE = "open-incident"
BUILT_IN_POLICY = "(built-in)"
_RESTRICTIVENESS = {GateAction.ALLOW: 0, GateAction.REQUIRE_APPROVAL: 1, GateAction.DENY: 2}
_NEEDS_VALUE = (
    ConditionKind.BUDGET_REMAINING_BELOW,
    ConditionKind.BUDGET_CONSUMED_OVER,
    ConditionKind.BURN_RATE_ABOVE,
)


@dataclass(frozen=True)
class SLOFacts:
    """What the gate knows of one SLO at decision time.

    ``not_evaluated`` says why the gate has no figures for the SLO (e.g. "reads
    Prometheus"); such an SLO counts as having no data.
    """

    key: str
    service: str
    policy: str | None
    budget_remaining: float | None
    total: float
    firing: frozenset[Severity] = frozenset()
    consumed_within: Mapping[timedelta, float | None] = field(default_factory=dict)
    burn_rate_within: Mapping[timedelta, float | None] = field(default_factory=dict)
    not_evaluated: str | None = None


def unevaluated_facts(*, key: str, service: str, policy: str | None, reason: str) -> SLOFacts:
    """The gate's view of an SLO it could not evaluate: no figures, and why."""
    return SLOFacts(
        key=key,
        service=service,
        policy=policy,
        budget_remaining=None,
        total=0.0,
        not_evaluated=reason,
    )


@dataclass(frozen=True)
class OpenIncident:
    """An open incident on the service about to deploy."""

    id: int
    title: str
    severity: str
    status: str


@dataclass(frozen=True)
class RuleMatch:
    """A rule that held for an SLO (or an open incident), with what made it hold.

    ``exempt`` marks a rule that held but exempts the deploy's change type: it let the
    deploy through (``action`` is allow) and its reason says so. A match of rule
    ``open-incident`` names the incident in ``incident`` and the service in ``slo``.
    """

    policy: str
    rule: str
    slo: str
    action: GateAction
    reason: str
    exempt: bool = False
    incident: OpenIncident | None = None


@dataclass(frozen=True)
class GateDecision:
    """The gate's answer: the action, the deciding match (if any) and every match seen.

    ``matches`` are the rules that applied; ``exemptions`` the rules that held but let the
    change type through. ``decided_by`` is the most restrictive match, else the first
    exemption, else the first (allow) match, else None.
    """

    action: GateAction
    decided_by: RuleMatch | None
    matches: tuple[RuleMatch, ...]
    policies: tuple[str, ...]
    exemptions: tuple[RuleMatch, ...] = ()

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


def _unusable_rule(condition: PolicyCondition) -> str | None:
    """Why a condition cannot be compared with any figure, or None when it can."""
    kind = condition.kind
    if kind in _NEEDS_VALUE and (condition.value is None or not math.isfinite(condition.value)):
        return f"{kind.value} has no usable threshold ({condition.value})"
    if kind is ConditionKind.BURN_RATE_ABOVE and condition.within is None:
        return "burn_rate_above has no window (within)"
    return None


def _figure(slo: SLOFacts, condition: PolicyCondition) -> tuple[float | None, str]:
    """The figure a (usable) condition compares, and the span it covers.

    Raises ``LookupError`` naming the figure when it was not computed for that window.
    """
    within = condition.within
    if condition.kind is ConditionKind.BUDGET_REMAINING_BELOW:
        return slo.budget_remaining, "the SLO window"
    if condition.kind is ConditionKind.BUDGET_CONSUMED_OVER and within is None:
        # Over the whole SLO window: what is no longer remaining.
        remaining = slo.budget_remaining
        return (None if remaining is None else 1.0 - remaining), "the SLO window"
    assert within is not None  # _unusable_rule refuses burn rates without a window
    span = f"the last {format_duration(within)}"
    if condition.kind is ConditionKind.BUDGET_CONSUMED_OVER:
        figures, what = slo.consumed_within, "budget consumed"
    else:
        figures, what = slo.burn_rate_within, "burn rate"
    if within not in figures:
        raise LookupError(f"no {what} figure over {span} was computed")
    return figures[within], span


def condition_holds(condition: PolicyCondition, slo: SLOFacts) -> str | None:
    """A human reason when ``condition`` holds for ``slo``, else None.

    A condition that cannot be checked holds, its reason starting "rule cannot be checked".
    """
    kind, value = condition.kind, condition.value
    if kind is ConditionKind.NO_DATA:
        if slo.not_evaluated is not None:
            return f"not evaluated: {slo.not_evaluated}"
        return "no events in the SLO window" if slo.total == 0 else None
    if slo.not_evaluated is not None:
        return None  # no figures at all: the SLO counts as no data, as a silent one does
    if kind is ConditionKind.ALERT_FIRING:
        severity = condition.severity or Severity.PAGE
        return f"{severity.value} burn-rate alert firing" if severity in slo.firing else None
    unusable = _unusable_rule(condition)
    if unusable is not None:
        return f"rule cannot be checked: {unusable}"
    assert value is not None  # _unusable_rule refuses conditions without a threshold
    try:
        figure, span = _figure(slo, condition)
    except LookupError as missing:
        return f"rule cannot be checked: {missing}"
    if figure is None:
        return None  # no events in that window, so no figure (no_data rules cover silence)
    if math.isnan(figure):
        return f"rule cannot be checked: the {kind.value} figure over {span} is not a number"
    if kind is ConditionKind.BUDGET_REMAINING_BELOW:
        return f"error budget remaining {figure:.2%} < {value:.2%}" if figure < value else None
    if kind is ConditionKind.BUDGET_CONSUMED_OVER:
        return f"{figure:.2%} of the error budget consumed in {span}" if figure > value else None
    assert condition.within is not None
    if figure > value:
        return f"burn rate {figure:.3g} over {format_duration(condition.within)} > {value:g}"
    return None


def _rule_outcome(
    policy: ErrorBudgetPolicy, slo: SLOFacts, change_type: str | None
) -> tuple[RuleMatch | None, list[RuleMatch]]:
    """The rule deciding for ``slo`` under ``policy`` (if any) and the exemptions before it."""
    exemptions: list[RuleMatch] = []
    for rule in policy.rules:
        reason = condition_holds(rule.condition, slo)
        if reason is None:
            continue
        if change_type is not None and change_type in rule.exempt_change_types:
            exemptions.append(
                RuleMatch(
                    policy.name,
                    rule.name,
                    slo.key,
                    GateAction.ALLOW,
                    f"exempt from rule {rule.name}: change type {change_type} ({reason})",
                    exempt=True,
                )
            )
            continue
        return RuleMatch(policy.name, rule.name, slo.key, rule.action, reason), exemptions
    return None, exemptions


def incident_rules(
    slos: Sequence[SLOFacts], policies: Sequence[ErrorBudgetPolicy]
) -> dict[str, IncidentRule]:
    """The incident rule of each policy covering the SLOs (the built-in one when none does)."""
    rules = {
        policy.name: policy.incidents for slo in slos for policy in policies_for(slo, policies)
    }
    return rules or {BUILT_IN_POLICY: DEFAULT_INCIDENT_RULE}


def blocking_severities(
    rules: Mapping[str, IncidentRule], *, configured: Sequence[str]
) -> set[str]:
    """Every severity some rule holds deploys for (ignored rules hold none).

    ``configured`` are the configured severity names, worst first (for rules naming none).
    """
    return {
        s for rule in rules.values() if rule.action is not None for s in rule.blocking(configured)
    }


def incident_matches(
    incidents: Sequence[OpenIncident],
    rules: Mapping[str, IncidentRule],
    *,
    service: str,
    change_type: str | None,
    configured: Sequence[str],
) -> tuple[list[RuleMatch], list[RuleMatch]]:
    """Matches and exemptions of the open incidents under each policy's incident rule.

    Severity names compare without regard to case (``sev1`` in a policy means SEV1).
    ``configured`` are the configured severity names, worst first (for rules naming none).
    """
    matches: list[RuleMatch] = []
    exemptions: list[RuleMatch] = []
    for name, rule in sorted(rules.items()):
        action = rule.action
        if action is None:
            continue
        blocking = {severity.lower() for severity in rule.blocking(configured)}
        for incident in incidents:
            if incident.severity.lower() not in blocking:
                continue
            what = (
                f"{incident.severity} incident #{incident.id} is open on {service} "
                f"({incident.status}): {incident.title}"
            )
            if change_type is not None and change_type in rule.exempt_change_types:
                reason = (
                    f"exempt from rule {OPEN_INCIDENT_RULE}: change type {change_type} ({what})"
                )
                exemptions.append(
                    RuleMatch(
                        name, OPEN_INCIDENT_RULE, service, GateAction.ALLOW, reason, True, incident
                    )
                )
            else:
                matches.append(
                    RuleMatch(name, OPEN_INCIDENT_RULE, service, action, what, incident=incident)
                )
    return matches, exemptions


def decide(
    slos: Sequence[SLOFacts],
    policies: Sequence[ErrorBudgetPolicy],
    *,
    change_type: str | None = None,
    incidents: Sequence[OpenIncident] = (),
    service: str | None = None,
    severities: Sequence[str] = (),
) -> GateDecision:
    """Decide a deploy for the SLOs of a service under the given policies.

    An SLO naming a policy that does not exist is denied: a typo must not open the gate.
    ``incidents`` are the open incidents on ``service``; see :func:`incident_matches`
    (``severities``: the configured severity names, worst first).
    """
    matches: list[RuleMatch] = []
    exemptions: list[RuleMatch] = []
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
            match, exempted = _rule_outcome(policy, slo, change_type)
            exemptions.extend(exempted)
            if match is None and not exempted and slo.not_evaluated is not None:
                match = RuleMatch(
                    policy.name,
                    NOT_EVALUATED_RULE,
                    slo.key,
                    GateAction.REQUIRE_APPROVAL,
                    f"not evaluated: {slo.not_evaluated}; no rule of {policy.name} decides "
                    "for an SLO without data, so a person must approve",
                )
            if match is not None:
                matches.append(match)
    if incidents:
        rules = incident_rules(slos, policies)
        shown = service or (slos[0].service if slos else "the service")
        held, passed = incident_matches(
            incidents, rules, service=shown, change_type=change_type, configured=severities
        )
        matches.extend(held)
        exemptions.extend(passed)
    restrictive = [m for m in matches if m.action is not GateAction.ALLOW]
    deciding = max(restrictive, key=lambda m: _RESTRICTIVENESS[m.action], default=None)
    if deciding is None:
        # An allow: say which exemption let the change through, else which rule allowed it.
        deciding = next(iter(exemptions), None) or next(iter(matches), None)
    action = deciding.action if deciding is not None else GateAction.ALLOW
    return GateDecision(action, deciding, tuple(matches), tuple(sorted(applied)), tuple(exemptions))


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
    "BUILT_IN_POLICY",
    "OPEN_INCIDENT_RULE",
    "GateDecision",
    "OpenIncident",
    "PolicyRule",
    "RuleMatch",
    "SLOFacts",
    "blocking_severities",
    "condition_holds",
    "decide",
    "facts_for",
    "incident_matches",
    "incident_rules",
    "rule_windows",
    "unevaluated_facts",
]
