"""Backtests of applied SLOs from the event store (SQLite and PostgreSQL), and their API.

The events are tests/core/test_backtest.py's hand-worked outage: 100 events a minute from
NOON - 4 d, the ten minutes from NOON all bad. With the default 30 d windows the page fires
12:01 and clears 12:40, the ticket fires 12:05 and clears 18:10 (worked out there).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from watchkeeper.core.series import EventSeries
from watchkeeper.core.slo import SLO, Severity
from watchkeeper.errors import InvalidInput
from watchkeeper.events import service as events_service
from watchkeeper.flows import specs as spec_flows
from watchkeeper.slo import backtest as backtest_service
from watchkeeper.slo.exceptions import (
    InvalidBacktestRange,
    NotEvaluable,
    SLONotFound,
)
from watchkeeper.sources import registry
from watchkeeper.sources.exceptions import SourceNotConfigured
from watchkeeper.sources.fake import FakeSource
from watchkeeper.sources.registry import SourceRegistry
from watchkeeper.specs import load_text
from watchkeeper.specs.problems import SpecError

MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
NOON = datetime(2026, 11, 2, 12, tzinfo=UTC)
NOW = NOON + DAY
SPEC = """\
apiVersion: watchkeeper/v1
kind: ServiceLevels
service: shop
slos:
  - name: availability
    objective: 0.999
    window: 30d
    sli: {name: shop-requests}
  - name: prom
    objective: 0.99
    window: 30d
    sli:
      name: shop-prom
      source: prometheus
      prometheus: {good: 'sum(rate(ok[{{.window}}]))', total: 'sum(rate(all[{{.window}}]))'}
  - name: catalogued
    objective: 0.99
    window: 28d
    sli:
      name: shop-datadog
      source: external
      external:
        type: Datadog
        metric: {ratioMetric: {good: {metricSource: {type: Datadog}}}}
"""
PAGE_ONLY = "windows:\n  - {severity: page, long: 10m, short: 1m, factor: 50}\n"
BACKTEST = "/api/v1/slos/shop/availability/backtest"


def _rows() -> list[dict[str, Any]]:
    rows = []
    moment = NOON - 4 * DAY
    while moment < NOON + 12 * HOUR:
        bad = NOON <= moment < NOON + 10 * MINUTE
        rows.append(
            {
                "time": moment.isoformat(),
                "sli": "shop-requests",
                "good": 0 if bad else 100,
                "total": 100,
            }
        )
        moment += MINUTE
    return rows


def _load(session: Session) -> None:
    spec_flows.apply(session, spec_set=load_text(SPEC), now=NOON - 5 * DAY)
    events_service.ingest(session, _rows(), now=NOW)
    session.flush()


@pytest.fixture
def outage(session: Session) -> None:
    _load(session)


def _episodes(run: backtest_service.BacktestRun) -> list[tuple[Severity, datetime, Any]]:
    return [(e.severity, e.fired_at, e.cleared_at) for e in run.result.episodes]


# -- service -----------------------------------------------------------------------------------


def test_the_stored_outage_pages_and_tickets_as_worked_out_by_hand(
    session: Session, outage: None
) -> None:
    run = backtest_service.run(
        session, key="shop/availability", start=NOON - HOUR, end=NOON + 8 * HOUR, now=NOW
    )
    assert _episodes(run) == [
        (Severity.PAGE, NOON + MINUTE, NOON + 40 * MINUTE),
        (Severity.TICKET, NOON + 5 * MINUTE, NOON + 6 * HOUR + 10 * MINUTE),
    ]
    page, ticket = run.result.episodes
    assert page.budget_consumed == pytest.approx(900 / 580)
    assert ticket.budget_consumed == pytest.approx(500 / 613)
    assert run.result.budget_consumed == pytest.approx(1000 / 624)
    assert run.windows_source == "slo"


def test_a_windows_file_replaces_the_slos_windows(session: Session, outage: None) -> None:
    run = backtest_service.run(
        session,
        key="availability",  # a bare name one service uses
        start=NOON - HOUR,
        end=NOON + 8 * HOUR,
        now=NOW,
        windows=backtest_service.WindowsFile(PAGE_ONLY, "page-only.yaml"),
    )
    assert _episodes(run) == [(Severity.PAGE, NOON + MINUTE, NOON + 11 * MINUTE)]
    assert run.windows_source == "page-only.yaml"
    assert [w.factor for w in run.result.windows] == [50.0]


def test_a_windows_file_may_set_min_events(session: Session, outage: None) -> None:
    text = PAGE_ONLY + "min_events: 1001\n"  # the 10 m window holds 1,000 events
    run = backtest_service.run(
        session,
        key="shop/availability",
        start=NOON - HOUR,
        end=NOON + HOUR,
        now=NOW,
        windows=backtest_service.WindowsFile(text, "w.yaml"),
    )
    assert run.result.episodes == ()
    assert run.result.min_events == 1001


def test_the_range_is_rounded_to_minutes(session: Session, outage: None) -> None:
    run = backtest_service.run(
        session,
        key="shop/availability",
        start=NOON - HOUR + timedelta(seconds=59),
        end=NOON + 20 * MINUTE + timedelta(seconds=30),
        now=NOW,
    )
    assert (run.result.start, run.result.end) == (NOON - HOUR, NOON + 20 * MINUTE)
    page = run.result.episodes[0]
    assert (page.cleared_at, page.duration) == (None, 19 * MINUTE)


def test_history_reaches_back_the_longest_window_and_the_slo_period(
    session: Session, outage: None
) -> None:
    asked: list[tuple[datetime, datetime, timedelta]] = []

    def history(slo: SLO, *, start: datetime, end: datetime, step: timedelta) -> EventSeries:
        asked.append((start, end, step))
        return backtest_service.store_history(session)(slo, start=start, end=end, step=step)

    run = backtest_service.run(
        session,
        key="shop/availability",
        start=NOON,
        end=NOON + HOUR,
        now=NOW,
        history=history,
    )
    # The SLO period (30 d, plus 2 h of margin) is longer than the 3 d ticket window.
    assert asked == [(NOON - 30 * DAY - 2 * HOUR, NOON + HOUR, MINUTE)]
    assert [e.severity for e in run.result.episodes] == [Severity.PAGE, Severity.TICKET]


def test_a_given_history_reader_serves_prometheus_slos(session: Session, outage: None) -> None:
    def history(slo: SLO, *, start: datetime, end: datetime, step: timedelta) -> EventSeries:
        return EventSeries.from_counts([NOON.timestamp()], [0], [10])

    run = backtest_service.run(
        session, key="shop/prom", start=NOON, end=NOON + HOUR, now=NOW, history=history
    )
    assert [e.severity for e in run.result.episodes] == [Severity.PAGE, Severity.TICKET]


def test_a_prometheus_slo_replays_its_sources_history(session: Session, outage: None) -> None:
    outage_series = EventSeries.from_counts(
        [(NOON + i * MINUTE).timestamp() for i in range(-120, 60)],
        [0 if 0 <= i < 10 else 100 for i in range(-120, 60)],
        [100] * 180,
    )
    source = FakeSource(outage_series, name="prometheus")
    registry.bind(session, SourceRegistry({"prometheus": source}))  # type: ignore[dict-item]
    run = backtest_service.run(session, key="shop/prom", start=NOON, end=NOON + HOUR, now=NOW)
    page = [e for e in run.result.episodes if e.severity is Severity.PAGE]
    assert len(page) == 1 and NOON < page[0].fired_at <= NOON + 10 * MINUTE
    # The same answer as handing the source's reader in: the registry picked the source.
    given = backtest_service.run(
        session, key="shop/prom", start=NOON, end=NOON + HOUR, now=NOW, history=source.history
    )
    assert given.result.episodes == run.result.episodes


@pytest.mark.parametrize(
    ("key", "start", "end", "error", "message"),
    [
        ("shop/availability", NOON, NOON, InvalidBacktestRange, "must be before"),
        ("shop/availability", NOON + HOUR, NOON, InvalidBacktestRange, "must be before"),
        ("shop/availability", NOON, NOW + MINUTE, InvalidBacktestRange, "in the future"),
        ("shop/availability", NOW - 401 * DAY, NOW, InvalidBacktestRange, "longer than the 400d"),
        ("shop/availabilty", NOON, NOW, SLONotFound, "did you mean 'shop/availability'"),
        ("availabilty", NOON, NOW, SLONotFound, "did you mean 'availability'"),
        ("shop/prom", NOON, NOW, SourceNotConfigured, "set WATCHKEEPER_PROMETHEUS_URL"),
        ("shop/catalogued", NOON, NOW, NotEvaluable, "catalogued only: its SLI reads Datadog"),
    ],
)
def test_bad_requests_are_refused_with_a_reason(
    session: Session,
    outage: None,
    key: str,
    start: datetime,
    end: datetime,
    error: type[Exception],
    message: str,
) -> None:
    with pytest.raises(error, match=message):
        backtest_service.run(session, key=key, start=start, end=end, now=NOW)


def test_a_bad_windows_text_names_its_line(session: Session, outage: None) -> None:
    text = "windows:\n  - {severity: page, long: 1h, short: 2h, factor: 5}\n"
    with pytest.raises(SpecError, match=r"w\.yaml:2: windows\[0\]\.short: must be shorter"):
        backtest_service.run(
            session,
            key="shop/availability",
            start=NOON,
            end=NOW,
            now=NOW,
            windows=backtest_service.WindowsFile(text, "w.yaml"),
        )


def test_the_longest_alert_window_allowed_replays(session: Session, outage: None) -> None:
    text = "windows:\n  - {severity: page, long: 400d, short: 1h, factor: 5}\n"
    run = backtest_service.run(
        session,
        key="shop/availability",
        start=NOON,
        end=NOON + MINUTE,
        now=NOW,
        windows=backtest_service.WindowsFile(text, "w.yaml"),
    )
    assert run.result.steps == 2
    # Burn over 400 d: (1,000 bad of 648,000) / 0.001 = 1.54, under the factor of 5.
    assert run.result.episodes == ()


# -- API ---------------------------------------------------------------------------------------


@pytest.fixture
def stored(session_factory: sessionmaker[Session]) -> None:
    with session_factory() as session:
        _load(session)
        session.commit()


def _range(end: datetime = NOON + 8 * HOUR) -> dict[str, str]:
    return {"from": (NOON - HOUR).isoformat(), "to": end.isoformat()}


def test_the_api_answers_the_backtest_document_to_a_viewer(
    client: TestClient, viewer_headers: dict[str, str], stored: None
) -> None:
    response = client.get(BACKTEST, params=_range(), headers=viewer_headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["slo"], body["from"], body["to"]) == (
        "shop/availability",
        "2026-11-02T11:00:00Z",
        "2026-11-02T20:00:00Z",
    )
    assert (body["step_seconds"], body["steps"], body["windows_source"]) == (60.0, 541, "slo")
    assert [(w["severity"], w["long"], w["short"]) for w in body["windows"]] == [
        ("page", "1h", "5m"),
        ("page", "6h", "30m"),
        ("ticket", "1d", "2h"),
        ("ticket", "3d", "6h"),
    ]
    page, ticket = body["alerts"]
    assert page == {
        "severity": "page",
        "fired_at": "2026-11-02T12:01:00Z",
        "cleared_at": "2026-11-02T12:40:00Z",
        "duration_seconds": 39 * 60.0,
        "firing_at_start": False,
        "peak_burn_rate": pytest.approx((1000 / 6000) / 0.001),
        "bad": 900.0,
        "budget_consumed": pytest.approx(900 / 580),
    }
    assert (ticket["fired_at"], ticket["cleared_at"]) == (
        "2026-11-02T12:05:00Z",
        "2026-11-02T18:10:00Z",
    )
    assert body["summary"] == {
        "page": {"alerts": 1, "firing_seconds": 39 * 60.0},
        "ticket": {"alerts": 1, "firing_seconds": (6 * 60 + 5) * 60.0},
        "bad": 1000.0,
        "total": 54_000.0,  # [11:00, 20:00): 540 minutes of 100
        "budget_consumed": pytest.approx(1000 / 624),
    }


def test_the_api_replays_windows_posted_as_yaml_or_json(
    client: TestClient, viewer_headers: dict[str, str], stored: None
) -> None:
    as_yaml = client.post(
        BACKTEST,
        params=_range(),
        content=PAGE_ONLY,
        headers={**viewer_headers, "content-type": "application/yaml"},
    )
    assert as_yaml.status_code == 200, as_yaml.text
    document = {"windows": [{"severity": "page", "long": "10m", "short": "1m", "factor": 50}]}
    as_json = client.post(
        BACKTEST,
        params=_range(),
        content=json.dumps(document),
        headers={**viewer_headers, "content-type": "application/json"},
    )
    assert as_json.status_code == 200, as_json.text
    for response in (as_yaml, as_json):
        body = response.json()
        assert body["windows_source"] == "request body"
        assert [(a["severity"], a["fired_at"], a["cleared_at"]) for a in body["alerts"]] == [
            ("page", "2026-11-02T12:01:00Z", "2026-11-02T12:11:00Z")
        ]


def test_api_mistakes_are_4xx_with_the_reason(
    client: TestClient, viewer_headers: dict[str, str], stored: None
) -> None:
    bad_windows = client.post(
        BACKTEST,
        params=_range(),
        content="windows:\n  - {severity: page, long: 1h, short: 2h, factor: 5}\n",
        headers={**viewer_headers, "content-type": "application/yaml"},
    )
    assert bad_windows.status_code == 422
    assert bad_windows.json()["problems"][0]["line"] == 2
    assert "request body:2: windows[0].short" in bad_windows.json()["detail"]
    unknown = client.get(
        "/api/v1/slos/shop/availabilty/backtest", params=_range(), headers=viewer_headers
    )
    assert unknown.status_code == 404
    assert "did you mean 'shop/availability'" in unknown.json()["detail"]
    future = client.get(
        BACKTEST, params=_range(datetime(2999, 1, 1, tzinfo=UTC)), headers=viewer_headers
    )
    assert (future.status_code, future.json()["error"]) == (422, "InvalidBacktestRange")
    naive = client.get(BACKTEST, params={"from": "2026-11-02T11:00:00"}, headers=viewer_headers)
    assert naive.status_code == 422
    assert "needs a UTC offset" in naive.json()["detail"]
    prometheus = client.get(
        "/api/v1/slos/shop/prom/backtest", params=_range(), headers=viewer_headers
    )
    assert prometheus.status_code == 409
    assert "no Prometheus source configured" in prometheus.json()["detail"]
    empty = client.post(
        BACKTEST,
        params=_range(),
        content="",
        headers={**viewer_headers, "content-type": "application/yaml"},
    )
    assert empty.status_code == 422


def test_the_api_needs_a_token(client: TestClient, stored: None) -> None:
    assert client.get(BACKTEST, params=_range()).status_code == 401
    assert client.post(BACKTEST, params=_range(), content=PAGE_ONLY).status_code == 401


def test_a_bare_name_two_services_use_is_ambiguous(session: Session, outage: None) -> None:
    other = SPEC.replace("service: shop", "service: cart").replace("shop-", "cart-")
    spec_flows.apply(session, spec_set=load_text(other), now=NOW)
    with pytest.raises(InvalidInput, match="ambiguous: cart/availability, shop/availability"):
        backtest_service.run(session, key="availability", start=NOON, end=NOW, now=NOW)
