"""The SLO chart: stored evaluations bucketed by the database, with markers.

Hand-worked history of shop/availability (objective 0.99, so a burn rate is the bad share
over 0.01), one evaluation a minute from T0 = AT - 2 h for an hour, minutes 30 to 49
missing:

* budget remaining at minute i is 1 - i / 100; the SLI 0.99 + i / 10,000;
* 5m window: 1000 / 1000 good (burn 0), except minute 14 (800 / 1000: burn 20) and
  minute 16 (900 / 1000: burn 10);
* 30m window: 1000 / 1000, except minutes 50 to 59: no events (no burn rate);
* 1h window: 990 / 1000 (burn 1); no other window is stored.

Six points over [T0, T0 + 1 h) are 10-minute buckets: 0 (minutes 0-9), 1 (10-19), 2
(20-29), then 3 and 4 empty, 5 (50-59). Per bucket the budget is its last minute's
(0.91, 0.81, 0.71, 0.41) and the 5m burn its highest (bucket 1: 20, the spike). The gap of
three buckets (30 minutes) is longer than two buckets: one null point at bucket 3 breaks it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.incident.conftest import fire
from tests.slo.scenario import AT
from watchkeeper.alerting import intake
from watchkeeper.alerting import service as alerting_service
from watchkeeper.alerting.schemas import ChangeEventIn, ChangePayload
from watchkeeper.errors import InvalidInput
from watchkeeper.flows import charts
from watchkeeper.flows.specs import ApplyResult
from watchkeeper.incident import declaration
from watchkeeper.incident import service as incidents
from watchkeeper.slo import chart
from watchkeeper.slo import service as slo_service
from watchkeeper.slo.models import SLOHistory, SLOStatusRecord

T0 = AT - timedelta(hours=2)
S0 = int(T0.timestamp())
KEY = "shop/availability"
MINUTE = timedelta(minutes=1)
ONE_MINUTE_CADENCE = timedelta(minutes=1)


def _counts(minute: int) -> dict[str, list[int]]:
    five = {14: [800, 1000], 16: [900, 1000]}.get(minute, [1000, 1000])
    thirty = [0, 0] if minute >= 50 else [1000, 1000]
    return {"5m": five, "30m": thirty, "1h": [990, 1000]}


@pytest.fixture
def history(session: Session, shop: ApplyResult) -> int:
    """The hand-worked evaluations of shop/availability; returns its SLO id."""
    slo_id = slo_service.get(session, key=KEY).id
    for minute in [*range(30), *range(50, 60)]:
        session.add(
            SLOHistory(
                slo_id=slo_id,
                at=T0 + minute * MINUTE,
                good=1.0,
                total=1.0,
                sli=0.99 + minute / 10_000,
                budget_remaining=1 - minute / 100,
                objective=0.99,
                window_counts=_counts(minute),
            )
        )
    session.flush()
    return slo_id


def _series(session: Session, **kwargs: Any) -> chart.ChartSeries:
    arguments: dict[str, Any] = {
        "key": KEY,
        "now": AT,
        "start": T0,
        "end": T0 + timedelta(hours=1),
        "points": 6,
        "interval": ONE_MINUTE_CADENCE,
    }
    return chart.series(session, **{**arguments, **kwargs})


def test_buckets_keep_the_last_budget_and_the_highest_burn(session: Session, history: int) -> None:
    drawn = _series(session)
    assert drawn.bucket_seconds == 600
    assert drawn.times == [S0, S0 + 600, S0 + 1200, S0 + 1800, S0 + 3000]
    assert drawn.error_budget_remaining == pytest.approx([0.91, 0.81, 0.71, None, 0.41])
    assert drawn.sli == pytest.approx([0.9909, 0.9919, 0.9929, None, 0.9959])
    # The one-minute spike of minute 14 survives its 10-minute bucket.
    assert drawn.burn_rates["5m"] == pytest.approx([0.0, 20.0, 0.0, None, 0.0])
    # Minutes without events have no burn rate: null, never 0.
    assert drawn.burn_rates["30m"] == [0.0, 0.0, 0.0, None, None]
    assert drawn.burn_rates["1h"] == pytest.approx([1.0, 1.0, 1.0, None, 1.0])
    assert drawn.burn_rates["6h"] == [None] * 5
    # Every alert window once, in the alerts' order, with the 30-day default factors.
    assert list(drawn.burn_rates) == ["1h", "5m", "6h", "30m", "1d", "2h", "3d"]
    assert [(a.severity, a.long, a.short) for a in drawn.alerts] == [
        ("page", "1h", "5m"),
        ("page", "6h", "30m"),
        ("ticket", "1d", "2h"),
        ("ticket", "3d", "6h"),
    ]
    assert [a.factor for a in drawn.alerts] == pytest.approx([14.4, 6.0, 3.0, 1.0])


def test_fewer_points_make_wider_buckets_and_keep_both_spikes(
    session: Session, history: int
) -> None:
    drawn = _series(session, points=4)
    # 900 s buckets: 0 (minutes 0-14), 1 (15-29), 3 (45-59); a two-bucket gap is no break.
    assert drawn.bucket_seconds == 900
    assert drawn.times == [S0, S0 + 900, S0 + 2700]
    assert drawn.burn_rates["5m"] == pytest.approx([20.0, 10.0, 0.0])
    assert drawn.error_budget_remaining == pytest.approx([0.86, 0.71, 0.41])


def test_the_range_bounds_are_respected(session: Session, history: int) -> None:
    # [T0 + 15 min, T0 + 25 min): minutes 15 to 24 only, one bucket per minute.
    drawn = _series(session, start=T0 + 15 * MINUTE, end=T0 + 25 * MINUTE, points=100)
    assert drawn.bucket_seconds == 6
    assert drawn.times == [S0 + 60 * m for m in range(15, 25)]
    assert drawn.error_budget_remaining == pytest.approx([1 - m / 100 for m in range(15, 25)])
    assert drawn.burn_rates["5m"] == pytest.approx([0.0, 10.0] + [0.0] * 8)
    assert drawn.start == T0 + 15 * MINUTE and drawn.end == T0 + 25 * MINUTE


def test_at_most_the_points_asked_for(session: Session, history: int) -> None:
    for points in (1, 2, 3, 7, 59, 60, 61, 5000):
        drawn = _series(session, points=points)
        assert len(drawn.times) <= points, points
        assert drawn.times == sorted(set(drawn.times))
        assert all(S0 <= t < S0 + 3600 for t in drawn.times)
    assert _series(session, points=1).error_budget_remaining == pytest.approx([0.41])
    assert _series(session, points=1).burn_rates["5m"] == pytest.approx([20.0])


def test_the_default_range_is_the_slo_window_ending_now(session: Session, history: int) -> None:
    now = T0 + timedelta(hours=1)
    drawn = chart.series(session, key=KEY, now=now, interval=ONE_MINUTE_CADENCE)
    assert (drawn.start, drawn.end) == (now - timedelta(days=30), now)
    assert drawn.bucket_seconds == 30 * 86_400 // 1000
    # The hour of history falls into two 43.2-minute buckets, the last one's budget 0.41.
    assert drawn.error_budget_remaining[-1] == pytest.approx(0.41)
    assert max(v for v in drawn.burn_rates["5m"] if v is not None) == pytest.approx(20.0)


def test_rows_stored_before_counts_carry_their_burn_rates(
    session: Session, shop: ApplyResult
) -> None:
    slo_id = slo_service.get(session, key=KEY).id
    session.add(
        SLOHistory(
            slo_id=slo_id,
            at=T0,
            good=1.0,
            total=1.0,
            sli=0.9,
            budget_remaining=0.5,
            burn_rates={"5m": 3.0, "1h": None},
            window_slis={"5m": 0.97},
        )
    )
    session.flush()
    drawn = _series(session)
    assert drawn.times == [S0]
    assert drawn.burn_rates["5m"] == [3.0]
    assert drawn.burn_rates["1h"] == [None]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"points": 0}, "points"),
        ({"points": 5001}, "points"),
        ({"start": T0, "end": T0}, "from"),
        ({"start": T0 + MINUTE, "end": T0}, "from"),
    ],
)
def test_bad_arguments_name_the_field(
    session: Session, shop: ApplyResult, changes: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidInput, match=f"^{field}:"):
        _series(session, **changes)


def _change(session: Session, summary: str, at: datetime, service: str) -> None:
    source = alerting_service.get_integration(session, name="hooks")
    intake.ingest_change(
        session,
        integration=source,
        event=ChangeEventIn(
            routing_key=source.key,
            payload=ChangePayload(
                summary=summary, timestamp=at, custom_details={"service": service}
            ),
        ),
        now=at,
    )


def test_markers_show_changes_alerts_incidents_and_the_forecast(
    session: Session, history: int
) -> None:
    opened = fire(session, "checkout burning", service="shop", at=T0 + 5 * MINUTE)
    fire(session, "other service", service="api", at=T0 + 6 * MINUTE)
    fire(session, "checkout burning", service="shop", state="resolved", at=T0 + 40 * MINUTE)
    _change(session, "deploy v2", T0 + 25 * MINUTE, "shop")
    _change(session, "deploy elsewhere", T0 + 26 * MINUTE, "api")
    _change(session, "deploy too late", T0 + 70 * MINUTE, "shop")
    linked = declaration.declare(
        session,
        title="checkout errors",
        severity="SEV2",
        actor="ann",
        now=T0 + 20 * MINUTE,
        service="shop",
        slo_keys=[KEY],
    )
    incidents.resolve(session, incident_id=linked.id, actor="ann", now=T0 + 50 * MINUTE)
    declaration.declare(
        session, title="unlinked", severity="SEV3", actor="ann", now=T0 + 21 * MINUTE
    )
    session.add(
        SLOStatusRecord(slo_id=history, evaluated_at=T0, exhaustion_at=T0 + timedelta(hours=5))
    )
    session.flush()
    document = charts.slo_chart(
        session,
        key=KEY,
        now=AT,
        start=T0,
        end=T0 + timedelta(hours=1),
        points=6,
        interval=ONE_MINUTE_CADENCE,
    )
    assert [(m.at - S0, m.kind, m.label, m.id) for m in document.markers] == [
        (300, "alert_opened", "checkout burning", opened),
        (1200, "incident_declared", f"#{linked.id} SEV2: checkout errors", linked.id),
        (1500, "change", "deploy v2", document.markers[2].id),
        (2400, "alert_resolved", "checkout burning", opened),
        (3000, "incident_resolved", f"#{linked.id} SEV2: checkout errors", linked.id),
    ]
    assert document.exhaustion_at == S0 + 5 * 3600
    assert document.times == [S0, S0 + 600, S0 + 1200, S0 + 1800, S0 + 3000]
    assert document.series.burn_rates["5m"] == pytest.approx([0.0, 20.0, 0.0, None, 0.0])


def test_chart_api(
    client: TestClient, viewer_headers: dict[str, str], session: Session, history: int
) -> None:
    session.commit()
    url = "/api/v1/slos/shop/availability/chart"
    query = {"from": T0.isoformat(), "to": (T0 + timedelta(hours=1)).isoformat(), "points": 6}
    answer = client.get(url, params=query, headers=viewer_headers)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["slo"] == KEY and body["from"] == T0.isoformat().replace("+00:00", "Z")
    assert body["bucket_seconds"] == 600
    assert body["series"]["error_budget_remaining"] == pytest.approx([0.91, 0.81, 0.71, None, 0.41])
    assert body["series"]["burn_rates"]["5m"][1] == pytest.approx(20.0)
    assert body["alerts"][0] == {"severity": "page", "long": "1h", "short": "5m", "factor": 14.4}
    for bad, field in (
        ({"points": 5001}, "points"),
        ({"points": 0}, "points"),
        ({"from": "2026-11-23T10:00:00"}, "from"),
        ({"to": T0.isoformat()}, "from"),
    ):
        refused = client.get(url, params={**query, **bad}, headers=viewer_headers)
        assert refused.status_code == 422, bad
        assert field in refused.json()["detail"], (bad, refused.json())
    missing = client.get("/api/v1/slos/shop/nothing/chart", headers=viewer_headers)
    assert missing.status_code == 404
    assert client.get(url, params=query).status_code == 401
