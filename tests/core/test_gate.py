"""Deploy gate decisions: first matching rule per SLO, most restrictive across SLOs."""

from __future__ import annotations

from datetime import timedelta

import pytest

from watchkeeper.core.gate import (
    BUILT_IN_POLICY,
    NOT_EVALUATED_RULE,
    OPEN_INCIDENT_RULE,
    OpenIncident,
    RuleMatch,
    SLOFacts,
    blocking_severities,
    condition_holds,
    decide,
    facts_for,
    incident_rules,
    policies_for,
    rule_windows,
    unevaluated_facts,
)
from watchkeeper.core.policy import (
    ConditionKind,
    ErrorBudgetPolicy,
    GateAction,
    IncidentDecision,
    IncidentRule,
    PolicyCondition,
    PolicyRule,
)
from watchkeeper.core.slo import Severity

TEN_DAYS = timedelta(days=10)
HOUR = timedelta(hours=1)

FREEZE = PolicyRule(
    "budget-exhausted",
    PolicyCondition(ConditionKind.BUDGET_REMAINING_BELOW, value=0.0),
    GateAction.DENY,
    exempt_change_types=("fix", "rollback"),
)
FAST_SPEND = PolicyRule(
    "fast-spend",
    PolicyCondition(ConditionKind.BUDGET_CONSUMED_OVER, value=0.5, within=TEN_DAYS),
    GateAction.REQUIRE_APPROVAL,
)
PAGING = PolicyRule(
    "paging", PolicyCondition(ConditionKind.ALERT_FIRING, severity=Severity.PAGE), GateAction.DENY
)
HOT = PolicyRule(
    "hot",
    PolicyCondition(ConditionKind.BURN_RATE_ABOVE, value=2.0, within=HOUR),
    GateAction.REQUIRE_APPROVAL,
)
BLIND = PolicyRule("blind", PolicyCondition(ConditionKind.NO_DATA), GateAction.REQUIRE_APPROVAL)
POLICY = ErrorBudgetPolicy(
    "release", (FREEZE, PAGING, FAST_SPEND, HOT, BLIND), services=("checkout",)
)


def facts(**overrides: object) -> SLOFacts:
    base: dict[str, object] = {
        "key": "checkout/availability",
        "service": "checkout",
        "policy": None,
        "budget_remaining": 0.8,
        "total": 1000.0,
        "consumed_within": {TEN_DAYS: 0.1},
        "burn_rate_within": {HOUR: 0.5},
    }
    base.update(overrides)
    return SLOFacts(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("name", "slo", "change_type", "action", "rule"),
    [
        ("healthy budget allows", facts(), None, GateAction.ALLOW, None),
        (
            "exhausted budget freezes",
            facts(budget_remaining=-0.01),
            None,
            GateAction.DENY,
            "budget-exhausted",
        ),
        # Exactly zero left is not below zero: the freeze needs remaining < 0.
        (
            "zero remaining is not below zero",
            facts(budget_remaining=0.0),
            None,
            GateAction.ALLOW,
            None,
        ),
        # A fix is exempt from the freeze and no later rule holds: the exemption decides.
        (
            "fix passes the freeze",
            facts(budget_remaining=-0.5),
            "fix",
            GateAction.ALLOW,
            "budget-exhausted",
        ),
        (
            "page alert denies",
            facts(firing=frozenset({Severity.PAGE})),
            None,
            GateAction.DENY,
            "paging",
        ),
        (
            "ticket alert is not a page",
            facts(firing=frozenset({Severity.TICKET})),
            None,
            GateAction.ALLOW,
            None,
        ),
        # 0.5 consumed is not more than 0.5: strict comparison.
        (
            "half consumed is the boundary",
            facts(consumed_within={TEN_DAYS: 0.5}),
            None,
            GateAction.ALLOW,
            None,
        ),
        (
            "more than half needs approval",
            facts(consumed_within={TEN_DAYS: 0.51}),
            None,
            GateAction.REQUIRE_APPROVAL,
            "fast-spend",
        ),
        (
            "hot burn needs approval",
            facts(burn_rate_within={HOUR: 2.5}),
            None,
            GateAction.REQUIRE_APPROVAL,
            "hot",
        ),
        (
            "no data needs approval",
            facts(
                total=0.0,
                budget_remaining=None,
                consumed_within={TEN_DAYS: None},
                burn_rate_within={HOUR: None},
            ),
            None,
            GateAction.REQUIRE_APPROVAL,
            "blind",
        ),
    ],
)
def test_single_slo_decisions(
    name: str, slo: SLOFacts, change_type: str | None, action: GateAction, rule: str | None
) -> None:
    decision = decide([slo], [POLICY], change_type=change_type)
    assert decision.action is action, name
    assert (decision.decided_by.rule if decision.decided_by else None) == rule
    assert decision.allowed is (action is GateAction.ALLOW)
    assert decision.policies == ("release",)


def test_first_matching_rule_decides_per_slo_and_most_restrictive_wins() -> None:
    # Both rules hold for one SLO; the earlier (freeze) decides for it.
    both = facts(budget_remaining=-1.0, consumed_within={TEN_DAYS: 0.9})
    decision = decide([both], [POLICY])
    assert [m.rule for m in decision.matches] == ["budget-exhausted"]
    # Across SLOs, deny beats require_approval whatever the order.
    other = facts(key="checkout/latency", consumed_within={TEN_DAYS: 0.9})
    decision = decide([other, both], [POLICY])
    assert decision.action is GateAction.DENY
    assert decision.decided_by is not None and decision.decided_by.slo == "checkout/availability"
    assert len(decision.matches) == 2


def test_policies_attach_by_service_slo_key_or_name() -> None:
    by_key = ErrorBudgetPolicy("by-key", (FREEZE,), slos=("checkout/availability",))
    by_name = ErrorBudgetPolicy("named", (FREEZE,))
    unrelated = ErrorBudgetPolicy("other", (FREEZE,), services=("search",))
    slo = facts(policy="named")
    names = [p.name for p in policies_for(slo, [POLICY, by_key, by_name, unrelated])]
    assert names == ["release", "by-key", "named"]
    decision = decide([facts(service="search", key="search/x")], [POLICY])
    assert decision.action is GateAction.ALLOW and decision.policies == ()


def test_figures_without_data_do_not_hold() -> None:
    # No events in a window means no figure: only no_data rules speak for silence.
    slo = facts()
    whole_window = PolicyCondition(ConditionKind.BUDGET_CONSUMED_OVER, value=0.1)
    # Without `within`, consumption is over the whole window: 1 - 0.8 remaining = 20 %.
    assert condition_holds(whole_window, slo) == (
        "20.00% of the error budget consumed in the SLO window"
    )
    assert condition_holds(whole_window, facts(budget_remaining=None)) is None
    assert (
        condition_holds(
            PolicyCondition(ConditionKind.BUDGET_REMAINING_BELOW, value=0.5),
            facts(budget_remaining=None),
        )
        is None
    )
    assert condition_holds(HOT.condition, facts(burn_rate_within={HOUR: None})) is None
    assert condition_holds(FAST_SPEND.condition, facts(consumed_within={TEN_DAYS: None})) is None
    # An alert condition without a severity means a page.
    assert (
        condition_holds(
            PolicyCondition(ConditionKind.ALERT_FIRING), facts(firing=frozenset({Severity.PAGE}))
        )
        == "page burn-rate alert firing"
    )


@pytest.mark.parametrize(
    ("name", "condition", "slo", "reason"),
    [
        (
            "no threshold",
            PolicyCondition(ConditionKind.BUDGET_REMAINING_BELOW),
            facts(),
            "budget_remaining_below has no usable threshold (None)",
        ),
        (
            "a threshold that is not a number",
            PolicyCondition(ConditionKind.BUDGET_CONSUMED_OVER, value=float("nan")),
            facts(),
            "budget_consumed_over has no usable threshold (nan)",
        ),
        (
            "a burn rate without a window",
            PolicyCondition(ConditionKind.BURN_RATE_ABOVE, value=0.1),
            facts(),
            "burn_rate_above has no window (within)",
        ),
        (
            "a burn rate window never computed",
            PolicyCondition(ConditionKind.BURN_RATE_ABOVE, value=0.1, within=timedelta(days=2)),
            facts(),
            "no burn rate figure over the last 2d was computed",
        ),
        (
            "a consumption window never computed",
            PolicyCondition(ConditionKind.BUDGET_CONSUMED_OVER, value=0.5, within=HOUR),
            facts(),
            "no budget consumed figure over the last 1h was computed",
        ),
        (
            "a figure that is not a number",
            FREEZE.condition,
            facts(budget_remaining=float("nan")),
            "the budget_remaining_below figure over the SLO window is not a number",
        ),
    ],
)
def test_a_rule_that_cannot_be_checked_holds(
    name: str, condition: PolicyCondition, slo: SLOFacts, reason: str
) -> None:
    # Comparing with nothing (or NaN) is always false: the rule would silently pass.
    assert condition_holds(condition, slo) == f"rule cannot be checked: {reason}", name
    rule = PolicyRule("broken", condition, GateAction.DENY)
    decision = decide([slo], [ErrorBudgetPolicy("p", (rule,), services=("checkout",))])
    assert decision.action is GateAction.DENY, name
    assert decision.decided_by is not None and decision.decided_by.rule == "broken", name


def test_reasons_carry_the_figures() -> None:
    reason = condition_holds(FAST_SPEND.condition, facts(consumed_within={TEN_DAYS: 0.625}))
    assert reason == "62.50% of the error budget consumed in the last 10d"
    reason = condition_holds(FREEZE.condition, facts(budget_remaining=-0.25))
    assert reason == "error budget remaining -25.00% < 0.00%"


def test_rule_windows_lists_every_within() -> None:
    assert rule_windows([POLICY]) == {TEN_DAYS, HOUR}


def test_facts_for_counts_rule_windows_from_the_series() -> None:
    from datetime import UTC, datetime

    from watchkeeper.core.evaluation import evaluate
    from watchkeeper.core.series import EventSeries
    from watchkeeper.core.slo import SLI, SLO, MaintenanceWindow, RollingWindow

    at = datetime(2026, 11, 23, tzinfo=UTC)
    slo = SLO(
        service="checkout",
        name="availability",
        sli=SLI(name="requests"),
        objective=0.99,
        window=RollingWindow(timedelta(days=30)),
        maintenance=(MaintenanceWindow(at - timedelta(days=2, hours=1), at - timedelta(days=2)),),
    )
    day = 86400.0
    series = EventSeries.from_counts(
        [at.timestamp() - 20 * day, at.timestamp() - 5 * day, at.timestamp() - 2 * day - 1800],
        [900, 80, 0],
        [900, 100, 500],  # the last 500 (all bad) fall in maintenance and are ignored
    )
    status = evaluate(slo, series, at)
    facts_ = facts_for(slo, series, status, {TEN_DAYS, HOUR})
    # Window: 1000 events, 20 bad. Budget in events: 0.01 x 1000 = 10.
    # Last 10 days: 20 bad -> 20 / 10 = 2.0 of the budget; burn (20/100)/0.01 = 20.
    assert facts_.total == 1000
    # (1 - 0.99 is 0.010000000000000009 in floating point, hence the unrounded forms.)
    assert facts_.consumed_within[TEN_DAYS] == 20 / ((1 - 0.99) * 1000)
    assert facts_.burn_rate_within[TEN_DAYS] == (20 / 100) / (1 - 0.99)
    # Last hour: no events -> nothing consumed, no burn rate.
    assert facts_.consumed_within[HOUR] == 0.0
    assert facts_.burn_rate_within[HOUR] is None
    assert facts_.budget_remaining == 1 - (20 / 1000) / (1 - 0.99)  # about -1.0
    decision = decide([facts_], [POLICY])
    assert decision.action is GateAction.DENY


def test_facts_for_without_events_has_no_figures() -> None:
    from datetime import UTC, datetime

    from watchkeeper.core.evaluation import evaluate
    from watchkeeper.core.series import EventSeries
    from watchkeeper.core.slo import SLI, SLO, RollingWindow

    at = datetime(2026, 11, 23, tzinfo=UTC)
    slo = SLO("s", "x", SLI(name="x"), 0.9, RollingWindow(timedelta(days=7)))
    status = evaluate(slo, EventSeries.empty(), at)
    facts_ = facts_for(slo, EventSeries.empty(), status, {HOUR})
    assert facts_.consumed_within[HOUR] is None
    assert facts_.total == 0


def test_a_policy_named_but_missing_denies() -> None:
    decision = decide([facts(policy="releas")], [POLICY])
    assert decision.action is GateAction.DENY
    assert decision.decided_by is not None
    assert decision.decided_by.rule == "missing-policy"
    assert "'releas'" in decision.decided_by.reason


def test_consumption_within_a_calendar_window_ignores_the_previous_period() -> None:
    from datetime import UTC, datetime

    from watchkeeper.core.evaluation import evaluate
    from watchkeeper.core.series import EventSeries
    from watchkeeper.core.slo import SLI, SLO, CalendarUnit, CalendarWindow

    at = datetime(2026, 12, 1, 6, tzinfo=UTC)  # six hours into December (UTC month)
    slo = SLO("s", "x", SLI(name="x"), 0.99, CalendarWindow(CalendarUnit.MONTH, "UTC"))
    # November: 50 bad of 1000. December so far: 0 bad of 100.
    series = EventSeries.from_counts(
        [at.timestamp() - 2 * 86400, at.timestamp() - 3600], [950, 100], [1000, 100]
    )
    status = evaluate(slo, series, at)
    assert status.error_budget_remaining == 1.0
    assert facts_for(slo, series, status, {TEN_DAYS}).consumed_within[TEN_DAYS] == 0.0


def test_an_slo_the_gate_could_not_evaluate_counts_as_no_data() -> None:
    prometheus = unevaluated_facts(
        key="checkout/payments", service="checkout", policy=None, reason="reads Prometheus"
    )
    assert condition_holds(BLIND.condition, prometheus) == "not evaluated: reads Prometheus"
    # It has no figures: every other rule is silent about it, as for an SLO without events.
    for rule in (FREEZE, FAST_SPEND, PAGING, HOT):
        assert condition_holds(rule.condition, prometheus) is None, rule.name
    deny_blind = ErrorBudgetPolicy(
        "blind-deny",
        (PolicyRule("blind", PolicyCondition(ConditionKind.NO_DATA), GateAction.DENY),),
        services=("checkout",),
    )
    decision = decide([facts(), prometheus], [deny_blind])
    assert decision.action is GateAction.DENY
    assert decision.policies == ("blind-deny",)
    assert decision.decided_by == RuleMatch(
        "blind-deny",
        "blind",
        "checkout/payments",
        GateAction.DENY,
        "not evaluated: reads Prometheus",
    )
    # A policy with nothing to say about it does not let it through unchecked: a person must
    # approve, and the output says why.
    silent = decide([prometheus], [ErrorBudgetPolicy("r", (FREEZE,), services=("checkout",))])
    assert (silent.action, silent.policies) == (GateAction.REQUIRE_APPROVAL, ("r",))
    assert silent.decided_by == RuleMatch(
        "r",
        NOT_EVALUATED_RULE,
        "checkout/payments",
        GateAction.REQUIRE_APPROVAL,
        "not evaluated: reads Prometheus; no rule of r decides for an SLO without data, so a "
        "person must approve",
    )
    # Only a rule that says so lets an unchecked SLO through...
    allow_blind = PolicyRule("blind", PolicyCondition(ConditionKind.NO_DATA), GateAction.ALLOW)
    lenient = decide(
        [prometheus], [ErrorBudgetPolicy("r", (FREEZE, allow_blind), services=("checkout",))]
    )
    assert lenient.action is GateAction.ALLOW
    assert lenient.decided_by is not None and lenient.decided_by.rule == "blind"
    # ... or an exemption of the change type from the rule that would hold.
    exempt_blind = PolicyRule(
        "blind",
        PolicyCondition(ConditionKind.NO_DATA),
        GateAction.DENY,
        exempt_change_types=("rollback",),
    )
    rollback = decide(
        [prometheus],
        [ErrorBudgetPolicy("r", (exempt_blind,), services=("checkout",))],
        change_type="rollback",
    )
    assert rollback.action is GateAction.ALLOW
    assert rollback.decided_by is not None and rollback.decided_by.exempt
    # An SLO with figures that no rule matches is allowed as before.
    assert decide([facts()], [ErrorBudgetPolicy("r", (FREEZE,), services=("checkout",))]).allowed


def test_an_exemption_says_which_rule_it_passed() -> None:
    paging_burn = PolicyRule(
        "paging-burn",
        PolicyCondition(ConditionKind.ALERT_FIRING, severity=Severity.PAGE),
        GateAction.DENY,
        exempt_change_types=("fix", "rollback"),
    )
    policy = ErrorBudgetPolicy("release", (paging_burn,), services=("checkout",))
    paging = facts(firing=frozenset({Severity.PAGE}))
    decision = decide([paging], [policy], change_type="rollback")
    assert decision.action is GateAction.ALLOW
    expected = RuleMatch(
        "release",
        "paging-burn",
        "checkout/availability",
        GateAction.ALLOW,
        "exempt from rule paging-burn: change type rollback (page burn-rate alert firing)",
        exempt=True,
    )
    assert decision.decided_by == expected
    assert decision.exemptions == (expected,)
    assert decision.matches == ()
    # Without the exemption the same rule denies.
    assert decide([paging], [policy], change_type="feature").decided_by == RuleMatch(
        "release",
        "paging-burn",
        "checkout/availability",
        GateAction.DENY,
        "page burn-rate alert firing",
    )


def test_a_later_rule_still_decides_after_an_exemption() -> None:
    # Exhausted and hot: a fix passes the freeze but the hot burn still needs an approval.
    hot = facts(budget_remaining=-0.5, burn_rate_within={HOUR: 3.0})
    decision = decide([hot], [POLICY], change_type="fix")
    assert decision.action is GateAction.REQUIRE_APPROVAL
    assert decision.decided_by is not None and decision.decided_by.rule == "hot"
    assert [(m.rule, m.exempt) for m in decision.exemptions] == [("budget-exhausted", True)]


def test_an_exemption_is_named_before_a_plain_allow_rule() -> None:
    quiet_ok = ErrorBudgetPolicy(
        "quiet",
        (PolicyRule("quiet-ok", PolicyCondition(ConditionKind.NO_DATA), GateAction.ALLOW),),
        slos=("checkout/latency",),
    )
    freeze = ErrorBudgetPolicy("freeze", (FREEZE,), slos=("checkout/availability",))
    silent = facts(key="checkout/latency", total=0.0, budget_remaining=None)
    exhausted = facts(budget_remaining=-0.5)
    decision = decide([silent, exhausted], [quiet_ok, freeze], change_type="fix")
    assert decision.action is GateAction.ALLOW
    assert [m.rule for m in decision.matches] == ["quiet-ok"]
    assert decision.decided_by is not None
    assert (decision.decided_by.rule, decision.decided_by.exempt) == ("budget-exhausted", True)
    # With nothing exempted, the allow rule is named.
    alone = decide([silent], [quiet_ok, freeze], change_type="fix")
    assert alone.decided_by is not None and alone.decided_by.rule == "quiet-ok"


INCIDENT = OpenIncident(12, "Checkout down", "SEV1", "identified")
SEVERITIES = ("SEV1", "SEV2", "SEV3", "SEV4")


def test_an_open_incident_requires_approval_by_default() -> None:
    decision = decide(
        [facts()], [POLICY], incidents=[INCIDENT], service="checkout", severities=SEVERITIES
    )
    assert decision.action is GateAction.REQUIRE_APPROVAL
    assert decision.decided_by == RuleMatch(
        "release",
        OPEN_INCIDENT_RULE,
        "checkout",
        GateAction.REQUIRE_APPROVAL,
        "SEV1 incident #12 is open on checkout (identified): Checkout down",
        incident=INCIDENT,
    )


@pytest.mark.parametrize(
    ("rule", "severity", "change_type", "action"),
    [
        (IncidentRule(), "sev2", None, GateAction.REQUIRE_APPROVAL),  # names match in any case
        (IncidentRule(), "SEV3", None, GateAction.ALLOW),
        (IncidentRule(("SEV3",), IncidentDecision.DENY), "SEV3", None, GateAction.DENY),
        (IncidentRule(decision=IncidentDecision.IGNORE), "SEV1", None, GateAction.ALLOW),
        (IncidentRule(exempt_change_types=("rollback",)), "SEV1", "rollback", GateAction.ALLOW),
        (
            IncidentRule(exempt_change_types=("rollback",)),
            "SEV1",
            "fix",
            GateAction.REQUIRE_APPROVAL,
        ),
    ],
)
def test_incident_rules(
    rule: IncidentRule, severity: str, change_type: str | None, action: GateAction
) -> None:
    policy = ErrorBudgetPolicy("release", (BLIND,), services=("checkout",), incidents=rule)
    incident = OpenIncident(3, "t", severity, "investigating")
    decision = decide(
        [facts()],
        [policy],
        change_type=change_type,
        incidents=[incident],
        service="checkout",
        severities=SEVERITIES,
    )
    assert decision.action is action
    if change_type == "rollback":
        assert decision.exemptions[0].incident == incident


def test_the_strictest_policy_decides_and_no_policy_means_built_in() -> None:
    strict = ErrorBudgetPolicy(
        "strict",
        (BLIND,),
        services=("checkout",),
        incidents=IncidentRule(decision=IncidentDecision.DENY),
    )
    decision = decide(
        [facts()], [POLICY, strict], incidents=[INCIDENT], service="checkout", severities=SEVERITIES
    )
    assert decision.action is GateAction.DENY
    assert [m.policy for m in decision.matches] == ["release", "strict"]
    rules = incident_rules([facts()], [])
    assert rules == {BUILT_IN_POLICY: IncidentRule()}
    assert blocking_severities(rules, configured=SEVERITIES) == {"SEV1", "SEV2"}
    assert blocking_severities(rules, configured=("P1", "P2", "P3")) == {"P1", "P2"}
    ignored = {"p": IncidentRule(decision=IncidentDecision.IGNORE)}
    assert blocking_severities(ignored, configured=SEVERITIES) == set()
    built_in = decide(
        [facts()], [], incidents=[INCIDENT], service="checkout", severities=SEVERITIES
    )
    assert built_in.decided_by is not None and built_in.decided_by.policy == BUILT_IN_POLICY
