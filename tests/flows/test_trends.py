"""Leadership trends over three hand-worked months (now = 2026-03-15 12:00Z, UTC months).

SLO counts (objective 0.99 for shop/availability, 0.9 for shop/latency):

    month  availability            latency
    Jan    500/500 + 490/500        95/100
           SLI 0.99: met, 1.0       SLI 0.95: met, 0.05 / 0.1 = 0.5
    Feb    980/1000                 no events
           SLI 0.98: missed, 2.0
    Mar    1000/1000: met, 0.0      80/100: missed, 0.2 / 0.1 = 2.0

Jan: 2 of 2 met, median 0.75, worst 1.0 (availability); Feb: 0 of 1, median and worst 2.0;
Mar: 1 of 2, median 1.0, worst 2.0 (latency). Buckets on Dec 31 and after now are not
counted; the bucket of Feb 1 00:00 is February's.

Incidents: Jan 10 SEV1 (acknowledged after 10 min, impact from 30 min before declaring,
resolved 1 h after: 90 min to recover), Jan 20 SEV3 (20 min, 2 h from impact start), Mar 1
SEV2 still open. Jan MTTA 15 min, MTTR 105 min; Feb none; Mar no MTTA or MTTR.

Pages to ann (no user: UTC): Mon Jan 12 10:00 (business) and 23:00 (sleep), Sat Feb 7 12:00
(off), Mon Mar 2 10:00 (business).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.slo import scenario
from watchkeeper.errors import InvalidInput
from watchkeeper.events import service as events_service
from watchkeeper.flows import specs as spec_flows
from watchkeeper.flows import trends
from watchkeeper.incident import declaration
from watchkeeper.incident import service as incidents
from watchkeeper.notify import service as notify_service
from watchkeeper.notify.message import Message
from watchkeeper.specs import load_text

NOW = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)
HOUR = 3600


def _t(month: int, day: int, hour: int = 0, *, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, tzinfo=UTC)


@pytest.fixture
def history(session: Session) -> None:
    spec_set = load_text(scenario.SPEC)
    spec_flows.apply(session, spec_set=spec_set, now=_t(12, 1, year=2025))
    requests, latency = "shop-requests", "shop-latency"
    counts = [
        (requests, _t(12, 31, 23, year=2025), 0, 1000),  # before January
        (requests, _t(1, 1), 500, 500),
        (requests, _t(1, 31, 23), 490, 500),
        (latency, _t(1, 15), 95, 100),
        (requests, _t(2, 1), 980, 1000),
        (requests, _t(3, 2), 1000, 1000),
        (latency, _t(3, 3), 80, 100),
        (requests, _t(3, 15, 13), 0, 1000),  # after now
    ]
    events_service.import_counts(
        session,
        [(sli, at.timestamp(), good, total) for sli, at, good, total in counts],
        now=NOW,
        resolution=HOUR,
    )
    for declared, severity, acknowledged, resolved in (
        (_t(1, 10, 8), "SEV1", timedelta(minutes=10), timedelta(hours=1)),
        (_t(1, 20, 8), "SEV3", timedelta(minutes=20), timedelta(hours=2)),
        (_t(3, 1, 8), "SEV2", None, None),
        (_t(12, 31, 8, year=2025), "SEV1", None, None),  # before January
    ):
        started = declared - (timedelta(minutes=30) if severity == "SEV1" else timedelta())
        incident = declaration.declare(
            session,
            title=f"{severity} on {declared:%b %d}",
            severity=severity,
            actor="ann",
            now=declared,
            started_at=started,
        )
        if acknowledged is not None:
            incidents.acknowledge(
                session, incident_id=incident.id, actor="ann", now=declared + acknowledged
            )
        if resolved is not None:
            incidents.resolve(
                session, incident_id=incident.id, actor="ann", now=declared + resolved
            )
    notify_service.record_delivered(
        session,
        [
            (
                notify_service.Outgoing(
                    channel="console",
                    address="ann",
                    recipient="ann",
                    message=Message(kind="page", title="checkout burning", summary=""),
                    idempotency_key=f"trend-page-{at.isoformat()}",
                ),
                at,
            )
            for at in (_t(1, 12, 10), _t(1, 12, 23), _t(2, 7, 12), _t(3, 2, 10))
        ],
    )
    session.flush()


def test_three_months_worked_by_hand(session: Session, history: None) -> None:
    report = trends.trends(session, months=3, now=NOW)
    jan, feb, mar = report.months
    assert [m.month for m in report.months] == ["2026-01", "2026-02", "2026-03"]
    assert [m.partial for m in report.months] == [False, False, True]
    assert (jan.start, jan.end, mar.end) == (_t(1, 1), _t(2, 1), NOW)

    assert (jan.slos_met, jan.slos_with_data, jan.compliance) == (2, 2, 1.0)
    assert jan.budget_consumed_median == pytest.approx(0.75)
    assert (jan.budget_consumed_worst, jan.worst_slo) == (pytest.approx(1.0), "shop/availability")
    assert (feb.slos_met, feb.slos_with_data, feb.compliance) == (0, 1, 0.0)
    assert feb.budget_consumed_median == pytest.approx(2.0)
    assert (mar.slos_met, mar.slos_with_data, mar.compliance) == (1, 2, 0.5)
    assert mar.budget_consumed_median == pytest.approx(1.0)
    assert (mar.budget_consumed_worst, mar.worst_slo) == (pytest.approx(2.0), "shop/latency")

    assert jan.incidents == {"SEV1": 1, "SEV2": 0, "SEV3": 1, "SEV4": 0}
    assert (jan.incidents_total, feb.incidents_total, mar.incidents_total) == (2, 0, 1)
    assert mar.incidents["SEV2"] == 1
    assert (jan.mtta_seconds, jan.mttr_seconds) == (15 * 60, 105 * 60)
    assert (feb.mtta_seconds, feb.mttr_seconds) == (None, None)
    assert (mar.mtta_seconds, mar.mttr_seconds) == (None, None)

    assert [(m.pages, m.pages_out_of_hours) for m in report.months] == [(2, 1), (1, 1), (1, 0)]


def test_months_follow_the_time_zone(session: Session, history: None) -> None:
    # In Auckland (UTC+13 in summer) January starts on Dec 31 11:00Z: the Dec 31 08:00Z
    # incident is still December's, the two January ones stay in January.
    report = trends.trends(session, months=3, now=NOW, zone="Pacific/Auckland")
    assert [m.start for m in report.months] == [
        datetime(2025, 12, 31, 11, tzinfo=UTC),
        datetime(2026, 1, 31, 11, tzinfo=UTC),
        datetime(2026, 2, 28, 11, tzinfo=UTC),
    ]
    # The Jan 31 23:00Z bucket (490/500) is February 1 in Auckland.
    assert report.months[1].slos_with_data == 1
    assert report.months[0].incidents_total == 2


def test_no_data_is_null_not_zero(session: Session) -> None:
    [month] = trends.trends(session, months=1, now=NOW).months
    assert (month.slos_with_data, month.compliance, month.budget_consumed_median) == (0, None, None)
    assert (month.mtta_seconds, month.mttr_seconds, month.worst_slo) == (None, None, None)
    assert (month.incidents_total, month.pages) == (0, 0)


@pytest.mark.parametrize(
    ("months", "zone", "field"),
    [(0, "UTC", "months"), (25, "UTC", "months"), (6, "Mars/Base", "zone")],
)
def test_bad_arguments_name_the_field(session: Session, months: int, zone: str, field: str) -> None:
    with pytest.raises(InvalidInput, match=f"^{field}:"):
        trends.trends(session, months=months, now=NOW, zone=zone)


def test_trends_api(client: TestClient, viewer_headers: dict[str, str]) -> None:
    answer = client.get("/api/v1/reports/trends?months=2", headers=viewer_headers)
    assert answer.status_code == 200, answer.text
    months = answer.json()["months"]
    assert len(months) == 2 and months[-1]["partial"] is True
    for query in ("months=0", "months=25", "zone=Mars/Base"):
        refused = client.get(f"/api/v1/reports/trends?{query}", headers=viewer_headers)
        assert refused.status_code == 422, query
        assert query.split("=")[0] in refused.json()["detail"]
    assert client.get("/api/v1/reports/trends").status_code == 401
