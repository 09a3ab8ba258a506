"""SQL of error-budget policies."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from watchkeeper.policy.models import PolicyRecord


def list_all(session: Session) -> list[PolicyRecord]:
    """Every applied policy, by name."""
    return list(session.scalars(select(PolicyRecord).order_by(PolicyRecord.name)))


def get_by_name(session: Session, name: str) -> PolicyRecord | None:
    """The policy with this name."""
    return session.scalars(select(PolicyRecord).where(PolicyRecord.name == name)).first()


def add(session: Session, record: PolicyRecord) -> PolicyRecord:
    """Insert a policy row."""
    session.add(record)
    session.flush()
    return record


def remove(session: Session, record: PolicyRecord) -> None:
    """Delete a policy row."""
    session.delete(record)
    session.flush()
