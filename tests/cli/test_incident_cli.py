"""``watchkeeper incident ...`` and the gate naming an open incident, end to end on SQLite."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli_runner import Run
from tests.policy import traffic


def test_declare_run_and_show(run: Run) -> None:
    declared = run(
        "incident",
        "declare",
        "--title",
        "Checkout 500s",
        "--severity",
        "sev2",
        "--service",
        "checkout",
        "--commander",
        "bob",
        "--as",
        "alice",
        "--json",
    )
    assert declared.exit_code == 0, declared.output
    incident = json.loads(declared.stdout)
    assert (incident["id"], incident["severity"], incident["declared_by"]) == (1, "SEV2", "alice")
    assert run("incident", "ack", "1", "--as", "bob").stdout.strip() == (
        "incident #1 acknowledged by bob"
    )
    assert run("incident", "status", "1", "identified").exit_code == 0
    assert run("incident", "note", "1", "rolled back 1.4.2").exit_code == 0
    assert run("incident", "role", "1", "--role", "scribe", "--user", "carol").exit_code == 0
    assert run("incident", "resolve", "1", "--note", "fixed").exit_code == 0
    shown = json.loads(run("incident", "show", "1", "--json").stdout)
    assert shown["status"] == "resolved"
    assert [e["kind"] for e in shown["timeline"]] == [
        "declared",
        "role",
        "acknowledged",
        "status",
        "note",
        "role",
        "resolved",
    ]
    text = run("incident", "show", "1").stdout
    assert "#1 SEV2 resolved: Checkout 500s" in text and "scribe: carol" in text
    listed = json.loads(run("incident", "list", "--status", "resolved", "--json").stdout)
    assert [i["id"] for i in listed] == [1]
    assert "Checkout 500s" in run("incident", "list").stdout
    metrics = json.loads(run("incident", "metrics", "--since", "1d", "--json").stdout)
    assert metrics["overall"]["count"] == 1 and metrics["overall"]["resolved"] == 1
    assert "by service" in run("incident", "metrics").stdout


def test_clear_errors(run: Run) -> None:
    bad = run("incident", "declare", "--title", "t", "--severity", "SEV0")
    assert bad.exit_code == 1
    assert "did you mean" in bad.stderr and "severity" in bad.stderr
    assert run("incident", "show", "7").stderr.strip() == "error: no incident #7"
    run("incident", "declare", "--title", "t", "--severity", "SEV3")
    run("incident", "resolve", "1")
    again = run("incident", "status", "1", "monitoring")
    assert again.exit_code == 1 and "reopen it first" in again.stderr
    assert run("incident", "reopen", "1").exit_code == 0
    wrong = run("incident", "status", "1", "fixed")
    assert wrong.exit_code == 1 and "status: 'fixed'" in wrong.stderr
    period = run("incident", "metrics", "--since", "last week")
    assert period.exit_code == 1 and "since" in period.stderr


def test_severities_list_and_apply(run: Run, tmp_path: Path) -> None:
    listed = json.loads(run("incident", "severities", "--json").stdout)
    assert [s["name"] for s in listed] == ["SEV1", "SEV2", "SEV3", "SEV4"]
    assert "acknowledge within" in run("incident", "severities").stdout
    good = tmp_path / "sev.yaml"
    good.write_text("severities:\n  - {name: P1, response: 10m}\n  - {name: P2}\n")
    applied = run("incident", "severities", "apply", str(good))
    assert applied.exit_code == 0 and "P1, P2" in applied.stdout
    bad = tmp_path / "bad.yaml"
    bad.write_text("severities:\n  - {name: P1, response: soon}\n")
    refused = run("incident", "severities", "apply", str(bad))
    assert refused.exit_code == 1 and f"{bad}:2" in refused.stderr
    run("incident", "declare", "--title", "t", "--severity", "P2")
    good.write_text("severities:\n  - {name: P1}\n")
    in_use = run("incident", "severities", "apply", str(good))
    assert in_use.exit_code == 1 and "P2 still used" in in_use.stderr


def test_gate_names_the_open_incident(run: Run, tmp_path: Path) -> None:
    spec = tmp_path / "api.yaml"
    spec.write_text(traffic.SPEC + "---\n" + traffic.POLICY)
    assert run("slo", "apply", str(spec)).exit_code == 0
    assert run("gate", "--service", "api").exit_code == 0  # no events, no rule holds
    run("incident", "declare", "--title", "API down", "--severity", "SEV1", "--service", "api")
    held = run("gate", "--service", "api", "--json")
    assert held.exit_code == 1
    document = json.loads(held.stdout)
    assert document["decision"] == "require_approval"
    assert document["decided_by"]["incident"] == {
        "id": 1,
        "title": "API down",
        "severity": "SEV1",
        "status": "investigating",
    }
    text = run("gate", "--service", "api").stdout
    assert "open-incident" in text and "open incident #1 SEV1 (investigating): API down" in text
