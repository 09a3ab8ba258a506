"""SQL of the SLO domain: lookups and the version stamp the evaluator reloads on."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session

from tests.slo import scenario
from tests.slo.scenario import AT
from watchkeeper.db import UTCDateTime
from watchkeeper.flows import specs as spec_flows
from watchkeeper.flows.specs import ApplyResult
from watchkeeper.slo import repository, service
from watchkeeper.slo.evaluator import Evaluator
from watchkeeper.specs import load_text


def test_lookups(session: Session, shop: ApplyResult) -> None:
    assert repository.get_by_keys(session, []) == {}
    found = repository.get_by_keys(session, ["shop/latency", "shop/nope"])
    assert list(found) == ["shop/latency"]
    assert repository.get_by_key(session, "shop/nope") is None
    assert repository.statuses(session, []) == {}
    assert [r.key for r in repository.list_all(session, service="nope")] == []


def test_version_changes_with_every_change_to_the_slo_set(
    session: Session, shop: ApplyResult
) -> None:
    first = repository.version(session)
    assert first[0] == 2
    assert first[1] == AT.replace(hour=11)  # read back aware on SQLite too
    assert repository.version(session) == first
    changed = scenario.SPEC.replace("objective: 0.99\n", "objective: 0.995\n")
    spec_flows.apply(session, spec_set=load_text(changed), now=AT)
    updated = repository.version(session)
    assert updated != first and updated[1] == AT
    service.delete(session, key="shop/latency")
    deleted = repository.version(session)
    assert deleted[0] == 1 and deleted != updated
    spec_flows.apply(session, spec_set=load_text(scenario.SPEC), now=AT + timedelta(minutes=1))
    assert repository.version(session)[2] > deleted[2]  # a new row id


def test_alert_state_rows_and_deletion(session: Session, shop_events: None) -> None:
    Evaluator().tick(session, now=AT)
    rows = repository.alert_state_rows(session)
    assert len(rows) == 8
    availability = service.get(session, key="shop/availability")
    page = [r for r in rows if r.slo_id == availability.id and r.long_seconds == 3600]
    assert [
        (row.severity, row.long_seconds, row.short_seconds, row.firing, row.factor) for row in page
    ] == [("page", 3600, 300, True, pytest.approx(14.4))]
    repository.delete_alert_states(session, [page[0].id])
    repository.delete_alert_states(session, [])
    assert len(repository.alert_state_rows(session)) == 7
    assert repository.status_errors(session) == {r.id: None for r in service.list_slos(session)}


@pytest.mark.parametrize("dialect", [sqlite.dialect(), postgresql.dialect()], ids=["sqlite", "pg"])
def test_bulk_timestamps_are_what_the_column_type_hands_the_driver(dialect: Dialect) -> None:
    one_by_one = UTCDateTime().dialect_impl(dialect).bind_processor(dialect)
    assert one_by_one is not None
    values: list[datetime | None] = [
        AT,
        None,
        AT + timedelta(microseconds=1),
        AT + timedelta(days=3, seconds=7, microseconds=999_999),
        datetime(9999, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC),
        datetime(1969, 7, 20, 20, 17, 40, tzinfo=UTC),
        datetime(2026, 3, 29, 2, 30, tzinfo=ZoneInfo("Europe/Berlin")),
    ]
    expected = [None if v is None else one_by_one(v) for v in values]
    assert repository.driver_timestamps(dialect, values) == expected
    assert repository.driver_timestamps(dialect, []) == []
