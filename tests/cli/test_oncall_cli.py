"""``watchkeeper user`` and ``watchkeeper oncall`` from the command line."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli_runner import Run

EXAMPLE = Path(__file__).parents[2] / "examples" / "oncall" / "team.yaml"


def create_team(run: Run) -> None:
    for name in ("ann", "bob", "cid", "dan"):
        assert (
            run(
                "user", "create", name, "--role", "editor", "--email", f"{name}@example.com"
            ).exit_code
            == 0
        )


def test_users_contacts_and_rules(run: Run) -> None:
    assert (
        run("user", "create", "ann", "--role", "editor", "--time-zone", "Europe/Paris").exit_code
        == 0
    )
    added = run(
        "user",
        "contact",
        "add",
        "ann",
        "--kind",
        "slack",
        "--address",
        "https://hooks.example/a",
        "--json",
    )
    contact = json.loads(added.stdout)["id"]
    rule = run(
        "user",
        "rule",
        "add",
        "ann",
        "--contact",
        str(contact),
        "--urgency",
        "high",
        "--delay",
        "5m",
    )
    assert rule.exit_code == 0
    shown = json.loads(run("user", "show", "ann", "--json").stdout)
    assert shown["time_zone"] == "Europe/Paris"
    assert shown["notification_rules"] == [
        {
            "id": shown["notification_rules"][0]["id"],
            "contact": contact,
            "urgency": "high",
            "delay_seconds": 300,
        }
    ]
    listed = json.loads(run("user", "list", "--json").stdout)
    assert [u["name"] for u in listed] == ["ann"]
    assert json.loads(run("user", "contact", "list", "ann", "--json").stdout)[0]["kind"] == "slack"
    bad = run("user", "create", "Bob", "--role", "editor")
    assert bad.exit_code == 1 and "name:" in bad.stderr
    rule_id = shown["notification_rules"][0]["id"]
    removed = run("user", "rule", "remove", "ann", str(rule_id))
    assert removed.stdout.strip() == f"notification rule {rule_id} removed from ann"
    assert json.loads(run("user", "show", "ann", "--json").stdout)["notification_rules"] == []
    again = run("user", "rule", "remove", "ann", str(rule_id))
    assert again.exit_code == 1 and f"ann has no notification rule {rule_id}" in again.stderr
    assert run("user", "contact", "remove", "ann", str(contact)).exit_code == 0
    assert json.loads(run("user", "show", "ann", "--json").stdout)["contact_methods"] == []
    assert run("user", "delete", "ann").exit_code == 0
    assert json.loads(run("user", "list", "--json").stdout) == []


def test_apply_and_who_contract(run: Run) -> None:
    create_team(run)
    applied = run("oncall", "apply", str(EXAMPLE))
    assert applied.exit_code == 0, applied.stderr
    assert "schedule checkout-primary created" in applied.stdout
    who = run(
        "oncall", "who", "--schedule", "checkout-primary", "--at", "2026-03-14T12:00:00Z", "--json"
    )
    assert json.loads(who.stdout) == {
        "schedule": "checkout-primary",
        "at": "2026-03-14T12:00:00Z",
        "oncall": ["bob"],
    }
    before = run(
        "oncall", "who", "--schedule", "checkout-primary", "--at", "2026-01-01T00:00:00Z", "--json"
    )
    assert json.loads(before.stdout)["oncall"] == []  # before the first handoff: a gap
    shown = json.loads(
        run(
            "oncall",
            "show",
            "checkout-primary",
            "--from",
            "2026-01-04T00:00:00Z",
            "--to",
            "2026-01-06T00:00:00Z",
            "--json",
        ).stdout
    )
    assert shown["gaps"] == [{"start": "2026-01-04T00:00:00Z", "end": "2026-01-05T08:00:00Z"}]
    assert shown["shifts"][0] == {
        "users": ["dan"],
        "start": "2026-01-05T08:00:00Z",
        "end": "2026-01-05T16:00:00Z",
        "layer": "business-hours",
    }
    assert json.loads(run("oncall", "list", "--json").stdout)[0]["name"] == "checkout-primary"
    policy = json.loads(run("oncall", "policy", "show", "checkout", "--json").stdout)
    assert policy["repeat"] == 2 and policy["steps"][0]["wait"] == "15m"
    assert [p["name"] for p in json.loads(run("oncall", "policy", "list", "--json").stdout)] == [
        "checkout"
    ]


def test_bad_input_is_one_line(run: Run, tmp_path: Path) -> None:
    create_team(run)
    broken = tmp_path / "broken.yaml"
    broken.write_text(
        "kind: Schedule\nname: s\ntime_zone: UTC\nlayers:\n  - name: l\n    users: [ann]\n"
        "    start: 2026-01-01\n    turn: fortnightly\n"
    )
    result = run("oncall", "apply", str(broken))
    assert result.exit_code == 1
    assert f"{broken}:8" in result.stderr and "turn" in result.stderr
    missing = run("oncall", "who", "--schedule", "nope", "--json")
    assert missing.exit_code == 1 and "no schedule named 'nope'" in missing.stderr


def test_ical_import_and_export(run: Run, tmp_path: Path) -> None:
    for name in ("ann", "bob"):
        assert run("user", "create", name, "--role", "viewer").exit_code == 0
    rotation = Path(__file__).parents[1] / "oncall" / "data" / "rotation.ics"
    window = ("--from", "2026-03-01T00:00:00Z", "--to", "2026-04-15T00:00:00Z")
    imported = run("oncall", "import", "team", "--ical", str(rotation), *window, "--json")
    assert imported.exit_code == 0, imported.stderr
    assert json.loads(imported.stdout) == {
        "name": "team",
        "outcome": "created",
        "shifts": 6,
        "time_zone": "America/New_York",
        "covered_until": "2026-04-15T00:00:00Z",
    }
    who = run("oncall", "who", "--schedule", "team", "--at", "2026-03-10T00:00:00Z", "--json")
    assert json.loads(who.stdout)["oncall"] == ["bob"]
    assert "re-import" not in who.stderr
    out = tmp_path / "ann.ics"
    assert run("oncall", "export", "--user", "ann", "-o", str(out)).exit_code == 0
    assert out.read_text().startswith("BEGIN:VCALENDAR")
    both = run("oncall", "export", "--user", "ann", "--schedule", "team")
    assert both.exit_code == 1 and "exactly one of" in both.stderr
    missing = run("oncall", "import", "team", "--ical", str(tmp_path / "none.ics"))
    assert missing.exit_code == 1 and "--ical: cannot read" in missing.stderr


def test_instants_near_the_year_9999_are_one_line_errors(run: Run) -> None:
    create_team(run)
    run("oncall", "apply", str(EXAMPLE))
    late = "9999-12-31T23:59:59Z"
    for args, field in [
        (("who", "--schedule", "checkout-primary", "--at", late), "at: "),
        (("show", "checkout-primary", "--from", late), "--from: "),
        (("show", "checkout-primary", "--from", "9998-12-30T00:00:00Z"), "--from: "),
        (
            (
                "show",
                "checkout-primary",
                "--from",
                "9998-12-30T00:00:00Z",
                "--to",
                "9999-01-02T00:00:00Z",
            ),
            "end: ",
        ),
    ]:
        result = run("oncall", *args)
        assert result.exit_code == 1, result.output
        assert result.stderr.startswith(f"error: {field}") and "internal" not in result.stderr


def flat(text: str) -> str:
    """Output with the console's line wrapping undone."""
    return " ".join(text.split())


def test_an_imported_calendar_says_where_it_ends(run: Run) -> None:
    for name in ("ann", "bob"):
        assert run("user", "create", name, "--role", "viewer").exit_code == 0
    rotation = Path(__file__).parents[1] / "oncall" / "data" / "rotation.ics"
    window = ("--from", "2026-03-01T00:00:00Z", "--to", "2026-04-15T00:00:00Z")
    imported = run("oncall", "import", "team", "--ical", str(rotation), *window)
    assert "covered until 2026-04-15T00:00:00Z" in flat(imported.stdout)
    expected = {"source": str(rotation), "covered_until": "2026-04-15T00:00:00Z"}
    # Past its end the schedule is one gap: who says why, on stderr, --json keeps its shape.
    late = ("--at", "2026-04-15T00:00:00Z")
    who = run("oncall", "who", "--schedule", "team", *late, "--json")
    assert json.loads(who.stdout) == {"schedule": "team", "at": late[1], "oncall": []}
    assert "the imported calendar ends at 2026-04-15T00:00:00Z; re-import it" in flat(who.stderr)
    text = run("oncall", "who", "--schedule", "team", *late)
    assert "nobody is on call" in text.stdout and "re-import it" in flat(text.stderr)
    # The window (March 2026) has ended by the time the tests run: list says so.
    listed = run("oncall", "list", "--json")
    assert json.loads(listed.stdout)[0]["imported"] == expected
    table = run("oncall", "list")
    assert "ENDED" in flat(table.stdout) and "team: the imported calendar ends at" in flat(
        table.stdout
    )
    shown = run("oncall", "show", "team", "--from", "2026-04-10T00:00:00Z", "--json")
    document = json.loads(shown.stdout)
    assert document["imported"] == expected and "imported" not in document["definition"]
    shown_text = run("oncall", "show", "team", "--from", "2026-04-10T00:00:00Z")
    assert f"imported from {rotation}, covered until 2026-04-15T00:00:00Z" in flat(
        shown_text.stdout
    )
    assert "re-import it" in flat(shown_text.stdout)
    before_end = run("oncall", "show", "team", "--from", "2026-03-01T00:00:00Z")
    assert "re-import it" not in flat(before_end.stdout)
