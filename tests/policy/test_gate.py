"""The deploy gate use case: a service's SLOs evaluated now, judged by its policies."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, event
from sqlalchemy.orm import Session

from tests.policy import traffic
from tests.slo import scenario, unevaluable
from tests.slo.scenario import AT
from watchkeeper.errors import WatchkeeperError
from watchkeeper.events import service as events_service
from watchkeeper.flows import specs as spec_flows
from watchkeeper.policy import gate
from watchkeeper.policy.gate import NotEvaluated
from watchkeeper.slo import service as slo_service
from watchkeeper.slo.exceptions import NotEvaluable, ServiceNotFound
from watchkeeper.slo.models import SLORecord
from watchkeeper.specs import load_paths, load_text

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def setup(session: Session, shape: str, *, policy: str = traffic.POLICY) -> None:
    spec_set = load_text(traffic.SPEC + "---\n" + policy)
    spec_flows.apply(session, spec_set=spec_set, now=AT)
    events_service.ingest(session, traffic.rows(shape, AT), now=AT)


@pytest.mark.parametrize(
    ("shape", "change_type", "decision", "rule"),
    [
        ("healthy", None, "allow", None),
        ("fast", None, "require_approval", "fast-spend"),
        ("exhausted", None, "deny", "budget-exhausted"),
        ("exhausted", "feature", "deny", "budget-exhausted"),
        # Fixes are exempt from the freeze but still need an approval when spending fast.
        ("exhausted", "fix", "require_approval", "fast-spend"),
        # A rollback passes both rules; the first it was exempted from is named.
        ("exhausted", "rollback", "allow", "budget-exhausted"),
        ("silent", None, "allow", None),
    ],
)
def test_decisions(
    session: Session, shape: str, change_type: str | None, decision: str, rule: str | None
) -> None:
    setup(session, shape)
    result = gate.check(session, service="api", change_type=change_type, now=AT)
    assert result.decision.action.value == decision
    assert result.decision.allowed is (decision == "allow")
    decided_by = result.decision.decided_by
    assert (decided_by.rule if decided_by else None) == rule
    assert result.decision.policies == ("api-policy",)
    assert (result.service, result.change_type, result.at) == ("api", change_type, AT)
    assert result.not_evaluated == []
    [status] = result.slos
    assert status.key == "api/availability"
    assert status.total == (0.0 if shape == "silent" else 10000.0)


@pytest.mark.parametrize(
    ("shape", "remaining", "reason"),
    [
        ("fast", 0.3, "70.00% of the error budget consumed in the last 1d"),
        ("exhausted", -0.5, "error budget remaining -50.00% < 0.00%"),
    ],
)
def test_reasons_carry_the_figures(
    session: Session, shape: str, remaining: float, reason: str
) -> None:
    setup(session, shape)
    result = gate.check(session, service="api", change_type=None, now=AT)
    assert result.slos[0].error_budget_remaining == pytest.approx(remaining)
    assert result.decision.decided_by is not None
    assert result.decision.decided_by.reason == reason
    assert result.decision.decided_by.slo == "api/availability"


def test_unknown_service(session: Session) -> None:
    setup(session, "healthy")
    with pytest.raises(ServiceNotFound, match="'web'") as caught:
        gate.check(session, service="web", change_type=None, now=AT)
    assert caught.value.status_code == 404


def test_no_policy_for_the_service_allows(session: Session) -> None:
    other = traffic.POLICY.replace("services: [api]", "services: [web]")
    setup(session, "exhausted", policy=other)
    result = gate.check(session, service="api", change_type=None, now=AT)
    assert result.decision.allowed
    assert result.decision.policies == ()
    assert result.decision.matches == ()


def test_the_most_restrictive_slo_decides_and_prometheus_slos_are_named(
    session: Session,
) -> None:
    two = traffic.SPEC + (
        "  - name: search\n    objective: 0.99\n    window: 30d\n    sli: {name: api-search}\n"
    )
    spec_flows.apply(session, spec_set=load_text(two + "---\n" + traffic.POLICY), now=AT)
    events_service.ingest(
        session,
        traffic.rows("fast", AT) + traffic.rows("exhausted", AT, sli="api-search"),
        now=AT,
    )
    sloth = (
        (EXAMPLES / "sloth" / "payments-raw.yaml").read_text().replace('"payments-gateway"', "api")
    )
    spec_flows.apply(session, spec_set=load_text(sloth), now=AT)
    result = gate.check(session, service="api", change_type=None, now=AT)
    assert sorted((m.slo, m.rule) for m in result.decision.matches) == [
        ("api/authorisations", "not-evaluated"),  # the policy has no rule for it: approval
        ("api/availability", "fast-spend"),
        ("api/search", "budget-exhausted"),
    ]
    assert result.decision.action.value == "deny"
    assert result.decision.decided_by is not None
    assert result.decision.decided_by.slo == "api/search"
    assert result.not_evaluated == [
        NotEvaluated(
            "api/authorisations", "no Prometheus source configured: set WATCHKEEPER_PROMETHEUS_URL"
        )
    ]
    assert [s.key for s in result.slos] == ["api/availability", "api/search"]


def test_an_slo_reading_prometheus_counts_as_no_data(session: Session) -> None:
    sloth = (EXAMPLES / "sloth" / "payments-raw.yaml").read_text()
    spec_flows.apply(session, spec_set=load_text(sloth + "---\n" + traffic.NO_DATA_DENY), now=AT)
    result = gate.check(session, service="payments-gateway", change_type=None, now=AT)
    # Skipping the SLO answered allow with no policy at all; it is now judged as no data.
    assert result.decision.action.value == "deny"
    assert result.decision.policies == ("payments-policy",)
    assert result.decision.decided_by is not None
    assert (result.decision.decided_by.rule, result.decision.decided_by.reason) == (
        "blind",
        "not evaluated: no Prometheus source configured: set WATCHKEEPER_PROMETHEUS_URL",
    )
    assert result.not_evaluated == [
        NotEvaluated(
            "payments-gateway/authorisations",
            "no Prometheus source configured: set WATCHKEEPER_PROMETHEUS_URL",
        )
    ]
    assert result.slos == []


class EvaluationFailed(NotEvaluable):
    """Stands for any failure of an SLO's evaluation (NotEvaluable and its subclasses)."""


def test_an_slo_whose_evaluation_fails_counts_as_no_data(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    setup(session, "healthy", policy=traffic.POLICY + BLIND_DENY)
    real = slo_service.evaluate_many

    def failing(
        session: Session, *, records: Sequence[SLORecord], at: datetime
    ) -> dict[str, slo_service.Evaluation | WatchkeeperError]:
        evaluations = real(session, records=records, at=at)
        evaluations["api/availability"] = EvaluationFailed(
            "evaluation failed: the grid did not load"
        )
        return evaluations

    monkeypatch.setattr(slo_service, "evaluate_many", failing)
    result = gate.check(session, service="api", change_type=None, now=AT)
    assert result.decision.action.value == "deny"
    assert result.decision.decided_by is not None
    assert result.decision.decided_by.reason == (
        "not evaluated: evaluation failed: the grid did not load"
    )
    assert result.not_evaluated == [
        NotEvaluated("api/availability", "evaluation failed: the grid did not load")
    ]
    monkeypatch.setattr(slo_service, "evaluate_many", real)
    healthy = gate.check(session, service="api", change_type=None, now=AT)
    assert healthy.decision.action.value == "allow"


BLIND_DENY = """\
  - name: blind
    when: {no_data: true}
    action: deny
"""


def test_the_example_policy_covers_the_example_slos(session: Session) -> None:
    spec_set = load_paths([EXAMPLES / "checkout.yaml", EXAMPLES / "checkout-policy.yaml"])
    spec_flows.apply(session, spec_set=spec_set, now=AT)
    # No events at all: the policy's 'blind' rule asks for an approval.
    result = gate.check(session, service="checkout", change_type=None, now=AT)
    assert result.decision.action.value == "require_approval"
    assert result.decision.decided_by is not None
    assert result.decision.decided_by.rule == "blind"
    assert len(result.slos) == 3


SHOP_POLICY = """\
apiVersion: watchkeeper/v1
kind: ErrorBudgetPolicy
name: shop-release
services: [shop]
rules:
  - name: blind
    when: {no_data: true}
    action: deny
"""


def test_stored_slos_that_cannot_be_read_or_evaluated_count_as_no_data(
    session: Session,
) -> None:
    # Stored before validation refused them: one spec no longer parses (objective 2), one
    # parses only as far as an older reader went (a 5000y window).
    spec_flows.apply(session, spec_set=load_text(scenario.SPEC + "---\n" + SHOP_POLICY), now=AT)
    events_service.ingest(session, scenario.event_rows(), now=AT)
    healthy = gate.check(session, service="shop", change_type=None, now=AT)
    assert healthy.decision.action.value == "allow" and healthy.not_evaluated == []

    unevaluable.insert_both(session)
    result = gate.check(session, service="shop", change_type=None, now=AT)

    assert result.decision.action.value == "deny"
    assert result.decision.policies == ("shop-release",)
    assert {item.slo for item in result.not_evaluated} == {unevaluable.FOREVER, unevaluable.BROKEN}
    reasons = " ".join(item.reason for item in result.not_evaluated)
    assert "objective" in reasons and "window" in reasons
    assert {status.key for status in result.slos} == {"shop/availability", "shop/latency"}


def _queries_of_check(session: Session, engine: Engine) -> tuple[int, gate.GateResult]:
    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    event.listen(engine, "before_cursor_execute", count)
    try:
        result = gate.check(session, service="api", change_type=None, now=AT)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return len(statements), result


def test_the_queries_do_not_grow_with_the_slos_of_the_service(
    session: Session, engine: Engine
) -> None:
    """The service's event-store SLOs are read together: 3 SLOs or 12, the same queries."""
    shapes = ["healthy", "fast", "exhausted", "silent"]
    spec_flows.apply(session, spec_set=load_text(traffic.POLICY), now=AT)
    counts: dict[int, int] = {}
    for size in (3, 12):
        names = [f"slo-{size}-{i}" for i in range(size)]
        spec = (
            traffic.SPEC.split("slos:\n")[0]
            + "slos:\n"
            + "".join(
                f"  - name: {name}\n    objective: 0.99\n    window: 30d\n"
                f"    sli: {{name: api-{name}}}\n"
                for name in names
            )
        )
        spec_flows.apply(session, spec_set=load_text(spec), now=AT)
        events_service.ingest(
            session,
            [
                row
                for i, name in enumerate(names)
                if shapes[i % 4] != "silent"
                for row in traffic.rows(shapes[i % 4], AT, sli=f"api-{name}")
            ],
            now=AT,
        )
        slo_service.to_core(slo_service.get(session, key=f"api/{names[0]}"))  # parsed once
        counts[size], result = _queries_of_check(session, engine)
        evaluated = {s.key: s for s in result.slos}
        assert set(evaluated) == {f"api/{name}" for name in names}
        assert result.not_evaluated == []
        # The figures of each SLO are those it has alone.
        for name in names:
            alone = slo_service.evaluate_now(session, key=f"api/{name}", at=AT)
            assert evaluated[f"api/{name}"].error_budget_remaining == (
                alone.status.error_budget_remaining
            )
        assert result.decision.action.value == "deny"
        for name in names:
            slo_service.delete(session, key=f"api/{name}")
    assert counts[3] == counts[12], counts
