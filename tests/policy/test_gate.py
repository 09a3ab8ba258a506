"""The deploy gate use case: a service's SLOs evaluated now, judged by its policies."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from tests.policy import traffic
from tests.slo.scenario import AT
from watchkeeper.events import service as events_service
from watchkeeper.policy import gate
from watchkeeper.slo import service as slo_service
from watchkeeper.slo.exceptions import ServiceNotFound
from watchkeeper.specs import load_paths, load_text

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def setup(session: Session, shape: str, *, policy: str = traffic.POLICY) -> None:
    spec_set = load_text(traffic.SPEC + "---\n" + policy)
    slo_service.apply(session, spec_set=spec_set, now=AT)
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
        ("exhausted", "rollback", "allow", None),
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


def test_the_most_restrictive_slo_decides_and_prometheus_slos_are_skipped(
    session: Session,
) -> None:
    two = traffic.SPEC + (
        "  - name: search\n    objective: 0.99\n    window: 30d\n    sli: {name: api-search}\n"
    )
    slo_service.apply(session, spec_set=load_text(two + "---\n" + traffic.POLICY), now=AT)
    events_service.ingest(
        session,
        traffic.rows("fast", AT) + traffic.rows("exhausted", AT, sli="api-search"),
        now=AT,
    )
    sloth = (
        (EXAMPLES / "sloth" / "payments-raw.yaml").read_text().replace('"payments-gateway"', "api")
    )
    slo_service.apply(session, spec_set=load_text(sloth), now=AT)
    result = gate.check(session, service="api", change_type=None, now=AT)
    assert [(m.slo, m.rule) for m in result.decision.matches] == [
        ("api/availability", "fast-spend"),
        ("api/search", "budget-exhausted"),
    ]
    assert result.decision.action.value == "deny"
    assert result.decision.decided_by is not None
    assert result.decision.decided_by.slo == "api/search"
    assert result.skipped == ["api/authorisations"]
    assert [s.key for s in result.slos] == ["api/availability", "api/search"]


def test_the_example_policy_covers_the_example_slos(session: Session) -> None:
    spec_set = load_paths([EXAMPLES / "checkout.yaml", EXAMPLES / "checkout-policy.yaml"])
    slo_service.apply(session, spec_set=spec_set, now=AT)
    # No events at all: the policy's 'blind' rule asks for an approval.
    result = gate.check(session, service="checkout", change_type=None, now=AT)
    assert result.decision.action.value == "require_approval"
    assert result.decision.decided_by is not None
    assert result.decision.decided_by.rule == "blind"
    assert len(result.slos) == 3
