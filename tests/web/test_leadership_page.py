"""The leadership page: six months of trends as charts and as a table of the same numbers."""

from __future__ import annotations

import html
import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tests.web.signing import signed_in
from watchkeeper.incident import declaration
from watchkeeper.incident import service as incidents
from watchkeeper.report.schemas import MonthTrendRead, TrendsRead
from watchkeeper.web import leadership_pages

NOW = datetime(2026, 3, 15, 12, tzinfo=UTC)
XSS = "<script>alert(1)</script>"


@pytest.fixture
def fixed_now(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(leadership_pages, "utcnow", lambda: NOW)


def chart_specs(page: str) -> dict[str, dict[str, Any]]:
    """Each chart's data, by chart id, as leadership.js reads it."""
    found = re.findall(r'id="chart-([a-z]+)">.*?data-chart="([^"]*)"', page, re.S)
    return {name: json.loads(html.unescape(raw)) for name, raw in found}


def month_row(page: str, month: str) -> list[str]:
    row = re.search(rf'<tr data-month="{month}">(.*?)</tr>', page, re.S)
    assert row is not None, page
    return [
        re.sub(r"<[^>]+>", "", cell).strip()
        for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row.group(1), re.S)
    ]


@pytest.mark.usefixtures("fixed_now")
def test_without_data_the_page_says_what_fills_it(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    signed_in(client, session_factory, role="viewer")
    page = client.get("/leadership")
    assert page.status_code == 200
    assert "Nothing to show yet" in page.text and "watchkeeper slo apply" in page.text
    months = re.findall(r'<tr data-month="([0-9-]+)">', page.text)
    assert months == ["2025-10", "2025-11", "2025-12", "2026-01", "2026-02", "2026-03"]
    assert "(so far)" in month_row(page.text, "2026-03")[0]
    specs = chart_specs(page.text)
    assert sorted(specs) == ["budget", "compliance", "incidents", "pages", "response"]
    assert specs["compliance"]["series"][0]["values"] == [None] * 6  # no data, not 0 %
    assert specs["pages"]["x"] == "Calendar month (UTC)"
    assert "/static/leadership.js" in page.text and "uPlot.iife.min.js" in page.text


@pytest.mark.usefixtures("fixed_now")
def test_incidents_and_response_times_show_in_the_table_and_the_charts(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    with session_factory() as session:
        declared = datetime(2026, 3, 10, 8, tzinfo=UTC)
        incident = declaration.declare(
            session, title="checkout down", severity="SEV1", actor="ann", now=declared
        )
        incidents.acknowledge(
            session, incident_id=incident.id, actor="ann", now=declared + timedelta(minutes=10)
        )
        incidents.resolve(
            session, incident_id=incident.id, actor="ann", now=declared + timedelta(hours=1)
        )
        session.commit()
    signed_in(client, session_factory, role="viewer")
    page = client.get("/leadership").text
    assert "Nothing to show yet" not in page
    header = re.search(r"<thead>(.*?)</thead>", page, re.S)
    assert header is not None
    columns = [
        re.sub(r"<[^>]+>", "", c).strip()
        for c in re.findall(r"<th[^>]*>(.*?)</th>", header.group(1))
    ]
    march = dict(zip(columns, month_row(page, "2026-03"), strict=True))
    assert (march["Incidents"], march["SEV1"], march["MTTA"], march["MTTR"]) == (
        "1",
        "1",
        "10m",
        "1h",
    )
    february = dict(zip(columns, month_row(page, "2026-02"), strict=True))
    assert (february["Incidents"], february["MTTA"], february["Compliance"]) == (
        "0",
        "-",
        "no data",
    )
    specs = chart_specs(page)
    sev1 = next(s for s in specs["incidents"]["series"] if s["label"] == "SEV1")
    assert sev1["values"] == [0, 0, 0, 0, 0, 1]
    response = {s["label"]: s["values"] for s in specs["response"]["series"]}
    assert response["MTTA"][-1] == 10.0 and response["MTTR"][-1] == 60.0
    assert specs["response"]["y"] == "minutes (mean)"


def test_names_in_the_trends_are_escaped_in_the_table_and_the_chart_data(
    client: TestClient, session_factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    month = MonthTrendRead(
        month="2026-03",
        start=NOW,
        end=NOW,
        partial=True,
        slos_with_data=1,
        slos_met=0,
        compliance=0.0,
        budget_consumed_median=2.0,
        budget_consumed_worst=2.0,
        worst_slo=XSS,
        incidents={XSS: 1},
        incidents_total=1,
        mtta_seconds=None,
        mttr_seconds=None,
        pages=3,
        pages_out_of_hours=1,
    )
    monkeypatch.setattr(
        leadership_pages,
        "trends",
        lambda session, **_: TrendsRead(at=NOW, zone="UTC", months=[month]),
    )
    signed_in(client, session_factory, role="viewer")
    page = client.get("/leadership").text
    assert XSS not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    specs = chart_specs(page)
    assert specs["incidents"]["series"][0]["label"] == XSS  # intact once the attribute is read
    assert specs["compliance"]["series"][0]["values"] == [0.0]
    assert specs["budget"]["series"][1]["values"] == [200.0]


def test_the_page_needs_a_session(client: TestClient) -> None:
    response = client.get("/leadership", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/login")
