"""Incident use cases on SQLite and PostgreSQL: lifecycle, timeline, roles, links, budgets."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from tests.incident.conftest import NOW
from watchkeeper.alerting.exceptions import AlertGroupNotFound
from watchkeeper.errors import InvalidInput
from watchkeeper.incident import declaration, figures, links, service, severities
from watchkeeper.incident import detail as incident_detail
from watchkeeper.incident.exceptions import (
    IncidentNotFound,
    InvalidTransition,
    SeverityInUse,
    UnknownSeverity,
)
from watchkeeper.specs.problems import SpecError

M = timedelta(minutes=1)
H = timedelta(hours=1)


def _kinds(session: Session, incident_id: int) -> list[str]:
    return [entry.kind for entry in service.timeline(session, incident_id)]


def test_seeded_severities(session: Session) -> None:
    listed = severities.list_severities(session)
    assert [s.name for s in listed] == ["SEV1", "SEV2", "SEV3", "SEV4"]
    assert (listed[0].response, listed[0].resolution) == (5 * M, 4 * H)


def test_lifecycle_writes_the_timeline(session: Session) -> None:
    incident = declaration.declare(
        session,
        title="Checkout errors",
        severity="sev2",
        actor="alice",
        now=NOW,
        service="checkout",
        commander="bob",
    )
    assert (incident.severity, incident.status, incident.started_at) == (
        "SEV2",
        "investigating",
        NOW,
    )
    service.acknowledge(session, incident_id=incident.id, actor="bob", now=NOW + 3 * M)
    service.acknowledge(session, incident_id=incident.id, actor="carol", now=NOW + 9 * M)
    assert (incident.acknowledged_at, incident.acknowledged_by) == (NOW + 3 * M, "bob")
    service.set_status(
        session, incident_id=incident.id, status="identified", actor="bob", now=NOW + 10 * M
    )
    service.set_status(
        session, incident_id=incident.id, status="monitoring", actor="bob", now=NOW + 20 * M
    )
    service.set_status(
        session,
        incident_id=incident.id,
        status="identified",
        actor="bob",
        now=NOW + 25 * M,
        note="error rate back up",
    )
    service.set_severity(
        session, incident_id=incident.id, severity="SEV1", actor="bob", now=NOW + 26 * M
    )
    service.add_note(
        session, incident_id=incident.id, text="rolled back 1.4.2", actor="bob", now=NOW + 30 * M
    )
    service.resolve(session, incident_id=incident.id, actor="bob", now=NOW + H)
    assert (incident.identified_at, incident.monitoring_at) == (NOW + 10 * M, NOW + 20 * M)
    assert (incident.status, incident.resolved_at, incident.severity) == (
        "resolved",
        NOW + H,
        "SEV1",
    )
    assert _kinds(session, incident.id) == [
        "declared",
        "role",
        "acknowledged",
        "status",
        "status",
        "status",
        "severity",
        "note",
        "resolved",
    ]
    entries = service.timeline(session, incident.id)
    assert entries[5].text == "status monitoring → identified: error rate back up"
    assert entries[6].details == {"from": "SEV2", "to": "SEV1"}


def test_resolved_incident_moves_only_by_reopening(session: Session) -> None:
    incident = declaration.declare(session, title="t", severity="SEV3", actor="a", now=NOW)
    service.resolve(session, incident_id=incident.id, actor="a", now=NOW + H)
    assert incident.acknowledged_at is None  # resolving is no acknowledgement (MTTA)
    with pytest.raises(InvalidTransition, match="reopen it first"):
        service.set_status(
            session, incident_id=incident.id, status="monitoring", actor="a", now=NOW + 2 * H
        )
    with pytest.raises(InvalidTransition, match="already resolved"):
        service.resolve(session, incident_id=incident.id, actor="a", now=NOW + 2 * H)
    service.reopen(session, incident_id=incident.id, actor="a", now=NOW + 3 * H, note="came back")
    assert (incident.status, incident.resolved_at) == ("investigating", None)
    assert (
        service.timeline(session, incident.id)[-1].details["was_resolved_at"]
        == (NOW + H).isoformat()
    )
    with pytest.raises(InvalidTransition, match="already investigating"):
        service.set_status(
            session, incident_id=incident.id, status="investigating", actor="a", now=NOW
        )
    with pytest.raises(InvalidTransition, match="only a resolved"):
        service.reopen(session, incident_id=incident.id, actor="a", now=NOW)


def test_roles_one_holder_except_responders(session: Session) -> None:
    incident = declaration.declare(
        session, title="t", severity="SEV2", actor="a", now=NOW, commander="bob"
    )
    service.assign_role(
        session, incident_id=incident.id, role="commander", user="carol", actor="a", now=NOW
    )
    service.assign_role(
        session, incident_id=incident.id, role="responder", user="dan", actor="a", now=NOW
    )
    service.assign_role(
        session, incident_id=incident.id, role="responder", user="erin", actor="a", now=NOW
    )
    service.assign_role(
        session, incident_id=incident.id, role="responder", user="erin", actor="a", now=NOW
    )
    held = sorted((r.role, r.user_name) for r in service.roles(session, incident.id))
    assert held == [("commander", "carol"), ("responder", "dan"), ("responder", "erin")]
    assert service.timeline(session, incident.id)[2].text == "carol is commander (was bob)"
    with pytest.raises(InvalidInput, match=r"role: 'comander'.*did you mean 'commander'"):
        service.assign_role(
            session, incident_id=incident.id, role="comander", user="x", actor="a", now=NOW
        )


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (
            lambda s: declaration.declare(s, title="t", severity="SEV5", actor="a", now=NOW),
            UnknownSeverity,
            "did you mean 'SEV4'",
        ),
        (
            lambda s: declaration.declare(s, title="  ", severity="SEV1", actor="a", now=NOW),
            InvalidInput,
            "title",
        ),
        (
            lambda s: declaration.declare(
                s, title="t", severity="SEV1", actor="a", now=NOW, started_at=NOW + H
            ),
            InvalidInput,
            "started_at",
        ),
        (
            lambda s: declaration.declare(
                s, title="t", severity="SEV1", actor="a", now=NOW, slo_keys=["api/availabilty"]
            ),
            InvalidInput,
            "slo",
        ),
        (lambda s: service.get(s, 999_999), IncidentNotFound, "#999999"),
        (lambda s: service.list_incidents(s, status="closed"), InvalidInput, "status"),
        (
            lambda s: service.add_timeline_entry(s, incident_id=1, kind="page", text="x", at=NOW),
            InvalidInput,
            "kind",
        ),
    ],
)
def test_bad_input(session: Session, call, error: type[Exception], message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(error, match=message):
        call(session)


def test_open_blocking_and_listing(session: Session) -> None:
    sev1 = declaration.declare(
        session, title="a", severity="SEV1", actor="a", now=NOW, service="api"
    )
    sev3 = declaration.declare(
        session, title="b", severity="SEV3", actor="a", now=NOW + M, service="api"
    )
    other = declaration.declare(
        session, title="c", severity="SEV1", actor="a", now=NOW, service="web"
    )
    done = declaration.declare(
        session, title="d", severity="SEV2", actor="a", now=NOW, service="api"
    )
    service.resolve(session, incident_id=done.id, actor="a", now=NOW + H)
    blocking = service.open_blocking(session, service="api", severities=["SEV1", "SEV2"])
    assert [i.id for i in blocking] == [sev1.id]
    assert service.open_blocking(session, service="api", severities=[]) == []
    assert [i.id for i in service.list_incidents(session, status="open", service="api")] == [
        sev3.id,
        sev1.id,
    ]
    assert other.id not in [i.id for i in service.list_incidents(session, service="api")]
    assert [i.id for i in service.list_incidents(session, status="resolved")] == [done.id]


def test_unknown_slo_key_names_the_nearest(session: Session, api_slo: str) -> None:
    with pytest.raises(
        InvalidInput, match=rf"slo: no SLO 'api/availabilty'.*did you mean '{api_slo}'"
    ):
        declaration.declare(
            session, title="t", severity="SEV1", actor="a", now=NOW, slo_keys=["api/availabilty"]
        )


def test_links_and_budget_burned(session: Session, api_slo: str, groups: list[int]) -> None:
    first, second, _ = groups
    incident = declaration.declare(
        session,
        title="API errors",
        severity="SEV2",
        actor="a",
        now=NOW,
        service="api",
        alert_group_ids=[first],
        slo_keys=[api_slo],
        started_at=NOW - 2 * H,
    )
    link = links.link_alert_group
    link(session, incident_id=incident.id, alert_group_id=first, actor="a", now=NOW)
    link(session, incident_id=incident.id, alert_group_id=second, actor="a", now=NOW)
    assert links.alert_group_ids(session, incident.id) == [first, second]
    with pytest.raises(AlertGroupNotFound, match="no alert group 999999"):
        link(session, incident_id=incident.id, alert_group_id=999_999, actor="a", now=NOW)
    detail = incident_detail.show(session, incident_id=incident.id, now=NOW)
    (budget,) = detail.budgets
    # [NOW-2h, NOW) holds the 1000 events of an hour ago, 70 bad: burn rate 0.07 / 0.01 = 7.
    # The 30-day window ending now also holds 9000 good events of ten days before: 10,000
    # events allow 100 bad, so the 70 bad spent 70 % of the budget (not 7 x 2h / 720h =
    # 1.9 %, which assumes the incident saw the window's average traffic).
    assert (budget.good, budget.total, budget.window_total) == (930, 1000, 10_000)
    assert budget.burn_rate == pytest.approx(7.0)
    assert budget.burned == pytest.approx(70 / (10_000 * 0.01))
    assert budget.window == "30d"
    own = [e.kind for e in detail.timeline if e.source == "incident"]
    assert own == ["declared", "alert", "slo", "alert"]


def test_budget_burned_without_events(session: Session, api_slo: str) -> None:
    burned = figures.budget_burned_for(session, slo_key=api_slo, start=NOW - 5 * H, end=NOW - 4 * H)
    assert burned.burned is None and burned.problem == "no events during the incident"
    gone = figures.budget_burned_for(session, slo_key="api/nope", start=NOW - H, end=NOW)
    assert gone.burned is None and gone.problem is not None


def test_metrics_over_a_period(session: Session) -> None:
    first = declaration.declare(
        session,
        title="a",
        severity="SEV1",
        actor="a",
        now=NOW + 2 * M,
        service="api",
        started_at=NOW,
    )
    service.acknowledge(session, incident_id=first.id, actor="a", now=NOW + 5 * M)
    service.resolve(session, incident_id=first.id, actor="a", now=NOW + H)
    second = declaration.declare(
        session, title="b", severity="SEV1", actor="a", now=NOW + 10 * H, service="api"
    )
    service.acknowledge(session, incident_id=second.id, actor="a", now=NOW + 10 * H + 7 * M)
    declaration.declare(
        session, title="old", severity="SEV1", actor="a", now=NOW - 40 * 24 * H, service="api"
    )
    report = service.metrics(session, since=NOW - H, until=NOW + 11 * H, now=NOW + 12 * H)
    assert report.overall.count == 2  # the old one started before the period
    assert report.open_now == 2  # but it is still open
    assert report.overall.mtta == (3 * M + 7 * M) / 2
    assert report.overall.mttr == H
    assert report.overall.mtbf == 9 * H
    assert report.overall.response_breaches == 1  # 7m > 5m
    assert report.by_service_severity[("api", "SEV1")].count == 2
    gauges = figures.gauges(session, window=timedelta(days=30), now=NOW + 12 * H)
    assert gauges.open[("api", "SEV1")] == 2
    assert gauges.mttr[("api", "SEV1")] == 3600.0


def test_period_text(session: Session) -> None:
    assert figures.period(since="30d", until=None, now=NOW) == (NOW - 30 * 24 * H, NOW)
    assert figures.period(since="2026-11-01T00:00:00Z", until="1d", now=NOW)[1] == NOW - 24 * H
    with pytest.raises(InvalidInput, match="since"):
        figures.period(since="yesterday", until=None, now=NOW)
    with pytest.raises(InvalidInput, match="before until"):
        figures.period(since="1h", until="2h", now=NOW)


def test_severities_apply(session: Session, tmp_path) -> None:  # type: ignore[no-untyped-def]
    text = """\
apiVersion: watchkeeper/v1
kind: IncidentSeverities
severities:
  - {name: P1, description: Outage, response: 10m, resolution: 2h}
  - {name: P2}
"""
    parsed = severities.parse_severities(text, "sev.yaml")
    applied = severities.replace(session, severities=parsed)
    assert [(s.name, s.rank, s.response) for s in applied] == [("P1", 1, 10 * M), ("P2", 2, None)]
    declaration.declare(session, title="t", severity="p1", actor="a", now=NOW)
    with pytest.raises(SeverityInUse, match="P1"):
        severities.replace(session, severities=parsed[1:])


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("severities: []\n", "sev.yaml:1"),
        (
            "severities:\n  - {name: P1, response: soon}\n",
            "sev.yaml:2: document 1: severities[0].response",
        ),
        ("severities:\n  - {name: P1}\n  - {name: p1}\n", "sev.yaml:3"),
        ("severities:\n  - {name: P1, colour: red}\n", "colour: unknown field"),
        ("kind: Severities\nseverities:\n  - {name: P1}\n", "kind"),
        ("severities: [\n", "YAML syntax error"),
    ],
)
def test_bad_severity_files(text: str, where: str) -> None:
    with pytest.raises(SpecError) as caught:
        severities.parse_severities(text, "sev.yaml")
    assert where in str(caught.value)
