"""The on-call API: users, schedules, who is on call, iCal, policies; auth before bodies."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import icalendar
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from watchkeeper.auth import people
from watchkeeper.oncall import service

EXAMPLE = (Path(__file__).parents[2] / "examples" / "oncall" / "team.yaml").read_text()
YAML = {"Content-Type": "application/yaml"}


def team(client: TestClient, headers: dict[str, str]) -> None:
    for name in ("ann", "bob", "cid", "dan"):
        body = {"name": name, "role": "editor", "email": f"{name}@example.com"}
        assert client.post("/api/v1/users", json=body, headers=headers).status_code == 201


def test_users_api(
    client: TestClient, admin_headers: dict[str, str], viewer_headers: dict[str, str]
) -> None:
    created = client.post(
        "/api/v1/users",
        json={"name": "ann", "role": "editor", "time_zone": "Asia/Tokyo"},
        headers=admin_headers,
    )
    assert created.status_code == 201 and created.json()["time_zone"] == "Asia/Tokyo"
    contact = client.post(
        "/api/v1/users/ann/contact-methods",
        json={"kind": "webhook", "address": "https://hooks.example/ann"},
        headers=admin_headers,
    ).json()["contact_methods"][0]
    ruled = client.post(
        "/api/v1/users/ann/notification-rules",
        json={"contact": contact["id"], "urgency": "low", "delay": "10m"},
        headers=admin_headers,
    )
    assert ruled.json()["notification_rules"][0]["delay_seconds"] == 600
    assert [u["name"] for u in client.get("/api/v1/users", headers=viewer_headers).json()] == [
        "ann"
    ]
    # A hook URL's path is its key: viewers see the host only, admins the whole address.
    for path in ("/api/v1/users", "/api/v1/users/ann"):
        seen = client.get(path, headers=viewer_headers).json()
        viewed = seen[0] if isinstance(seen, list) else seen
        assert viewed["contact_methods"][0]["address"] == "https://hooks.example/…"
    full = client.get("/api/v1/users/ann", headers=admin_headers).json()
    assert full["contact_methods"][0]["address"] == "https://hooks.example/ann"
    refused = client.post(
        "/api/v1/users", json={"name": "x", "role": "viewer"}, headers=viewer_headers
    )
    assert refused.status_code == 403
    bad = client.post("/api/v1/users", json={"name": "x", "role": "boss"}, headers=admin_headers)
    assert bad.status_code == 422 and bad.json()["detail"].startswith("role:")
    # A contact method removed takes its rules with it; viewers may not remove anything.
    contact_path = f"/api/v1/users/ann/contact-methods/{contact['id']}"
    assert client.delete(contact_path, headers=viewer_headers).status_code == 403
    rule_id = ruled.json()["notification_rules"][0]["id"]
    kept = client.delete(f"/api/v1/users/ann/notification-rules/{rule_id}", headers=admin_headers)
    assert kept.status_code == 200 and kept.json()["notification_rules"] == []
    ruled = client.post(
        "/api/v1/users/ann/notification-rules",
        json={"contact": contact["id"], "urgency": "low", "delay": "0"},
        headers=admin_headers,
    )
    gone = client.delete(contact_path, headers=admin_headers)
    assert gone.status_code == 200
    assert (gone.json()["contact_methods"], gone.json()["notification_rules"]) == ([], [])
    unknown = client.delete(contact_path, headers=admin_headers)
    assert unknown.status_code == 404 and "has no contact method" in unknown.json()["detail"]
    missing = client.get("/api/v1/users/anne", headers=viewer_headers)
    assert missing.status_code == 404 and "did you mean 'ann'" in missing.json()["detail"]
    assert client.delete("/api/v1/users/ann", headers=admin_headers).status_code == 204


def test_apply_who_ical_and_policies(
    client: TestClient, admin_headers: dict[str, str], viewer_headers: dict[str, str]
) -> None:
    team(client, admin_headers)
    assert (
        client.post(
            "/api/v1/oncall", content=EXAMPLE, headers={**viewer_headers, **YAML}
        ).status_code
        == 403
    )
    applied = client.post("/api/v1/oncall", content=EXAMPLE, headers={**admin_headers, **YAML})
    assert applied.status_code == 200 and applied.json()["created"] == ["checkout-primary"]
    who = client.get(
        "/api/v1/schedules/checkout-primary/oncall",
        params={"at": "2026-03-14T12:00:00Z"},
        headers=viewer_headers,
    )
    assert who.json() == {
        "schedule": "checkout-primary",
        "at": "2026-03-14T12:00:00Z",
        "oncall": ["bob"],
    }
    shown = client.get(
        "/api/v1/schedules/checkout-primary",
        params={"from": "2026-01-04T00:00:00Z", "to": "2026-01-06T00:00:00Z"},
        headers=viewer_headers,
    ).json()
    assert shown["gaps"][0]["end"].startswith("2026-01-05T08:00:00")
    assert [s["name"] for s in client.get("/api/v1/schedules", headers=viewer_headers).json()] == [
        "checkout-primary"
    ]
    calendar = client.get(
        "/api/v1/schedules/checkout-primary/ical",
        params={"from": "2026-03-14T00:00:00Z", "to": "2026-03-15T00:00:00Z"},
        headers=viewer_headers,
    )
    assert calendar.headers["content-type"].startswith("text/calendar")
    summaries = [
        str(e["summary"]) for e in icalendar.Calendar.from_ical(calendar.content).walk("VEVENT")
    ]
    assert summaries == ["ann", "bob"]
    user_calendar = client.get("/api/v1/users/bob/ical", headers=viewer_headers)
    assert user_calendar.status_code == 200 and b"BEGIN:VCALENDAR" in user_calendar.content
    policy = client.get("/api/v1/escalation-policies/checkout", headers=viewer_headers).json()
    assert policy["repeat"] == 2 and policy["steps"][1]["targets"][0]["layer"] == "weekly"
    assert len(client.get("/api/v1/escalation-policies", headers=viewer_headers).json()) == 1
    bad_at = client.get(
        "/api/v1/schedules/checkout-primary/oncall", params={"at": "soon"}, headers=viewer_headers
    )
    assert bad_at.status_code == 422 and bad_at.json()["detail"].startswith("at:")
    # Instants the rotation math cannot reach are refused naming the parameter, not a 500.
    for path, params, field in [
        ("oncall", {"at": "9999-12-31T23:59:59Z"}, "at:"),
        ("ical", {"from": "9999-12-31T23:59:59Z"}, "from:"),
        ("ical", {"from": "9998-12-31T00:00:00Z"}, "from:"),
        ("ical", {"from": "9998-12-01T00:00:00Z", "to": "9999-01-05T00:00:00Z"}, "end:"),
    ]:
        late = client.get(
            f"/api/v1/schedules/checkout-primary/{path}", params=params, headers=viewer_headers
        )
        assert late.status_code == 422 and late.json()["detail"].startswith(field), late.text


def test_bad_yaml_names_line_and_stores_nothing(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    answer = client.post(
        "/api/v1/oncall",
        content="kind: Schedule\nname: s\ntime_zone: Mars/Base\nlayers: []\n",
        headers={**admin_headers, **YAML},
    )
    assert answer.status_code == 422
    assert answer.json()["detail"].startswith("request body:3: document 1: time_zone")
    assert client.get("/api/v1/schedules", headers=admin_headers).json() == []
    assert (
        client.post("/api/v1/oncall", content="x" * 2_000_000, headers=admin_headers).status_code
        == 413
    )


def test_authentication_comes_first(client: TestClient) -> None:
    assert client.post("/api/v1/oncall", content="kind: [").status_code == 401
    assert client.post("/api/v1/users", content="{").status_code == 401
    assert client.get("/api/v1/schedules").status_code == 401


def test_channel_targets_are_shown_in_full_to_admins_only(
    client: TestClient, admin_headers: dict[str, str], viewer_headers: dict[str, str]
) -> None:
    hook = "https://hooks.slack.example/services/T0/B0/secret-token"
    policy = (
        "kind: EscalationPolicy\nname: ops\nsteps:\n  - wait: 5m\n"
        f"    targets: [{{channel: 'slack:{hook}'}}]\n"
    )
    applied = client.post("/api/v1/oncall", content=policy, headers={**admin_headers, **YAML})
    assert applied.status_code == 200, applied.text
    for path in ("/api/v1/escalation-policies", "/api/v1/escalation-policies/ops"):
        seen = client.get(path, headers=viewer_headers).json()
        viewed = seen[0] if isinstance(seen, list) else seen
        target = viewed["steps"][0]["targets"][0]
        assert target == {"kind": "channel", "name": "slack:https://hooks.slack.example/…"}
    full = client.get("/api/v1/escalation-policies/ops", headers=admin_headers).json()
    assert full["steps"][0]["targets"][0]["name"] == f"slack:{hook}"


@pytest.mark.parametrize("instant", ["99999999999999", "9999-12-31T23:59:59Z"])
def test_an_instant_out_of_range_is_a_422(
    client: TestClient, admin_headers: dict[str, str], instant: str
) -> None:
    team(client, admin_headers)
    client.post("/api/v1/oncall", content=EXAMPLE, headers={**admin_headers, **YAML})
    answer = client.get(
        "/api/v1/schedules/checkout-primary", params={"from": instant}, headers=admin_headers
    )
    assert answer.status_code == 422
    assert answer.json()["detail"].startswith("from:") or answer.json()["detail"].startswith("to:")


def test_an_imported_schedule_shows_its_source_and_end(
    client: TestClient,
    session_factory: sessionmaker[Session],
    admin_headers: dict[str, str],
    viewer_headers: dict[str, str],
) -> None:
    rotation = (Path(__file__).parent / "data" / "rotation.ics").read_bytes()
    end = datetime(2026, 4, 15, tzinfo=UTC)
    with session_factory() as session:
        for name in ("ann", "bob"):
            people.create_user(session, name=name, role="editor", now=end)
        service.import_calendar(
            session,
            name="team",
            calendar=rotation,
            start=datetime(2026, 3, 1, tzinfo=UTC),
            end=end,
            now=end,
            origin="https://cal.example/private-key/basic.ics",
        )
        session.commit()
    # A private calendar link's path is its key: viewers see the host only.
    for headers, source in (
        (viewer_headers, "https://cal.example/…"),
        (admin_headers, "https://cal.example/private-key/basic.ics"),
    ):
        listed = client.get("/api/v1/schedules", headers=headers).json()[0]
        one = client.get("/api/v1/schedules/team", headers=headers).json()
        for read in (listed, one):
            assert read["imported"] == {
                "source": source,
                "covered_until": "2026-04-15T00:00:00Z",
                "ended": True,  # March 2026 is over when the tests run
            }
            assert "imported" not in read["definition"]
    assert "private-key" not in client.get("/api/v1/schedules/team", headers=viewer_headers).text


def test_a_yaml_schedule_has_no_import_record(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    team(client, admin_headers)
    applied = client.post("/api/v1/oncall", content=EXAMPLE, headers={**admin_headers, **YAML})
    assert applied.status_code == 200
    schedules = client.get("/api/v1/schedules", headers=admin_headers).json()
    assert schedules and all(s["imported"] is None for s in schedules)
