"""``watchkeeper gate``: exit 0 to deploy, 1 when denied or an approval is needed."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from tests.cli_runner import upgraded
from tests.policy import traffic
from watchkeeper.config import Settings
from watchkeeper.db import make_engine, make_session_factory, session_scope, utcnow
from watchkeeper.events import service as events_service

Run = Callable[..., Result]
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture
def run(tmp_path: Path) -> Run:
    return upgraded(tmp_path / "data")


@pytest.fixture
def api(run: Run, tmp_path: Path) -> Callable[[str], None]:
    """The api SLO and policy applied through the CLI; call it with a traffic shape."""
    spec = tmp_path / "api.yaml"
    spec.write_text(traffic.SPEC + "---\n" + traffic.POLICY)
    assert run("slo", "apply", str(spec)).exit_code == 0

    def send(shape: str) -> None:
        # The gate evaluates at the real clock: the events are placed relative to it.
        now = utcnow()
        engine = make_engine(Settings(data_dir=tmp_path / "data").resolved_database_url())
        with session_scope(make_session_factory(engine)) as session:
            events_service.ingest(session, traffic.rows(shape, now), now=now)
        engine.dispose()

    return send


@pytest.mark.parametrize(
    ("shape", "change_type", "code", "decision", "rule"),
    [
        ("healthy", None, 0, "allow", None),
        ("fast", None, 1, "require_approval", "fast-spend"),
        ("exhausted", None, 1, "deny", "budget-exhausted"),
        ("exhausted", "fix", 1, "require_approval", "fast-spend"),
        ("exhausted", "rollback", 0, "allow", "budget-exhausted"),
    ],
)
def test_gate_json(
    run: Run,
    api: Callable[[str], None],
    shape: str,
    change_type: str | None,
    code: int,
    decision: str,
    rule: str | None,
) -> None:
    api(shape)
    extra = ["--change-type", change_type] if change_type else []
    result = run("gate", "--service", "api", "--json", *extra)
    assert result.exit_code == code
    body = json.loads(result.stdout)
    assert (body["service"], body["decision"], body["allowed"]) == ("api", decision, code == 0)
    assert (body["decided_by"] or {}).get("rule") == rule
    assert body["policies"] == ["api-policy"]
    assert [s["key"] for s in body["slos"]] == ["api/availability"]
    assert body["not_evaluated"] == []


def test_gate_text(run: Run, api: Callable[[str], None]) -> None:
    api("exhausted")
    denied = run("gate", "--service", "api")
    assert denied.exit_code == 1
    assert "DENY deploy of api" in denied.stdout
    assert (
        "decided by policy 'api-policy' rule 'budget-exhausted' on api/availability: "
        "error budget remaining -50.00% < 0.00%"
    ) in " ".join(denied.stdout.split())  # Rich wraps lines at the terminal width
    allowed = run("gate", "--service", "api", "--change-type", "rollback")
    assert allowed.exit_code == 0
    assert "ALLOW deploy of api (change type rollback)" in allowed.stdout
    assert (
        "allowed by policy 'api-policy' on api/availability: exempt from rule "
        "budget-exhausted: change type rollback (error budget remaining -50.00% < 0.00%)"
    ) in " ".join(allowed.stdout.split())
    assert "no rule" not in allowed.stdout


def test_gate_without_policy_or_service(run: Run, tmp_path: Path) -> None:
    spec = tmp_path / "api.yaml"
    spec.write_text(traffic.SPEC)
    run("slo", "apply", str(spec))
    free = run("gate", "--service", "api")
    assert free.exit_code == 0
    assert "no error-budget policy applies to this service" in free.stdout
    unknown = run("gate", "--service", "web")
    assert unknown.exit_code == 1
    assert unknown.stdout == ""
    assert "no SLOs have been applied for service 'web'" in unknown.stderr
    assert run("gate").exit_code == 2  # --service is required: a usage error


def test_an_slo_reading_prometheus_is_named_and_counts_as_no_data(run: Run, tmp_path: Path) -> None:
    spec = tmp_path / "payments.yaml"
    spec.write_text(
        (EXAMPLES / "sloth" / "payments-raw.yaml").read_text() + "---\n" + traffic.NO_DATA_DENY
    )
    assert run("slo", "apply", str(spec)).exit_code == 0
    as_json = run("gate", "--service", "payments-gateway", "--json")
    # Skipped before, this answered ALLOW, exit 0, with no policy applied.
    assert as_json.exit_code == 1
    body = json.loads(as_json.stdout)
    assert (body["decision"], body["policies"]) == ("deny", ["payments-policy"])
    assert (
        body["decided_by"]["reason"]
        == "not evaluated: no Prometheus source configured: set WATCHKEEPER_PROMETHEUS_URL"
    )
    assert body["not_evaluated"] == [
        {
            "slo": "payments-gateway/authorisations",
            "reason": "no Prometheus source configured: set WATCHKEEPER_PROMETHEUS_URL",
        }
    ]
    text = run("gate", "--service", "payments-gateway")
    assert text.exit_code == 1
    flat = " ".join(text.stdout.split())
    assert "DENY deploy of payments-gateway" in flat
    assert (
        "decided by policy 'payments-policy' rule 'blind' on payments-gateway/authorisations: "
        "not evaluated: no Prometheus source configured: set WATCHKEEPER_PROMETHEUS_URL"
    ) in flat
    assert (
        "payments-gateway/authorisations: not evaluated: no Prometheus source configured: "
        "set WATCHKEEPER_PROMETHEUS_URL (counts as no data)"
    ) in flat
