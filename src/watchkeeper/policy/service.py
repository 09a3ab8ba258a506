"""Error-budget policy use cases: storing policies."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from sqlalchemy.orm import Session

from watchkeeper.core.policy import ErrorBudgetPolicy
from watchkeeper.policy import repository
from watchkeeper.policy.exceptions import PolicyNotFound
from watchkeeper.policy.models import PolicyRecord
from watchkeeper.specs.native import policy_from_dict, policy_to_dict


def upsert(
    session: Session, *, policy: ErrorBudgetPolicy, now: datetime
) -> Literal["created", "updated", "unchanged"]:
    """Create or replace a policy by name."""
    spec = policy_to_dict(policy)
    record = repository.get_by_name(session, policy.name)
    if record is None:
        repository.add(
            session, PolicyRecord(name=policy.name, spec=spec, created_at=now, updated_at=now)
        )
        return "created"
    if record.spec == spec:
        return "unchanged"
    record.spec = spec
    record.updated_at = now
    session.flush()
    return "updated"


def list_policies(session: Session) -> list[ErrorBudgetPolicy]:
    """Every applied policy as a core object."""
    return [policy_from_dict(record.spec) for record in repository.list_all(session)]


def delete(session: Session, *, name: str) -> None:
    """Remove a policy."""
    record = repository.get_by_name(session, name)
    if record is None:
        raise PolicyNotFound(f"no error-budget policy {name!r} has been applied")
    repository.remove(session, record)
