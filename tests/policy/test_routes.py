"""The gate and policy endpoints."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tests.policy import traffic
from watchkeeper.db import utcnow
from watchkeeper.events import service as events_service
from watchkeeper.flows import specs as spec_flows
from watchkeeper.specs import load_text

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

GATE = "/api/v1/gate"


@pytest.fixture
def api(session_factory: sessionmaker[Session]) -> sessionmaker[Session]:
    """The api SLO and its policy, applied (events are added per test)."""
    with session_factory() as session:
        spec_set = load_text(traffic.SPEC + "---\n" + traffic.POLICY)
        spec_flows.apply(session, spec_set=spec_set, now=utcnow())
        session.commit()
    return session_factory


def traffic_now(session_factory: sessionmaker[Session], shape: str) -> None:
    # The gate evaluates at the real clock, so the events are placed relative to it.
    now = utcnow()
    with session_factory() as session:
        events_service.ingest(session, traffic.rows(shape, now), now=now)
        session.commit()


@pytest.mark.parametrize(
    ("shape", "change_type", "allowed", "decision", "rule"),
    [
        ("healthy", None, True, "allow", None),
        ("fast", None, False, "require_approval", "fast-spend"),
        ("exhausted", None, False, "deny", "budget-exhausted"),
        ("exhausted", "fix", False, "require_approval", "fast-spend"),
        # Exempt from both rules: the first exemption says why the rollback may go.
        ("exhausted", "rollback", True, "allow", "budget-exhausted"),
    ],
)
def test_gate(
    client: TestClient,
    viewer_headers: dict[str, str],
    api: sessionmaker[Session],
    shape: str,
    change_type: str | None,
    allowed: bool,
    decision: str,
    rule: str | None,
) -> None:
    traffic_now(api, shape)
    params = {"service": "api"} | ({"change_type": change_type} if change_type else {})
    response = client.get(GATE, params=params, headers=viewer_headers)
    assert response.status_code == 200
    body = response.json()
    assert {
        "service", "allowed", "decision", "decided_by", "matches", "exemptions", "policies",
        "slos", "not_evaluated",
    } <= set(body)  # fmt: skip
    assert (body["service"], body["change_type"]) == ("api", change_type)
    assert (body["allowed"], body["decision"]) == (allowed, decision)
    assert body["policies"] == ["api-policy"]
    if rule is None:
        assert body["decided_by"] is None
    else:
        assert body["decided_by"]["rule"] == rule
        assert body["decided_by"]["policy"] == "api-policy"
        assert body["decided_by"]["slo"] == "api/availability"
        assert body["decided_by"]["action"] == decision
        exempt = change_type == "rollback"
        assert body["decided_by"]["exempt"] is exempt
        assert body["decided_by"] in (body["exemptions"] if exempt else body["matches"])
    [slo] = body["slos"]
    assert slo["key"] == "api/availability"
    assert slo["total"] == 10000.0
    remaining = {"healthy": 1.0, "fast": 0.3, "exhausted": -0.5}[shape]
    assert slo["error_budget_remaining"] == pytest.approx(remaining)
    assert body["not_evaluated"] == []


def test_gate_errors(client: TestClient, viewer_headers: dict[str, str], api: object) -> None:
    unknown = client.get(GATE, params={"service": "web"}, headers=viewer_headers)
    assert unknown.status_code == 404
    assert unknown.json()["error"] == "ServiceNotFound"
    assert "'web'" in unknown.json()["detail"]
    missing = client.get(GATE, headers=viewer_headers)
    assert missing.status_code == 422
    assert missing.json()["error"] == "InvalidInput"
    assert client.get(GATE, params={"service": "api"}).status_code == 401


def test_list_and_delete_policies(
    client: TestClient,
    admin_headers: dict[str, str],
    viewer_headers: dict[str, str],
    api: object,
) -> None:
    listed = client.get("/api/v1/policies", headers=viewer_headers).json()
    assert [p["name"] for p in listed] == ["api-policy"]
    spec = listed[0]["spec"]
    assert spec["services"] == ["api"]
    assert [r["name"] for r in spec["rules"]] == ["budget-exhausted", "fast-spend"]
    assert client.delete("/api/v1/policies/api-policy", headers=viewer_headers).status_code == 403
    deleted = client.delete("/api/v1/policies/api-policy", headers=admin_headers)
    assert deleted.status_code == 204
    assert client.get("/api/v1/policies", headers=viewer_headers).json() == []
    again = client.delete("/api/v1/policies/api-policy", headers=admin_headers)
    assert (again.status_code, again.json()["error"]) == (404, "PolicyNotFound")
    # Without its policy the gate lets every deploy through.
    gate = client.get(GATE, params={"service": "api"}, headers=viewer_headers).json()
    assert (gate["decision"], gate["policies"]) == ("allow", [])


def test_gate_names_the_rollback_exemption_and_unevaluated_slos(
    client: TestClient, viewer_headers: dict[str, str], api: sessionmaker[Session]
) -> None:
    with api() as session:
        sloth = (EXAMPLES / "sloth" / "payments-raw.yaml").read_text()
        sloth = sloth.replace('"payments-gateway"', "api")
        spec_flows.apply(session, spec_set=load_text(sloth), now=utcnow())
        session.commit()
    traffic_now(api, "exhausted")
    params = {"service": "api", "change_type": "rollback"}
    body = client.get(GATE, params=params, headers=viewer_headers).json()
    # The rollback passes both rules that hold for the evaluated SLO, and says so; the SLO
    # read from Prometheus could not be checked and its policy has no rule for that, so a
    # person must approve.
    assert (body["decision"], body["allowed"]) == ("require_approval", False)
    assert body["decided_by"] == {
        "policy": "api-policy",
        "rule": "not-evaluated",
        "slo": "api/authorisations",
        "action": "require_approval",
        "reason": "not evaluated: no Prometheus source configured: set "
        "WATCHKEEPER_PROMETHEUS_URL; no rule of api-policy decides for an SLO "
        "without data, so a person must approve",
        "exempt": False,
        "incident": None,
    }
    assert body["exemptions"][0]["reason"] == (
        "exempt from rule budget-exhausted: change type rollback "
        "(error budget remaining -50.00% < 0.00%)"
    )
    assert [(m["rule"], m["slo"]) for m in body["exemptions"]] == [
        ("budget-exhausted", "api/availability"),
        ("fast-spend", "api/availability"),
    ]
    assert body["not_evaluated"] == [
        {
            "slo": "api/authorisations",
            "reason": "no Prometheus source configured: set WATCHKEEPER_PROMETHEUS_URL",
        }
    ]
