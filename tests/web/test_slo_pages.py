"""SLO pages: the list's filters, search, sort and pages; the detail page; its chart data."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tests.slo import scenario, unevaluable
from tests.slo.scenario import AT
from tests.web.signing import make_user, signed_in
from watchkeeper.auth import people, sessions
from watchkeeper.auth.sessions import SessionRules
from watchkeeper.db import utcnow
from watchkeeper.errors import WatchkeeperError
from watchkeeper.events import service as events_service
from watchkeeper.flows import specs as spec_flows
from watchkeeper.incident import declaration
from watchkeeper.policy import gate
from watchkeeper.slo import backfill
from watchkeeper.slo import service as slo_service
from watchkeeper.slo.evaluator import Evaluator
from watchkeeper.slo.explain import explain
from watchkeeper.specs import load_text
from watchkeeper.web.access import SESSION_COOKIE
from watchkeeper.web.slo_charts import MAX_POINTS
from watchkeeper.web.slo_pages import detail_context

XSS = "<script>alert(1)</script>"


def apply(session_factory: sessionmaker[Session], text: str, *, evaluate: bool = True) -> None:
    with session_factory() as session:
        spec_flows.apply(session, spec_set=load_text(text), now=AT)
        if evaluate:
            events_service.ingest(session, scenario.event_rows(), now=AT)
            Evaluator().tick(session, now=AT)
        session.commit()


def listed(page: str) -> list[str]:
    """The SLO keys of a list page, in order."""
    return re.findall(r'<tr data-slo="([^"]+)">', page)


def many_slos(count: int) -> str:
    """A spec of ``count`` SLOs of service ``big``: tier gold for even numbers, label
    ``team=t<n % 3>``."""
    lines = ["apiVersion: watchkeeper/v1", "kind: ServiceLevels", "service: big", "slos:"]
    for n in range(count):
        lines += [
            f"  - name: slo-{n:03d}",
            "    objective: 0.99",
            "    window: 30d",
            f"    tier: {'gold' if n % 2 == 0 else 'bronze'}",
            f"    labels: {{team: t{n % 3}}}",
            "    sli: {name: big-requests, kind: ratio}",
        ]
    return "\n".join(lines) + "\n"


@pytest.fixture
def viewer(client: TestClient, session_factory: sessionmaker[Session]) -> TestClient:
    signed_in(client, session_factory, role="viewer")
    return client


def test_the_list_says_what_to_do_when_empty(viewer: TestClient) -> None:
    response = viewer.get("/slos")
    assert response.status_code == 200
    assert "No SLOs yet: apply some with <code>watchkeeper slo apply examples/</code>" in (
        response.text
    )


def test_pages_need_a_session(client: TestClient) -> None:
    for path in ("/slos", "/slos/shop/availability", "/slos/shop/availability/chart.json"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/login?next=")


def test_the_list_shows_figures_and_sorts_by_budget_burn_and_name(
    viewer: TestClient, session_factory: sessionmaker[Session]
) -> None:
    apply(session_factory, scenario.SPEC)
    page = viewer.get("/slos").text
    assert listed(page) == ["shop/availability", "shop/latency"]
    assert "99.500 %" in page and "50.0 %" in page and "-400.0 %" in page
    assert '<span class="pill page" data-state="paging">burning: page</span>' in page
    # Budget left: latency (-400 %) before availability (50 %); descending turns it round.
    assert listed(viewer.get("/slos?sort=budget").text) == ["shop/latency", "shop/availability"]
    assert listed(viewer.get("/slos?sort=budget&dir=desc").text) == [
        "shop/availability",
        "shop/latency",
    ]
    # Burn 1h: availability burns 20, latency 5: fastest first.
    assert listed(viewer.get("/slos?sort=burn").text) == ["shop/availability", "shop/latency"]
    assert listed(viewer.get("/slos?sort=name&dir=desc").text) == [
        "shop/latency",
        "shop/availability",
    ]


def test_filters_search_and_status(
    viewer: TestClient, session_factory: sessionmaker[Session]
) -> None:
    apply(session_factory, scenario.SPEC)
    apply(session_factory, many_slos(6), evaluate=False)
    assert listed(viewer.get("/slos?service=shop").text) == ["shop/availability", "shop/latency"]
    assert listed(viewer.get("/slos?tier=gold").text) == [
        "big/slo-000",
        "big/slo-002",
        "big/slo-004",
    ]
    assert listed(viewer.get("/slos?label=team%3Dt1").text) == ["big/slo-001", "big/slo-004"]
    assert len(listed(viewer.get("/slos?label=team").text)) == 6
    assert listed(viewer.get("/slos?q=LATENCY").text) == ["shop/latency"]
    assert listed(viewer.get("/slos?q=slo-005").text) == ["big/slo-005"]
    assert listed(viewer.get("/slos?status=exhausted").text) == ["shop/latency"]
    assert listed(viewer.get("/slos?status=burning").text) == ["shop/availability", "shop/latency"]
    assert len(listed(viewer.get("/slos?status=no_data").text)) == 6  # never evaluated
    nothing = viewer.get("/slos?q=nothing-like-this").text
    assert listed(nothing) == []
    assert "No SLO matches these filters" in nothing


def test_fifty_a_page(viewer: TestClient, session_factory: sessionmaker[Session]) -> None:
    apply(session_factory, many_slos(120), evaluate=False)
    first = viewer.get("/slos").text
    assert listed(first)[0] == "big/slo-000" and len(listed(first)) == 50
    assert "1\N{EN DASH}50 of 120 SLOs" in first
    assert 'href="/slos?page=2" rel="next"' in first
    third = viewer.get("/slos?page=3").text
    assert listed(third) == [f"big/slo-{n:03d}" for n in range(100, 120)]
    assert 'rel="next"' not in third
    # Filters are kept across pages.
    gold = viewer.get("/slos?tier=gold&page=2").text
    assert listed(gold) == [f"big/slo-{n:03d}" for n in range(100, 120, 2)]
    assert 'href="/slos?tier=gold" rel="prev"' in gold


@pytest.mark.parametrize(
    ("query", "field"),
    [("page=0", "page"), ("page=two", "page"), ("status=on-fire", "status"), ("sort=x", "sort")],
)
def test_bad_parameters_are_a_422_naming_the_field(
    viewer: TestClient, query: str, field: str
) -> None:
    response = viewer.get(f"/slos?{query}")
    assert response.status_code == 422
    assert f"{field}:" in response.text
    assert response.headers["content-type"].startswith("text/html")


def test_user_text_is_escaped(viewer: TestClient, session_factory: sessionmaker[Session]) -> None:
    text = scenario.SPEC.replace(
        "  - name: availability\n",
        f"  - name: availability\n    description: '{XSS}'\n    labels: {{note: '{XSS}'}}\n",
    )
    apply(session_factory, text)
    for path in ("/slos", "/slos/shop/availability", f"/slos?q={XSS}"):
        page = viewer.get(path).text
        assert XSS not in page, path
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in viewer.get("/slos/shop/availability").text


def test_the_detail_page(viewer: TestClient, session_factory: sessionmaker[Session]) -> None:
    apply(session_factory, scenario.SPEC + "---\n" + scenario.POLICY)
    with session_factory() as session:
        declaration.declare(
            session,
            title="Checkout errors",
            severity="SEV2",
            actor="ann",
            now=AT,
            service="shop",
            slo_keys=["shop/availability"],
        )
        session.commit()
    response = viewer.get("/slos/shop/availability")
    assert response.status_code == 200
    page = response.text
    assert '<span class="pill page" data-state="paging">burning: page</span>' in page
    # Each alert window's burn rates against its threshold: page 1h/5m burns 20 and 100.
    row = re.search(r'<tr data-alert="page-1h-5m">(.*?)</tr>', page, re.S)
    assert row is not None
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row.group(1), re.S)
    assert cells[2:5] == ["20.00", "100.00", "&gt; 14.40"]
    assert "firing" in cells[5]
    assert '<tr data-alert="ticket-3d-6h">' in page
    assert "Checkout errors" in page and 'href="/incidents/' in page
    # The scenario's policy denies deploys of shop while latency's budget is spent.
    assert re.search(r'id="gate-decision">.*?<span class="pill bad">deny</span>', page, re.S)
    assert "shop-policy" in page
    # The explain arithmetic: the SLO window, SLI and budget steps are listed.
    assert '<table id="explain">' in page
    assert "1 - objective = 1 - 0.99" in page
    # The charts load their data from the session-checked JSON endpoint.
    assert 'data-src="/slos/shop/availability/chart.json"' in page
    assert "/static/charts.js" in page and "uPlot.iife.min.js" in page


def test_an_unknown_slo_is_a_404_page(viewer: TestClient) -> None:
    response = viewer.get("/slos/shop/nothing")
    assert response.status_code == 404
    assert "no SLO &#39;shop/nothing&#39; has been applied" in response.text


def test_the_range_picker(client: TestClient, session_factory: sessionmaker[Session]) -> None:
    make_user(session_factory, "berlin", "viewer", time_zone="Europe/Berlin")
    with session_factory() as session:
        issued = sessions.open_session(
            session,
            user=people.get_user(session, name="berlin"),
            address="testclient",
            user_agent="",
            now=utcnow(),
            rules=SessionRules(),
        )
        session.commit()
    client.cookies.set(SESSION_COOKIE, issued.secret)
    apply(session_factory, scenario.SPEC, evaluate=False)
    page = client.get("/slos/shop/availability?range=7d").text
    assert 'aria-current="true" class="current">7 days</a>' in page
    assert re.search(r'data-src="/slos/shop/availability/chart.json\?from=[^"]+&amp;to=', page)
    # A custom range is read in the viewer's zone: 12:00 in Berlin (winter) is 11:00 UTC.
    custom = client.get("/slos/shop/availability?from=2026-11-20T12:00&to=2026-11-21T12:00").text
    assert (
        "chart.json?from=2026-11-20T11%3A00%3A00%2B00%3A00&amp;to=2026-11-21T11%3A00%3A00%2B00%3A00"
        in custom
    )
    assert 'value="2026-11-20T12:00"' in custom
    bad = client.get("/slos/shop/availability?range=forever")
    assert bad.status_code == 422 and "range:" in bad.text
    backwards = client.get("/slos/shop/availability?from=2026-11-21T12:00&to=2026-11-20T12:00")
    assert backwards.status_code == 422 and "from:" in backwards.text


def test_chart_data_is_downsampled_on_the_server(
    viewer: TestClient, session_factory: sessionmaker[Session]
) -> None:
    apply(session_factory, scenario.SPEC)
    since = AT - timedelta(days=4)
    with session_factory() as session:
        # Five-minute history over four days: 1,152 stored evaluations.
        backfill.backfill(
            session,
            key="shop/availability",
            now=AT,
            interval=timedelta(minutes=5),
            start=since,
        )
        stored = slo_service.history(session, key="shop/availability", since=since, until=AT)
        declaration.declare(
            session,
            title="Checkout errors",
            severity="SEV2",
            actor="ann",
            now=AT - timedelta(hours=1),
            slo_keys=["shop/availability"],
        )
        session.commit()
    assert len(stored) > 1000
    window = {"from": since.isoformat(), "to": AT.isoformat()}
    full = viewer.get("/slos/shop/availability/chart.json", params=window)
    assert full.status_code == 200
    document = full.json()
    assert 0 < len(document["times"]) <= 1000
    assert len(document["series"]["error_budget_remaining"]) == len(document["times"])
    last = [p for p in stored if p.at < AT][-1]
    assert document["series"]["error_budget_remaining"][-1] == pytest.approx(
        last.error_budget_remaining
    )
    assert {"1h", "5m", "6h", "30m"} <= set(document["series"]["burn_rates"])
    assert ("page", 14.4) in {(a["severity"], a["factor"]) for a in document["alerts"]}
    # What happened is marked on the same time axis (Unix seconds).
    declared = [m for m in document["markers"] if m["kind"] == "incident_declared"]
    assert [m["at"] for m in declared] == [int((AT - timedelta(hours=1)).timestamp())]
    assert "Checkout errors" in declared[0]["label"]
    few = viewer.get("/slos/shop/availability/chart.json", params={**window, "points": "50"})
    assert 0 < len(few.json()["times"]) <= 50
    most = viewer.get(
        "/slos/shop/availability/chart.json", params={**window, "points": str(MAX_POINTS)}
    )
    assert len(most.json()["times"]) <= MAX_POINTS
    too_many = viewer.get(
        "/slos/shop/availability/chart.json", params={"points": str(MAX_POINTS + 1)}
    )
    assert too_many.status_code == 422
    assert too_many.json()["error"] == "InvalidInput" and "points" in too_many.json()["detail"]
    naive = viewer.get("/slos/shop/availability/chart.json", params={"from": "2026-11-20T00:00"})
    assert naive.status_code == 422 and "from" in naive.json()["detail"]
    missing = viewer.get("/slos/shop/nothing/chart.json")
    assert missing.status_code == 404 and missing.json()["error"] == "SLONotFound"


@pytest.mark.parametrize(
    "key",
    [
        "shop/availability",  # evaluated by the gate: its explanation reuses that evaluation
        "shop/forever",  # evaluated by the gate, failing: the failure is the explanation's
        "shop/broken",  # no longer parses: the gate does not evaluate it, explain alone
    ],
)
def test_the_detail_context_explains_as_slo_explain_does(
    session_factory: sessionmaker[Session], key: str
) -> None:
    apply(session_factory, scenario.SPEC + "---\n" + scenario.POLICY)
    with session_factory() as session:
        unevaluable.insert_both(session)
        context = detail_context(session, key=key, now=AT)
        decision = gate.check(session, service="shop", change_type=None, now=AT)
        try:
            evaluation = slo_service.evaluate_now(session, key=key, at=AT)
        except WatchkeeperError as exc:
            expected, problem = None, exc.detail
        else:
            expected, problem = explain(evaluation.slo, evaluation.status), ""
    assert (context["explanation"], context["explain_problem"]) == (expected, problem)
    assert (context["gate"], context["gate_problem"]) == (decision, "")
    assert (expected is None) is (key != "shop/availability")
