"""Error-budget policies in the native format (``kind: ErrorBudgetPolicy``).

```yaml
rules:
  - name: budget-exhausted
    when: {budget_remaining_below: 0}
    action: deny
    exempt: [fix, rollback]
incidents:                      # optional
  severities: [SEV1, SEV2]      # open incidents at these hold deploys (default: the two worst
                                # configured severities, whatever their names)
  decision: require_approval    # or deny, or ignore
  exempt: [rollback]            # change types let through anyway (default none)
```
Each rule has exactly one condition in ``when`` (plus ``within`` where it takes a window).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from watchkeeper.core.duration import format_duration
from watchkeeper.core.policy import (
    DEFAULT_INCIDENT_RULE,
    ConditionKind,
    ErrorBudgetPolicy,
    GateAction,
    IncidentDecision,
    IncidentRule,
    PolicyCondition,
    PolicyRule,
)
from watchkeeper.core.slo import Severity
from watchkeeper.specs.cursor import Cursor, DocumentContext
from watchkeeper.specs.fields import NAME_PATTERN, read_name
from watchkeeper.specs.problems import Problem, SpecError

POLICY_FIELDS = (
    "apiVersion",
    "kind",
    "name",
    "description",
    "services",
    "slos",
    "rules",
    "incidents",
)
INCIDENT_FIELDS = ("severities", "decision", "exempt")
RULE_FIELDS = ("name", "description", "when", "action", "exempt")
CONDITION_KINDS = tuple(kind.value for kind in ConditionKind)
WHEN_FIELDS = (*CONDITION_KINDS, "within")


def read_policy(doc: Cursor) -> ErrorBudgetPolicy | None:
    """An ErrorBudgetPolicy document; None after reporting its problems."""
    mark = doc.mark()
    if not doc.fields(POLICY_FIELDS):
        return None
    name = doc.read("name", read_name, required=True)
    description = doc.read("description", Cursor.text) or ""
    services = doc.read("services", _read_names) or []
    slos = doc.read("slos", _read_slo_keys) or []
    incidents = doc.read("incidents", _read_incidents)
    rules_at = doc.require("rules", " (a list of rules)")
    items = rules_at.items() if rules_at is not None else None
    if items == []:
        doc.error_at("rules", "must list at least one rule")
    rules: list[PolicyRule] = []
    seen: dict[str, int | None] = {}
    for item in items or []:
        rule = _read_rule(item)
        name_at = item.get("name")
        if name_at is not None and isinstance(name_at.value, str):
            if name_at.value in seen:
                first = seen[name_at.value]
                name_at.error(f"rule {name_at.value!r} is given twice (first on line {first})")
            seen.setdefault(name_at.value, name_at.line)
        if rule is not None:
            rules.append(rule)
    if not doc.clean_since(mark) or name is None:
        return None
    return ErrorBudgetPolicy(
        name=name,
        rules=tuple(rules),
        services=tuple(services),
        slos=tuple(slos),
        description=description,
        incidents=incidents or DEFAULT_INCIDENT_RULE,
    )


def _read_incidents(cursor: Cursor) -> IncidentRule | None:
    """The ``incidents`` block: which open incidents hold deploys, and how."""
    mark = cursor.mark()
    if not cursor.fields(INCIDENT_FIELDS):
        return None
    severities = cursor.read("severities", Cursor.string_list)
    if severities == []:
        cursor.error_at(
            "severities", "must list at least one severity (write decision: ignore instead)"
        )
    decision = cursor.read("decision", lambda c: c.choice(IncidentDecision))
    exempt = cursor.read("exempt", Cursor.string_list) or []
    if not cursor.clean_since(mark):
        return None
    return IncidentRule(
        severities=tuple(severities) if severities else None,
        decision=decision or DEFAULT_INCIDENT_RULE.decision,
        exempt_change_types=tuple(exempt),
    )


def _read_names(cursor: Cursor) -> list[str] | None:
    items = cursor.items()
    if items is None:
        return None
    names = [read_name(item) for item in items]
    return [name for name in names if name is not None]


def _read_slo_keys(cursor: Cursor) -> list[str] | None:
    items = cursor.items()
    if items is None:
        return None
    keys: list[str] = []
    for item in items:
        key = item.text()
        if key is None:
            continue
        service, _, name = key.partition("/")
        if not (NAME_PATTERN.fullmatch(service) and NAME_PATTERN.fullmatch(name)):
            item.error(f"{key!r} is not an SLO key: write service/name, e.g. checkout/latency")
            continue
        keys.append(key)
    return keys


def _read_rule(cursor: Cursor) -> PolicyRule | None:
    mark = cursor.mark()
    if not cursor.fields(RULE_FIELDS):
        return None
    name = cursor.read("name", read_name, required=True)
    description = cursor.read("description", Cursor.text) or ""
    when = cursor.require("when", " (e.g. {budget_remaining_below: 0})")
    condition = _read_condition(when) if when is not None else None
    action = cursor.read("action", lambda c: c.choice(GateAction), required=True)
    exempt = cursor.read("exempt", Cursor.string_list) or []
    if not cursor.clean_since(mark) or name is None or condition is None or action is None:
        return None
    return PolicyRule(name, condition, action, tuple(exempt), description)


def _read_condition(cursor: Cursor) -> PolicyCondition | None:
    mark = cursor.mark()
    if not cursor.fields(WHEN_FIELDS):
        return None
    given = [kind for kind in CONDITION_KINDS if cursor.has(kind)]
    if len(given) != 1:
        listed = ", ".join(given) if given else "none"
        cursor.error(f"must hold exactly one condition of {', '.join(CONDITION_KINDS)} ({listed})")
        return None
    kind = ConditionKind(given[0])
    at = cursor.get(kind.value)
    assert at is not None
    within = cursor.read("within", Cursor.duration)
    value: float | None = None
    severity: Severity | None = None
    if kind is ConditionKind.BUDGET_REMAINING_BELOW:
        value = at.number()
        if value is not None and value > 1:
            hint = f"; did you mean {value / 100:g}?" if value <= 100 else ""
            at.error(f"is a fraction of the budget (0.25 = 25 %) and at most 1{hint}")
    elif kind is ConditionKind.BUDGET_CONSUMED_OVER:
        value = at.number()
        if value is not None and not 0 <= value <= 1:
            hint = f"; did you mean {value / 100:g}?" if 1 < value <= 100 else ""
            at.error(f"is a fraction of the budget (0.5 = 50 %) between 0 and 1{hint}")
    elif kind is ConditionKind.BURN_RATE_ABOVE:
        value = at.number()
        if value is not None and value <= 0:
            at.error("must be above 0")
        if not cursor.has("within"):
            cursor.error_at("within", "is required: the window the burn rate is measured over")
    elif kind is ConditionKind.ALERT_FIRING:
        severity = at.choice(Severity)
    elif at.boolean() is False:
        at.error("must be true (a rule matches when the SLO has no data)")
    takes_window = kind in (ConditionKind.BUDGET_CONSUMED_OVER, ConditionKind.BURN_RATE_ABOVE)
    if cursor.has("within") and not takes_window:
        cursor.error_at("within", f"does not apply to {kind.value}")
    if not cursor.clean_since(mark):
        return None
    return PolicyCondition(kind, value=value, within=within, severity=severity)


def policy_to_dict(policy: ErrorBudgetPolicy) -> dict[str, Any]:
    """The native ErrorBudgetPolicy document of ``policy`` (JSON-ready)."""
    result: dict[str, Any] = {
        "apiVersion": "watchkeeper/v1",
        "kind": "ErrorBudgetPolicy",
        "name": policy.name,
    }
    if policy.description:
        result["description"] = policy.description
    if policy.services:
        result["services"] = list(policy.services)
    if policy.slos:
        result["slos"] = list(policy.slos)
    result["rules"] = [_rule_to_dict(rule) for rule in policy.rules]
    if policy.incidents != DEFAULT_INCIDENT_RULE:
        # Only when it differs, so policies stored before incidents existed read back equal.
        incidents: dict[str, Any] = {"decision": policy.incidents.decision.value}
        if policy.incidents.severities is not None:
            incidents["severities"] = list(policy.incidents.severities)
        if policy.incidents.exempt_change_types:
            incidents["exempt"] = list(policy.incidents.exempt_change_types)
        result["incidents"] = incidents
    return result


def _rule_to_dict(rule: PolicyRule) -> dict[str, Any]:
    condition = rule.condition
    when: dict[str, Any] = {}
    if condition.kind is ConditionKind.ALERT_FIRING:
        assert condition.severity is not None
        when[condition.kind.value] = condition.severity.value
    elif condition.kind is ConditionKind.NO_DATA:
        when[condition.kind.value] = True
    else:
        when[condition.kind.value] = condition.value
    if condition.within is not None:
        when["within"] = format_duration(condition.within)
    result: dict[str, Any] = {"name": rule.name}
    if rule.description:
        result["description"] = rule.description
    result["when"] = when
    result["action"] = rule.action.value
    if rule.exempt_change_types:
        result["exempt"] = list(rule.exempt_change_types)
    return result


def policy_from_dict(data: Mapping[str, Any]) -> ErrorBudgetPolicy:
    """Rebuild a policy from :func:`policy_to_dict` output; SpecError when it is invalid."""
    problems: list[Problem] = []
    doc = Cursor(DocumentContext("<policy>", 1, problems), dict(data))
    for key, expected in (("apiVersion", "watchkeeper/v1"), ("kind", "ErrorBudgetPolicy")):
        if doc.has(key) and doc.value[key] != expected:
            doc.error_at(key, f"must be {expected!r}")
    policy = read_policy(doc)
    if problems or policy is None:
        raise SpecError(problems or [Problem("<policy>", 1, None, "", "not a policy")])
    return policy
