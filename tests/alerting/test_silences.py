"""Silences and maintenance windows by matchers; routing rules pick policy and urgency."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.alerting.conftest import MakeIntegration, am_alert, am_message
from tests.alerting.escalation_setup import make_policies
from watchkeeper.alerting import intake, repository, routing, service, silences
from watchkeeper.alerting.exceptions import InvalidSilence
from watchkeeper.alerting.models import RoutingRule
from watchkeeper.alerting.schemas import AlertmanagerMessage

NOW = datetime(2026, 1, 1, 10, 0, tzinfo=UTC)


def _notify(session: Session, group_key: str = "g1", **labels: str) -> int:
    integration = service.get_integration(session, name="prom")
    message = AlertmanagerMessage.model_validate(am_message(am_alert("a1"), group_key=group_key))
    message.commonLabels.update(labels)
    return intake.ingest_alertmanager(session, integration=integration, message=message, now=NOW).id


@pytest.fixture
def prom(session: Session) -> None:
    service.create_integration(session, name="prom", type="alertmanager", now=NOW)


@pytest.mark.usefixtures("prom")
def test_a_matching_silence_opens_the_group_silenced_and_releases_it(session: Session) -> None:
    silence = silences.create(
        session,
        matchers=["service=checkout", "severity=~crit.*"],
        starts_at=NOW - timedelta(minutes=1),
        ends_at=NOW + timedelta(hours=1),
        comment="deploying",
        created_by="ann",
        now=NOW - timedelta(minutes=1),
    )
    group = service.get_group(session, group_id=_notify(session))
    assert (group.status, group.silence_id, group.escalation_due_at) == (
        "silenced",
        silence.id,
        None,
    )
    other = service.get_group(session, group_id=_notify(session, "g2", service="cart"))
    assert other.status == "firing"
    silences.expire(session, silence_id=silence.id, now=NOW + timedelta(minutes=5))
    assert group.status == "firing"
    # Escalation starts again (with no policy routed, it logs that nobody is paged).
    started = [e for e in repository.log_of(session, group.id) if e.kind == "not_paged"]
    assert [e.at for e in started] == [NOW + timedelta(minutes=5)]


@pytest.mark.usefixtures("prom")
def test_a_new_silence_silences_open_groups_and_a_maintenance_window_counts(
    session: Session,
) -> None:
    group = service.get_group(session, group_id=_notify(session))
    window = silences.create(
        session,
        matchers=["service=checkout"],
        starts_at=NOW,
        ends_at=NOW + timedelta(hours=1),
        comment="db upgrade",
        created_by="ann",
        now=NOW,
        kind="maintenance",
    )
    assert group.status == "silenced"
    assert window.silenced_count == 1
    assert service.expire_silences(session, now=NOW + timedelta(hours=1)) == 1
    assert group.status == "firing"


@pytest.mark.parametrize(
    ("matchers", "field"),
    [([], "matchers"), (["service"], "no operator"), (["a=~("], "invalid regex")],
)
def test_bad_silences_name_the_problem(session: Session, matchers: list[str], field: str) -> None:
    with pytest.raises(InvalidSilence, match=field):
        silences.create(
            session,
            matchers=matchers,
            starts_at=NOW,
            ends_at=NOW + timedelta(hours=1),
            comment="",
            created_by="ann",
            now=NOW,
        )


@pytest.mark.usefixtures("prom")
def test_routing_rules_pick_policy_and_urgency_first_match_wins(session: Session) -> None:
    make_policies(session, "shop", "default")
    routing.apply(
        session,
        rules=[
            {
                "name": "checkout",
                "match": ["service=checkout"],
                "escalation_policy": "shop",
                "urgency": "high",
            },
            {
                "name": "rest",
                "match": ["service=~.*"],
                "escalation_policy": "default",
                "urgency": "low",
            },
        ],
    )
    group = service.get_group(session, group_id=_notify(session))
    assert (group.escalation_policy, group.urgency) == ("shop", "high")
    other = service.get_group(session, group_id=_notify(session, "g2", service="cart"))
    assert (other.escalation_policy, other.urgency) == ("default", "low")


@pytest.mark.usefixtures("prom")
def test_opening_a_group_loads_and_matches_the_routing_rules_once(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    routing.apply(session, rules=[{"match": ["service=checkout"], "urgency": "low"}])
    loads: list[int] = []
    real = repository.routing_rules

    def counted(db: Session) -> list[RoutingRule]:
        loads.append(1)
        return real(db)

    monkeypatch.setattr(repository, "routing_rules", counted)
    group = service.get_group(session, group_id=_notify(session))
    assert group.urgency == "low" and len(loads) == 1


def test_silence_api(
    client: TestClient, make_integration: MakeIntegration, admin_headers: dict[str, str]
) -> None:
    key = make_integration()
    body = {"matchers": ["service=checkout"], "duration": "2h", "comment": "deploy"}
    created = client.post("/api/v1/silences", json=body, headers=admin_headers)
    assert created.status_code == 201, created.text
    assert created.json()["state"] == "active"
    client.post(f"/api/v1/integrations/{key}/alertmanager", json=am_message(am_alert("a1")))
    [group] = client.get("/api/v1/alert-groups", headers=admin_headers).json()
    assert group["status"] == "silenced"
    silence_id = created.json()["id"]
    expired = client.delete(f"/api/v1/silences/{silence_id}", headers=admin_headers)
    assert expired.json()["state"] == "expired"
    [group] = client.get("/api/v1/alert-groups", headers=admin_headers).json()
    assert group["status"] == "firing"
    assert client.get("/api/v1/silences", headers=admin_headers).json() == []
    bad = client.post(
        "/api/v1/silences", json={"matchers": ["x=~("], "duration": "1h"}, headers=admin_headers
    )
    assert bad.status_code == 422 and "matchers" in bad.json()["detail"]
    # Text PostgreSQL cannot store is refused by any JSON body, naming the field.
    nul = client.post(
        "/api/v1/silences",
        json={"matchers": ["x=y"], "duration": "1h", "comment": "a\u0000b"},
        headers=admin_headers,
    )
    assert nul.status_code == 422
    assert nul.json()["detail"] == "comment: text must not contain a NUL character (\\u0000)"
    assert client.get("/api/v1/silences", headers=admin_headers).json() == []


@pytest.mark.usefixtures("prom")
def test_a_scheduled_silence_applies_on_the_tick_after_it_starts(session: Session) -> None:
    group = service.get_group(session, group_id=_notify(session))
    start = NOW + timedelta(hours=1)
    silences.create(
        session,
        matchers=["service=checkout"],
        starts_at=start,
        ends_at=start + timedelta(hours=1),
        comment="",
        created_by="ann",
        now=NOW,
        kind="maintenance",
    )
    service.expire_silences(session, now=start - timedelta(seconds=1))
    assert group.status == "firing"
    service.expire_silences(session, now=start)
    assert (group.status, group.escalation_due_at) == ("silenced", None)
    service.expire_silences(session, now=start + timedelta(hours=1))
    assert group.status == "firing"


def test_routing_rules_api(
    client: TestClient, admin_headers: dict[str, str], viewer_headers: dict[str, str]
) -> None:
    body = {"routes": [{"name": "shop", "match": ["service=checkout"], "urgency": "low"}]}
    assert client.put("/api/v1/alert-routes", json=body, headers=viewer_headers).status_code == 403
    applied = client.put("/api/v1/alert-routes", json=body, headers=admin_headers)
    assert applied.status_code == 200, applied.text
    listed = client.get("/api/v1/alert-routes", headers=viewer_headers).json()
    assert [(r["name"], r["match"], r["urgency"]) for r in listed] == [
        ("shop", ["service=checkout"], "low")
    ]
    bad = {"routes": [{"name": "x", "match": ["service=~("]}]}
    response = client.put("/api/v1/alert-routes", json=bad, headers=admin_headers)
    assert response.status_code == 422 and "routes[0].match" in response.json()["detail"]


@pytest.mark.parametrize(
    ("rule", "field"),
    [
        ({"integration": "no-such"}, "routes[0].integration: "),
        ({"name": "n" * 201}, "routes[0].name: longer than 200"),
        ({"match": ["x=~(a+)+b"]}, "routes[0].match: "),
    ],
)
def test_a_route_naming_an_unknown_integration_or_too_long_is_refused_naming_the_field(
    client: TestClient, admin_headers: dict[str, str], rule: dict[str, Any], field: str
) -> None:
    body = {"routes": [{"match": ["service=checkout"], **rule}]}
    response = client.put("/api/v1/alert-routes", json=body, headers=admin_headers)
    assert response.status_code == 422, response.text
    assert field in response.json()["detail"]
