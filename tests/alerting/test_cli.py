"""``watchkeeper integration|alert|silence ...`` against a real SQLite database."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from tests.alerting.conftest import am_alert, am_message
from tests.cli_runner import Run, in_database, upgraded
from watchkeeper.alerting import intake, service
from watchkeeper.alerting.schemas import AlertmanagerMessage
from watchkeeper.db import utcnow


@pytest.fixture
def run(tmp_path: Path) -> Run:
    return upgraded(tmp_path / "data")


def _notify(data_dir: Path, name: str = "prom") -> None:
    def work(session: Session) -> None:
        integration = service.get_integration(session, name=name)
        message = AlertmanagerMessage.model_validate(am_message(am_alert("a1")))
        intake.ingest_alertmanager(session, integration=integration, message=message, now=utcnow())

    in_database(data_dir, work)


def test_integration_create_prints_key_and_url_as_json(run: Run) -> None:
    result = run("integration", "create", "prom", "--type", "alertmanager", "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert len(document["key"]) == 32 and document["key"] == document["key"].lower()
    assert document["url"] == (
        f"http://127.0.0.1:8080/api/v1/integrations/{document['key']}/alertmanager"
    )
    shown = json.loads(run("integration", "show", "prom", "--json").stdout)
    assert shown["url"] == document["url"]
    listed = json.loads(run("integration", "list", "--json").stdout)
    assert [i["name"] for i in listed] == ["prom"]
    pd = json.loads(run("integration", "create", "pd", "--type", "pagerduty", "--json").stdout)
    assert pd["url"] == "http://127.0.0.1:8080/v2/enqueue"


def test_integration_mistakes_are_one_line_errors(run: Run) -> None:
    unknown = run("integration", "create", "am", "--type", "webhook", "--escalation-policy", "x")
    assert unknown.exit_code == 1
    assert "escalation_policy: no escalation policy named 'x'" in unknown.output
    result = run("integration", "create", "prom", "--type", "alertmanagr")
    assert result.exit_code == 1
    assert "did you mean 'alertmanager'" in result.output
    run("integration", "create", "prom", "--type", "webhook")
    assert run("integration", "create", "prom", "--type", "webhook").exit_code == 1
    assert run("integration", "show", "nope").exit_code == 1


def test_alert_list_show_ack_resolve(run: Run, tmp_path: Path) -> None:
    run("integration", "create", "prom", "--type", "alertmanager")
    _notify(tmp_path / "data")
    [group] = json.loads(run("alert", "list", "--json").stdout)
    assert group["status"] == "firing"
    table = run("alert", "list")
    assert "errors are" in table.stdout and "checkout" in table.stdout
    group_id = str(group["id"])
    assert run("alert", "ack", group_id).exit_code == 0
    assert json.loads(run("alert", "show", group_id, "--json").stdout)["status"] == "acknowledged"
    assert run("alert", "unack", group_id).exit_code == 0
    silenced = run("alert", "silence", group_id, "--for", "2h", "--json")
    assert json.loads(silenced.stdout)["status"] == "silenced"
    assert run("alert", "silence", group_id, "--for", "soon").exit_code != 0
    assert run("alert", "resolve", group_id).exit_code == 0
    shown = run("alert", "show", group_id)
    assert "resolved" in shown.stdout and "acknowledged" in shown.stdout
    assert json.loads(run("alert", "list", "--status", "firing", "--json").stdout) == []
    assert run("alert", "list", "--status", "burning").exit_code == 1
    missing = run("alert", "ack", "9999")
    assert missing.exit_code == 1 and "no alert group 9999" in missing.output


def test_silences_from_the_cli(run: Run, tmp_path: Path) -> None:
    run("integration", "create", "prom", "--type", "alertmanager")
    created = run("silence", "create", "--match", "service=checkout", "--for", "2h", "--json")
    assert created.exit_code == 0, created.output
    silence_id = json.loads(created.stdout)["id"]
    _notify(tmp_path / "data")
    assert json.loads(run("alert", "list", "--json").stdout)[0]["status"] == "silenced"
    assert "service=checkout" in run("silence", "list").stdout
    assert run("silence", "expire", str(silence_id)).exit_code == 0
    assert json.loads(run("alert", "list", "--json").stdout)[0]["status"] == "firing"
    bad = run("silence", "create", "--match", "service=~(", "--for", "1h")
    assert bad.exit_code == 1 and "invalid regex" in bad.output


def test_routes_apply_and_list(run: Run, tmp_path: Path) -> None:
    path = tmp_path / "routes.yaml"
    path.write_text(
        "routes:\n"
        "  - name: shop\n"
        "    match: [service=checkout, severity=~critical|error]\n"
        "    escalation_policy: shop-oncall\n"
        "    urgency: high\n"
        "  - name: rest\n"
        "    urgency: low\n"
    )
    unknown = run("alert", "routes", "apply", str(path))
    assert unknown.exit_code == 1
    assert "routes[0].escalation_policy: no escalation policy named 'shop-oncall'" in unknown.output
    assert json.loads(run("alert", "routes", "--json").stdout) == []
    run("user", "create", "ann", "--role", "editor")
    team = tmp_path / "team.yaml"
    team.write_text(
        "kind: EscalationPolicy\nname: shop-oncall\nsteps:\n"
        "  - wait: 5m\n    targets: [user: ann]\n"
    )
    assert run("oncall", "apply", str(team)).exit_code == 0
    assert run("alert", "routes", "apply", str(path)).exit_code == 0
    listed = json.loads(run("alert", "routes", "--json").stdout)
    assert [r["name"] for r in listed] == ["shop", "rest"]
    assert listed[0]["match"] == ["service=checkout", "severity=~critical|error"]
    path.write_text("routes:\n  - name: x\n    urgency: medium\n")
    bad = run("alert", "routes", "apply", str(path))
    assert bad.exit_code == 1 and "routes[0].urgency" in bad.output


def test_a_disabled_integration_is_refused_until_enabled(run: Run) -> None:
    run("integration", "create", "prom", "--type", "alertmanager")
    assert run("integration", "disable", "prom").exit_code == 0
    shown = json.loads(run("integration", "show", "prom", "--json").stdout)
    assert shown["disabled_at"] is not None
    assert run("integration", "enable", "prom").exit_code == 0
    assert json.loads(run("integration", "show", "prom", "--json").stdout)["disabled_at"] is None
    assert run("integration", "delete", "prom").exit_code == 0
    assert json.loads(run("integration", "list", "--json").stdout) == []


def test_a_maintenance_window_for_a_service(run: Run) -> None:
    created = run(
        "silence",
        "create",
        "--service",
        "checkout",
        "--maintenance",
        "--start",
        "2030-01-01T00:00:00Z",
        "--end",
        "2030-01-01T02:00:00Z",
        "--comment",
        "db upgrade",
        "--json",
    )
    assert created.exit_code == 0, created.output
    document = json.loads(created.stdout)
    assert (document["kind"], document["state"]) == ("maintenance", "pending")
    assert document["matchers"] == ["service=checkout"]
    assert run("silence", "create", "--for", "1h").exit_code == 1


def test_alert_actions_record_who_acted(
    run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("getpass.getuser", lambda: "carol")
    run("integration", "create", "prom", "--type", "alertmanager")
    _notify(tmp_path / "data")
    group_id = str(json.loads(run("alert", "list", "--json").stdout)[0]["id"])
    assert run("alert", "ack", group_id, "--as", "alice").exit_code == 0
    assert run("alert", "unack", group_id).exit_code == 0
    assert run("alert", "silence", group_id, "--for", "1h", "--as", "dave").exit_code == 0
    assert run("alert", "resolve", group_id, "--as", "bob").exit_code == 0
    log = json.loads(run("alert", "show", group_id, "--json").stdout)["log"]
    acted = [(e["kind"], e["actor"]) for e in log if e["actor"]]
    assert acted[0] == ("alert_firing", "prom")
    assert acted[1:] == [
        ("acknowledged", "alice"),
        ("unacknowledged", "carol"),
        ("silenced", "dave"),
        ("resolved", "bob"),
    ]
    created = run("silence", "create", "--match", "service=x", "--for", "1h", "--json")
    assert json.loads(created.stdout)["created_by"] == "carol"


def test_ids_and_durations_past_what_the_database_holds_are_one_line_errors(
    run: Run, tmp_path: Path
) -> None:
    huge = str(10**20)
    for args in (
        ("alert", "show", huge),
        ("alert", "ack", huge),
        ("silence", "expire", huge),
        ("incident", "show", huge),
        ("notify", "show", huge),
    ):
        result = run(*args)
        assert result.exit_code == 2 and "Traceback" not in result.output, args
        assert "internal error" not in result.output
    run("integration", "create", "prom", "--type", "alertmanager")
    _notify(tmp_path / "data")
    group_id = str(json.loads(run("alert", "list", "--json").stdout)[0]["id"])
    result = run("alert", "silence", group_id, "--for", "999999999d")
    assert result.exit_code == 1 and "--for: " in result.output and "year 9999" in result.output
    result = run("silence", "create", "--match", "a=b", "--for", "999999999d")
    assert result.exit_code == 1 and "year 9999" in result.output
    assert json.loads(run("silence", "list", "--json").stdout) == []
