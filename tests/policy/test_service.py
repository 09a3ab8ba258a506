"""Storing error-budget policies."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from tests.policy import traffic
from tests.slo.scenario import AT
from watchkeeper.core.policy import ErrorBudgetPolicy
from watchkeeper.policy import repository, service
from watchkeeper.policy.exceptions import PolicyNotFound
from watchkeeper.specs import load_text


def policy(text: str = traffic.POLICY) -> ErrorBudgetPolicy:
    [parsed] = load_text(text).policies
    return parsed


def test_upsert_creates_updates_and_leaves_unchanged(session: Session) -> None:
    assert service.upsert(session, policy=policy(), now=AT) == "created"
    assert service.upsert(session, policy=policy(), now=AT + timedelta(hours=1)) == "unchanged"
    record = repository.get_by_name(session, "api-policy")
    assert record is not None and record.updated_at == AT
    stricter = traffic.POLICY.replace("within: 1d", "within: 2d")
    later = AT + timedelta(hours=2)
    assert service.upsert(session, policy=policy(stricter), now=later) == "updated"
    assert (record.created_at, record.updated_at) == (AT, later)
    [stored] = service.list_policies(session)
    assert stored == policy(stricter)
    assert stored.rules[1].condition.within == timedelta(days=2)


def test_list_is_ordered_by_name_and_delete_removes(session: Session) -> None:
    for name in ("zeta", "alpha"):
        service.upsert(session, policy=policy(traffic.POLICY.replace("api-policy", name)), now=AT)
    assert [p.name for p in service.list_policies(session)] == ["alpha", "zeta"]
    service.delete(session, name="alpha")
    assert [p.name for p in service.list_policies(session)] == ["zeta"]
    with pytest.raises(PolicyNotFound, match="'alpha'") as caught:
        service.delete(session, name="alpha")
    assert caught.value.status_code == 404
