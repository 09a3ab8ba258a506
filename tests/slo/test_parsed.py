"""Parsed SLOs are cached per stored version: ticks and reads do not re-run the spec parser."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tests.slo import scenario, unevaluable
from tests.slo.scenario import AT
from tests.web.signing import signed_in
from watchkeeper.core.slo import SLO
from watchkeeper.flows import specs as spec_flows
from watchkeeper.slo import parsed, service
from watchkeeper.slo.evaluator import Evaluator
from watchkeeper.slo.exceptions import EvaluationFailed
from watchkeeper.slo.models import SLORecord
from watchkeeper.slo.parsed import ParsedSLOCache
from watchkeeper.specs import load_text

MINUTE = timedelta(minutes=1)


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The names of the SLOs the spec parser is run for, from a cold cache."""
    seen: list[str] = []
    real = parsed.slo_from_dict

    def counting(data: Any) -> SLO:
        seen.append(str(data.get("name")))
        return real(data)

    monkeypatch.setattr(parsed, "slo_from_dict", counting)
    parsed.PARSED.clear()
    yield seen
    parsed.PARSED.clear()


def test_a_record_is_parsed_once_per_stored_version(
    session: Session, shop_events: None, parses: list[str]
) -> None:
    record = service.get(session, key="shop/availability")
    first = service.to_core(record)
    assert service.to_core(record) is first
    assert parses == ["availability"]
    # Re-applied with another objective: a new version, parsed again.
    changed = scenario.SPEC.replace("objective: 0.99\n", "objective: 0.995\n")
    spec_flows.apply(session, spec_set=load_text(changed), now=AT + MINUTE)
    assert service.to_core(record).objective == 0.995
    assert parses == ["availability", "availability"]
    # The spec rewritten within the same instant is not served stale either.
    record.spec = {**record.spec, "objective": 0.98}
    assert service.to_core(record).objective == 0.98
    assert parses == ["availability"] * 3


def test_ticks_and_reads_do_not_reparse_unchanged_slos(
    session: Session, shop_events: None, parses: list[str]
) -> None:
    evaluator = Evaluator()
    evaluator.tick(session, now=AT)
    records = service.list_slos(session)
    service.stored_statuses(session, records=records)
    assert sorted(parses) == ["availability", "latency"]
    for minutes in range(1, 4):
        evaluator.tick(session, now=AT + minutes * MINUTE)
        service.stored_statuses(session, records=service.list_slos(session))
        service.evaluate_now(session, key="shop/latency", at=AT)
    # A new SLO reloads the evaluator: only the new one is parsed.
    spec_flows.apply(session, spec_set=load_text(TIMESLICES), now=AT + 5 * MINUTE)
    report = evaluator.tick(session, now=AT + 5 * MINUTE)
    assert report.reloaded
    assert sorted(parses) == ["availability", "latency", "slices"]


TIMESLICES = """\
apiVersion: watchkeeper/v1
kind: SLO
service: shop
name: slices
objective: 0.99
window: 7d
sli: {name: shop-requests, kind: timeslices, slice: 1m, slice_target: 0.9}
"""


def test_the_api_listing_parses_nothing_on_repeated_requests(
    client: TestClient,
    viewer_headers: dict[str, str],
    session_factory: sessionmaker[Session],
    parses: list[str],
) -> None:
    with session_factory() as session:
        spec_flows.apply(session, spec_set=load_text(scenario.SPEC), now=AT)
        Evaluator().tick(session, now=AT)
        session.commit()
    assert sorted(parses) == ["availability", "latency"]  # by the tick
    signed_in(client, session_factory, role="viewer")
    for _ in range(3):
        assert client.get("/api/v1/slos", headers=viewer_headers).status_code == 200
        assert client.get("/").status_code == 200
        assert client.get("/metrics").status_code == 200
    assert sorted(parses) == ["availability", "latency"]  # the cache served every request


def test_a_spec_that_does_not_parse_is_cached_as_its_error(
    session: Session, parses: list[str]
) -> None:
    unevaluable.insert(session, "broken", unevaluable.spec("broken", objective=2))
    record = service.get(session, key=unevaluable.BROKEN)
    for _ in range(3):
        with pytest.raises(EvaluationFailed, match="stored spec is invalid: objective"):
            service.to_core(record)
    assert parses == ["broken"]


def record(record_id: int, name: str) -> SLORecord:
    return SLORecord(
        id=record_id,
        key=f"shop/{name}",
        service="shop",
        name=name,
        sli_name="shop-requests",
        source_format="native",
        spec=unevaluable.spec(name),
        created_at=AT,
        updated_at=AT,
    )


def test_the_cache_is_bounded_and_keeps_the_most_recent(parses: list[str]) -> None:
    cache = ParsedSLOCache(max_entries=2)
    a, b, c = record(1, "a"), record(2, "b"), record(3, "c")
    cache.get(a)
    cache.get(b)
    cache.get(a)  # a is now the most recent
    assert parses == ["a", "b"]
    cache.get(c)  # evicts b, the least recently used
    assert len(cache) == 2
    kept = cache.get(a)
    assert cache.get(a) is kept and kept.name == "a"
    assert parses == ["a", "b", "c"]  # a was kept: not parsed again
    cache.get(b)  # b was evicted: parsed again, evicting c
    assert parses == ["a", "b", "c", "b"]
    cache.get(a)
    assert len(cache) == 2 and parses[-1] == "b"
    cache.get(c)
    assert parses[-1] == "c"  # c was the one evicted


def test_the_cache_serves_threads_at_once() -> None:
    cache = ParsedSLOCache(max_entries=50)
    records = [record(i, f"slo-{i}") for i in range(100)]
    failures: list[BaseException] = []

    def read() -> None:
        try:
            for _ in range(5):
                for item in records:
                    assert cache.get(item).name == item.name
        except BaseException as exc:  # collected and re-raised by the test below
            failures.append(exc)

    threads = [threading.Thread(target=read) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert len(cache) == 50
