"""SQL for schedules and escalation policies."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from watchkeeper.oncall.exceptions import NameTaken
from watchkeeper.oncall.models import EscalationPolicyRecord, ScheduleRecord


def get_schedule(session: Session, name: str) -> ScheduleRecord | None:
    """The schedule with this name."""
    return session.scalars(select(ScheduleRecord).where(ScheduleRecord.name == name)).first()


def list_schedules(session: Session) -> list[ScheduleRecord]:
    """Every schedule, by name."""
    return list(session.scalars(select(ScheduleRecord).order_by(ScheduleRecord.name)))


def get_policy(session: Session, name: str) -> EscalationPolicyRecord | None:
    """The escalation policy with this name."""
    query = select(EscalationPolicyRecord).where(EscalationPolicyRecord.name == name)
    return session.scalars(query).first()


def policy_spec(session: Session, name: str) -> dict[str, Any] | None:
    """The stored document of the escalation policy ``name`` (one column, no ORM load)."""
    query = select(EscalationPolicyRecord.spec).where(EscalationPolicyRecord.name == name)
    return session.scalars(query).first()


def list_policies(session: Session) -> list[EscalationPolicyRecord]:
    """Every escalation policy, by name."""
    query = select(EscalationPolicyRecord).order_by(EscalationPolicyRecord.name)
    return list(session.scalars(query))


def add(session: Session, row: ScheduleRecord | EscalationPolicyRecord) -> None:
    """Insert a schedule or policy row; NameTaken if a concurrent insert took its name."""
    session.add(row)
    try:
        session.flush()
    except IntegrityError:
        # The caller looked the name up first; only a concurrent writer gets here. The
        # transaction is spoilt and is rolled back by the adapter.
        kind = "schedule" if isinstance(row, ScheduleRecord) else "escalation policy"
        raise NameTaken(f"a {kind} named {row.name!r} was just created; apply again") from None
