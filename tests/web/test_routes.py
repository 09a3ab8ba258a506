"""The status page: rows, the banner (green only when nothing burns) and the burn columns."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tests.slo import scenario, unevaluable
from tests.slo.scenario import AT
from tests.web.signing import signed_in
from watchkeeper.events import service as events_service
from watchkeeper.flows import specs as spec_flows
from watchkeeper.messages import plural
from watchkeeper.slo.evaluator import Evaluator
from watchkeeper.specs import load_text

MOMENT = int(AT.timestamp())


@pytest.fixture(autouse=True)
def _signed_in(client: TestClient, session_factory: sessionmaker[Session]) -> None:
    signed_in(client, session_factory, role="viewer")


HEALTHY = [{"time": MOMENT - 60, "sli": "shop-requests", "good": 100, "total": 100}]


def apply(
    session_factory: sessionmaker[Session],
    text: str,
    rows: list[dict[str, object]],
    *,
    unevaluable_slos: bool = False,
) -> None:
    with session_factory() as session:
        spec_flows.apply(session, spec_set=load_text(text), now=AT)
        events_service.ingest(session, rows, now=AT)
        if unevaluable_slos:
            unevaluable.insert(session, "broken", unevaluable.spec("broken", objective=2))
        Evaluator().tick(session, now=AT)
        session.commit()


def banner(page: str) -> tuple[str, list[str]]:
    """The banner's level and its lines (the all-clear text when it has none)."""
    found = re.search(r'<div class="banner (\w+)" id="status-banner"[^>]*>(.*?)</div>', page, re.S)
    assert found is not None
    lines = re.findall(r'<li id="banner-\w+">(.*?)</li>', found.group(2))
    return found.group(1), lines or [" ".join(found.group(2).split())]


def burn_headers(page: str) -> list[str]:
    return re.findall(r"<th>Burn (\w+)</th>", page)


def test_plurals() -> None:
    assert [plural(1, "SLO"), plural(2, "SLO"), plural(0, "SLO")] == ["1 SLO", "2 SLOs", "0 SLOs"]
    assert [plural(1, "policy", "policies"), plural(3, "policy", "policies")] == [
        "1 policy",
        "3 policies",
    ]
    assert plural(12_000, "SLO") == "12,000 SLOs"


def test_empty_page(client: TestClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "No SLOs yet" in response.text
    assert "0 SLOs · 0 policies" in response.text
    assert banner(response.text)[0] == "ok"


def test_pages_tickets_and_exhausted_budgets_are_each_counted(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    # Scenario: both SLOs page; latency also raises tickets and has spent its budget (-400 %).
    apply(session_factory, scenario.SPEC + "---\n" + scenario.POLICY, scenario.event_rows())
    page = client.get("/").text
    assert 'data-slo="shop/availability"' in page
    assert 'data-slo="shop/latency"' in page
    assert "2 SLOs · 1 policy ·" in page
    assert banner(page) == (
        "page",
        [
            "2 SLOs burning error budget fast enough to page",
            "1 SLO burning error budget fast enough for a ticket",
            "1 SLO out of error budget",
        ],
    )
    assert "99.500 %" in page  # availability's SLI
    assert "50.0 %" in page  # its budget left
    assert '<span class="pill page">page 1h/5m</span>' in page
    assert '<td class="num bad">-400.0 %</td>' in page  # latency's budget


def test_a_ticket_alert_alone_turns_the_banner_amber(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    # Burn 4 over the last day (0.04 bad, budget 0.01): above the ticket factors 3 and 1, below
    # the page factors 14.4 and 6; a million good events ten days ago keep the budget at 90.6 %.
    rows: list[dict[str, object]] = [
        {"time": MOMENT - 3600 * hour, "sli": "shop-requests", "good": 960, "total": 1000}
        for hour in range(1, 25)
    ]
    rows.append(
        {"time": MOMENT - 10 * 86_400, "sli": "shop-requests", "good": 10**6, "total": 10**6}
    )
    apply(session_factory, scenario.SPEC, rows)
    page = client.get("/").text
    assert banner(page) == ("ticket", ["1 SLO burning error budget fast enough for a ticket"])
    assert '<span class="pill ticket">ticket 1d/2h</span>' in page
    assert "90.6 %" in page


def test_a_failing_slo_turns_the_banner_red_and_says_why(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    apply(session_factory, scenario.SPEC, HEALTHY, unevaluable_slos=True)
    page = client.get("/").text
    assert banner(page) == ("page", ["1 SLO cannot be evaluated"])
    assert '<tr data-slo="shop/broken" class="failing">' in page
    assert "cannot be evaluated: stored spec is invalid: objective" in page
    assert "3 SLOs" in page
    assert "100.000 %" in page  # the healthy SLO is shown as usual


def test_all_clear_only_when_nothing_burns(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    apply(session_factory, scenario.SPEC, HEALTHY)
    page = client.get("/").text
    assert banner(page) == (
        "ok",
        ["All clear: no burn-rate alert firing, no error budget exhausted, no SLO failing"],
    )
    assert "100.000 %" in page
    # latency has no events: evaluated, but without figures.
    assert "no data" in page


def test_burn_columns_are_the_windows_the_slos_use(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    apply(session_factory, scenario.SPEC, HEALTHY)
    assert burn_headers(client.get("/").text) == ["5m", "30m", "1h", "2h", "6h", "1d", "3d"]
    custom = scenario.SPEC.replace(
        "    sli: {name: shop-requests, kind: ratio}\n",
        "    sli: {name: shop-requests, kind: ratio}\n"
        "    alerting:\n"
        "      windows:\n"
        "        - {severity: page, long: 4h, short: 20m, factor: 10}\n",
    )
    apply(session_factory, custom, [])
    page = client.get("/").text
    assert burn_headers(page) == ["5m", "20m", "30m", "1h", "2h", "4h", "6h", "1d", "3d"]
    assert '<td class="num ">0.00</td>' in page  # availability's 4h burn rate: no bad events
