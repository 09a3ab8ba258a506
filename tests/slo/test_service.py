"""SLO use cases on a migrated database (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.slo import scenario
from tests.slo.scenario import AT
from watchkeeper.events import repository as events_repository
from watchkeeper.events import service as events_service
from watchkeeper.events.models import SLIRecord
from watchkeeper.flows import specs as spec_flows
from watchkeeper.flows.specs import ApplyResult
from watchkeeper.policy import service as policy_service
from watchkeeper.slo import service
from watchkeeper.slo.evaluator import Evaluator
from watchkeeper.slo.exceptions import ServiceNotFound, SLONotFound
from watchkeeper.slo.models import AlertState, AlertTransition, SLOHistory, SLOStatusRecord
from watchkeeper.sources.exceptions import SourceNotConfigured
from watchkeeper.specs import load_paths, load_text, slo_to_dict

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
LATER = AT + timedelta(minutes=30)


def rows_of(session: Session, model: type, slo_id: int) -> int:
    query = select(func.count()).select_from(model).where(model.slo_id == slo_id)
    return int(session.scalar(query) or 0)


def test_apply_creates_slos_registers_slis_and_policies(
    session: Session, shop: ApplyResult
) -> None:
    assert shop.created == ["shop/availability", "shop/latency"]
    assert (shop.updated, shop.unchanged) == ([], [])
    assert shop.policies_created == ["shop-policy"]
    records = service.list_slos(session)
    assert [r.key for r in records] == ["shop/availability", "shop/latency"]
    availability = records[0]
    assert (availability.service, availability.name) == ("shop", "availability")
    assert (availability.sli_name, availability.source_format) == ("shop-requests", "native")
    assert availability.spec == slo_to_dict(load_text(scenario.SPEC).slos[0])
    assert availability.created_at == availability.updated_at == AT.replace(hour=11)
    # The event store now accepts events for both SLIs, the threshold one as observations.
    slis = events_repository.slis_by_names(session, ["shop-requests", "shop-latency[lte 0.3]"])
    slis["shop-latency"] = slis.pop("shop-latency[lte 0.3]")
    assert slis["shop-requests"].kind == "counts"
    assert (slis["shop-latency"].kind, slis["shop-latency"].threshold) == ("observations", 0.3)
    assert [p.name for p in policy_service.list_policies(session)] == ["shop-policy"]


CHANGED_OBJECTIVE = scenario.SPEC.replace("objective: 0.99\n", "objective: 0.995\n")
CHANGED_THRESHOLD = scenario.SPEC.replace("threshold: 0.3,", "threshold: 0.25,")
CHANGED_POLICY = scenario.POLICY.replace("exempt: [fix]", "exempt: [fix, rollback]")


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        (
            "the same specs change nothing",
            scenario.SPEC + "---\n" + scenario.POLICY,
            {
                "unchanged": ["shop/availability", "shop/latency"],
                "policies_unchanged": ["shop-policy"],
            },
        ),
        (
            "a new objective updates that SLO only",
            CHANGED_OBJECTIVE,
            {"updated": ["shop/availability"], "unchanged": ["shop/latency"]},
        ),
        (
            "a new threshold updates the SLO",
            CHANGED_THRESHOLD,
            {"updated": ["shop/latency"], "unchanged": ["shop/availability"]},
        ),
        (
            "a changed policy is updated",
            CHANGED_POLICY,
            {"policies_updated": ["shop-policy"]},
        ),
    ],
)
def test_apply_again(
    session: Session, shop: ApplyResult, name: str, text: str, expected: dict[str, list[str]]
) -> None:
    result = spec_flows.apply(session, spec_set=load_text(text), now=LATER)
    empty = {field: [] for field in ApplyResult().__dict__}
    assert result.__dict__ == {**empty, **expected}, name
    for record in service.list_slos(session):
        assert record.created_at == AT.replace(hour=11)
        updated = record.key in expected.get("updated", [])
        assert record.updated_at == (LATER if updated else AT.replace(hour=11)), record.key


def test_reapplying_stores_the_new_spec_and_sli_definition(
    session: Session, shop: ApplyResult
) -> None:
    spec_flows.apply(
        session, spec_set=load_text(CHANGED_OBJECTIVE + "---\n" + CHANGED_POLICY), now=LATER
    )
    assert service.to_core(service.get(session, key="shop/availability")).objective == 0.995
    [policy] = policy_service.list_policies(session)
    assert policy.rules[0].exempt_change_types == ("fix", "rollback")
    spec_flows.apply(session, spec_set=load_text(CHANGED_THRESHOLD), now=LATER)
    latency = events_repository.slis_by_names(session, ["shop-latency[lte 0.25]"])
    assert latency["shop-latency[lte 0.25]"].threshold == 0.25


def test_source_formats_and_prometheus_slis(session: Session) -> None:
    spec_set = load_paths([EXAMPLES / "sloth" / "payments-raw.yaml", EXAMPLES / "openslo"])
    result = spec_flows.apply(session, spec_set=spec_set, now=AT)
    assert len(result.created) == len(spec_set.slos)
    formats = {r.key: r.source_format for r in service.list_slos(session)}
    assert formats["payments-gateway/authorisations"] == "sloth"
    assert set(formats.values()) == {"sloth", "openslo"}
    # Prometheus SLIs are not event-store SLIs: nothing registered for them.
    registered = set(session.scalars(select(SLIRecord.name)))
    prometheus = {s.sli.name for s in spec_set.slos if s.sli.source.value == "prometheus"}
    assert prometheus and not prometheus & registered
    # Without a configured Prometheus source the SLO cannot be evaluated, and says why.
    with pytest.raises(SourceNotConfigured, match="WATCHKEEPER_PROMETHEUS_URL") as caught:
        service.evaluate_now(session, key="payments-gateway/authorisations", at=AT)
    assert caught.value.status_code == 409


def test_list_get_and_lookups(session: Session, shop: ApplyResult) -> None:
    spec_flows.apply(
        session, spec_set=load_text(scenario.SPEC.replace("service: shop", "service: cart")), now=AT
    )
    assert [r.key for r in service.list_slos(session)] == [
        "cart/availability",
        "cart/latency",
        "shop/availability",
        "shop/latency",
    ]
    assert [r.key for r in service.list_slos(session, service="cart")] == [
        "cart/availability",
        "cart/latency",
    ]
    assert service.get(session, key="cart/latency").service == "cart"
    assert [r.name for r in service.for_service(session, service="shop")] == [
        "availability",
        "latency",
    ]
    with pytest.raises(SLONotFound, match="'shop/missing'") as missing:
        service.get(session, key="shop/missing")
    assert missing.value.status_code == 404
    with pytest.raises(ServiceNotFound, match="'nope'") as no_service:
        service.for_service(session, service="nope")
    assert no_service.value.status_code == 404


def test_delete_removes_the_slo_with_its_status_history_and_alerts(
    session: Session, shop_events: None
) -> None:
    evaluator = Evaluator()
    report = evaluator.tick(session, now=AT)
    # Availability's two page alerts and all four of latency's (burn 5 everywhere) fire.
    assert len(report.transitions) == 6
    availability = service.get(session, key="shop/availability")
    latency = service.get(session, key="shop/latency")
    models = (SLOStatusRecord, SLOHistory, AlertState, AlertTransition)
    assert all(rows_of(session, model, availability.id) > 0 for model in models)
    service.delete(session, key="shop/availability")
    assert [r.key for r in service.list_slos(session)] == ["shop/latency"]
    assert all(rows_of(session, model, availability.id) == 0 for model in models)
    assert rows_of(session, SLOStatusRecord, latency.id) == 1
    with pytest.raises(SLONotFound):
        service.delete(session, key="shop/availability")


def test_evaluate_now_gives_the_hand_worked_figures(session: Session, shop_events: None) -> None:
    evaluation = service.evaluate_now(session, key="shop/availability", at=AT)
    status = evaluation.status
    assert evaluation.record.key == evaluation.slo.key == "shop/availability"
    assert (status.good, status.total) == (19900.0, 20000.0)
    assert status.sli == pytest.approx(0.995)
    assert status.error_budget_remaining == pytest.approx(0.5)
    assert [status.burn_rates[w] for w in sorted(status.burn_rates)] == pytest.approx(
        [100, 20, 20, 12.5, 8.75, 0.875, 0.35]
    )
    assert [a.firing for a in status.alerts] == [True, True, False, False]
    assert status.exhaustion_at is not None
    assert abs(status.exhaustion_at - (AT + timedelta(hours=18))) < timedelta(milliseconds=1)
    latency = service.evaluate_now(session, key="shop/latency", at=AT).status
    assert (latency.good, latency.total, latency.sli) == (2.0, 4.0, 0.5)
    # An hour later the 5m and 30m windows hold no events: no burn rate (None, not 0). The
    # 1h window holds only the row at AT (1000 bad of 1000); the 30d window has lost the row
    # at AT - 30d (9935 / 10000) and gained that one: 9965 / 11000.
    later = service.evaluate_now(session, key="shop/availability", at=AT + timedelta(hours=1))
    assert later.status.burn_rates[timedelta(minutes=5)] is None
    assert later.status.burn_rates[timedelta(minutes=30)] is None
    assert later.status.burn_rates[timedelta(hours=1)] == pytest.approx(100.0)
    assert (later.status.good, later.status.total) == (9965.0, 11000.0)


def test_stored_status_is_what_the_worker_stored(session: Session, shop_events: None) -> None:
    availability = service.get(session, key="shop/availability")
    latency = service.get(session, key="shop/latency")
    assert service.stored_status(session, record=availability) is None
    assert service.stored_statuses(session, records=[availability, latency]) == {}
    Evaluator().tick(session, now=AT)
    stored = service.stored_status(session, record=availability)
    assert stored is not None
    assert (stored.key, stored.window, stored.sli_name) == (
        "shop/availability",
        "30d",
        "shop-requests",
    )
    assert stored.at == AT
    assert stored.window_start == AT - timedelta(days=30)
    assert (stored.good, stored.total) == (19900.0, 20000.0)
    assert stored.sli == pytest.approx(0.995)
    assert stored.error_budget_remaining == pytest.approx(0.5)
    assert stored.burn_rates == pytest.approx(scenario.AVAILABILITY_BURN_RATES)
    assert [(a.severity, a.long, a.short, a.firing) for a in stored.alerts] == [
        (severity, long, short, firing)
        for severity, long, short, _, firing in scenario.AVAILABILITY_ALERTS
    ]
    page = stored.alerts[0]
    assert page.factor == pytest.approx(14.4)
    assert (page.long_burn_rate, page.short_burn_rate) == pytest.approx((20.0, 100.0))
    assert page.since == AT
    assert stored.exhaustion_at is not None
    assert abs(stored.exhaustion_at - (AT + timedelta(hours=18))) < timedelta(milliseconds=1)
    both = service.stored_statuses(session, records=[availability, latency])
    assert set(both) == {availability.id, latency.id}
    assert both[latency.id].sli == 0.5
    assert both[availability.id] == stored


def test_history_between_two_instants(session: Session, shop_events: None) -> None:
    evaluator = Evaluator(history_interval=timedelta(minutes=5))
    for minutes in range(0, 11):
        evaluator.tick(session, now=AT + timedelta(minutes=minutes))
    points = service.history(
        session,
        key="shop/availability",
        since=AT - timedelta(hours=1),
        until=AT + timedelta(hours=1),
    )
    # Kept every 5 minutes: at AT, AT + 5m and AT + 10m, oldest first.
    assert [p.at for p in points] == [AT + timedelta(minutes=m) for m in (0, 5, 10)]
    assert points[0].sli == pytest.approx(0.995)
    assert points[0].burn_rates["1h"] == pytest.approx(20.0)
    # After AT the row at AT (0 / 1000) is inside the window and the one at AT - 30d
    # (9935 / 10000) has left it: 19900 - 9935 good of 20000 - 10000 + 1000.
    assert (points[1].good, points[1].total) == (9965.0, 11000.0)
    bounded = service.history(
        session,
        key="shop/availability",
        since=AT + timedelta(minutes=5),
        until=AT + timedelta(minutes=10),
    )
    assert [p.at for p in bounded] == [AT + timedelta(minutes=5), AT + timedelta(minutes=10)]
    limited = service.history(
        session, key="shop/availability", since=AT, until=AT + timedelta(hours=1), limit=1
    )
    assert [p.at for p in limited] == [AT]
    with pytest.raises(SLONotFound):
        service.history(session, key="shop/nope", since=AT, until=LATER)


def slo_doc(service_name: str, name: str, sli: str) -> str:
    return (
        "apiVersion: watchkeeper/v1\nkind: SLO\n"
        f"service: {service_name}\nname: {name}\nobjective: 0.99\nwindow: 30d\nsli: {sli}\n"
    )


RATIO = "{name: shared}"
THRESHOLD = "{name: shared, kind: threshold, threshold: 0.3}"
SLICES = "{name: shared, kind: timeslices, slice: 1m, slice_target: 0.9}"


@pytest.mark.parametrize(
    ("name", "first", "second", "expected"),
    [
        # Each SLO reads its own kind of rows: counts rows for ratio and timeslices, value
        # rows (judged against its own threshold) for threshold SLOs.
        (
            "ratio and threshold in one spec set",
            None,
            slo_doc("a", "x", RATIO) + "---\n" + slo_doc("b", "y", THRESHOLD),
            {"a/x": (9, 10), "b/y": (1, 2)},
        ),
        (
            "a threshold applied beside an earlier ratio",
            slo_doc("a", "x", RATIO),
            slo_doc("b", "y", THRESHOLD),
            {"a/x": (9, 10), "b/y": (1, 2)},
        ),
        (
            "two thresholds",
            slo_doc("a", "x", THRESHOLD),
            slo_doc("b", "y", THRESHOLD.replace("0.3", "0.5")),
            {"a/x": (1, 2), "b/y": (2, 2)},  # 0.1 and 0.5 against 0.3, then against 0.5
        ),
        (
            "ratio and timeslices read the same counts",
            slo_doc("a", "x", RATIO),
            slo_doc("b", "y", SLICES),
            {"a/x": (9, 10), "b/y": (1, 1)},  # one slice, 9/10 >= 0.9: good
        ),
        (
            "an SLO replacing its own definition",
            slo_doc("a", "x", RATIO),
            slo_doc("a", "x", THRESHOLD),
            {"a/x": (1, 2)},
        ),
    ],
)
def test_slos_sharing_an_sli_name_each_read_their_rows(
    session: Session,
    name: str,
    first: str | None,
    second: str,
    expected: dict[str, tuple[int, int]],
) -> None:
    if first is not None:
        spec_flows.apply(session, spec_set=load_text(first), now=AT)
    spec_flows.apply(session, spec_set=load_text(second), now=LATER)
    minute = (int(AT.timestamp()) // 60 - 10) * 60
    applied = (first or "") + second
    rows: list[dict[str, object]] = []
    if "kind: threshold" in applied:  # some SLO reads value rows of "shared"
        rows += [
            {"time": minute, "sli": "shared", "value": 0.1},
            {"time": minute + 1, "sli": "shared", "value": 0.5},
        ]
    if RATIO in applied or SLICES in applied:  # some SLO reads counts rows of "shared"
        rows.append({"time": minute, "sli": "shared", "good": 9, "total": 10})
    events_service.ingest(session, rows, now=AT)
    for key, (good, total) in expected.items():
        status = service.evaluate_now(session, key=key, at=AT).status
        assert (status.good, status.total) == (good, total), (name, key)


def test_an_slo_naming_a_missing_policy_is_refused(session: Session) -> None:
    from watchkeeper.slo.exceptions import UnknownPolicy

    doc = slo_doc("a", "x", RATIO).replace("window: 30d", "window: 30d\npolicy: a-polcy")
    with pytest.raises(UnknownPolicy, match="'a-polcy' \\(named by a/x\\)"):
        spec_flows.apply(session, spec_set=load_text(doc), now=AT)
    assert service.list_slos(session) == []
