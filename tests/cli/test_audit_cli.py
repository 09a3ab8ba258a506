"""``watchkeeper team ...`` and ``watchkeeper audit list|export``, end to end on SQLite."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli_runner import Run


def test_team_commands_and_the_audit_log_they_leave(run: Run, tmp_path: Path) -> None:
    assert run("user", "create", "ann", "--role", "editor").exit_code == 0
    assert run("team", "create", "payments").exit_code == 0
    assert run("team", "add-member", "payments", "ann").exit_code == 0
    owned = run("team", "own", "payments", "--service", "checkout", "--json")
    assert owned.exit_code == 0, owned.output
    assert json.loads(owned.stdout)["services"] == ["checkout"]
    listed = json.loads(run("team", "list", "--json").stdout)
    assert [(t["name"], t["members"], t["services"]) for t in listed] == [
        ("payments", ["ann"], ["checkout"])
    ]
    refused = run("team", "own", "payments", "--service", "a", "--schedule", "b")
    assert refused.exit_code == 1 and "exactly one" in refused.stderr
    missing = run("team", "add-member", "paymints", "ann")
    assert missing.exit_code == 1 and "did you mean 'payments'" in missing.stderr

    newest = json.loads(run("audit", "list", "--limit", "1", "--json").stdout)
    assert [e["summary"] for e in newest] == ["created team_service checkout of team 'payments'"]
    assert newest[0]["actor"] == {"kind": "cli", "name": "cli"}
    teams_only = json.loads(run("audit", "list", "--type", "team", "--json").stdout)
    assert [e["summary"] for e in teams_only] == ["created team payments"]
    assert "created team payments" in run("audit", "list").stdout

    target = tmp_path / "audit.json"
    written = run("audit", "export", "-o", str(target))
    assert written.exit_code == 0 and "wrote 4 audit events" in written.stderr
    exported = json.loads(target.read_text())
    # Oldest first.
    assert [e["object_type"] for e in exported] == ["user", "team", "team_member", "team_service"]
    assert [e["id"] for e in exported] == sorted(e["id"] for e in exported)
    to_stdout = json.loads(run("audit", "export", "--type", "team", "-o", "-").stdout)
    assert [e["summary"] for e in to_stdout] == ["created team payments"]


def test_changes_are_recorded_as_the_as_person(run: Run) -> None:
    declared = run(
        "incident", "declare", "--title", "Checkout 500s", "--severity", "sev2", "--as", "alice"
    )
    assert declared.exit_code == 0, declared.output
    assert run("incident", "ack", "1", "--as", "bob").exit_code == 0
    by_alice = json.loads(run("audit", "list", "--actor", "alice", "--json").stdout)
    assert {e["object_type"] for e in by_alice} >= {"incident"}
    assert {e["actor"]["kind"] for e in by_alice} == {"cli"}
    by_bob = json.loads(run("audit", "list", "--actor", "bob", "--json").stdout)
    assert sorted(e["summary"] for e in by_bob) == [
        "created incident_timeline acknowledged of incident #1",
        "updated incident #1 Checkout 500s: acknowledged_at, acknowledged_by, updated_at",
    ]


def test_bad_audit_options_exit_1(run: Run) -> None:
    wrong_type = run("audit", "list", "--type", "nope")
    assert wrong_type.exit_code == 1 and "type: 'nope' is not one of" in wrong_type.stderr
    wrong_time = run("audit", "export", "--since", "yesterday", "-o", "-")
    assert wrong_time.exit_code == 1 and "--since" in wrong_time.stderr
    empty = run("audit", "export", "-o", "-")
    assert empty.exit_code == 0 and json.loads(empty.stdout) == []
