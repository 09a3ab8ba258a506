"""Read queries of alerting for the incident domain and the charts: alert-group logs, change
events and groups in a time range, as columns or plain rows (alerting/incident_feed.py is
their one caller)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from watchkeeper.alerting.models import Alert, AlertGroup, AlertGroupLog, ChangeEvent


def first_alert_starts(session: Session, group_id: int) -> datetime | None:
    """When the earliest alert of a group started, by its source."""
    return session.scalar(select(func.min(Alert.starts_at)).where(Alert.group_id == group_id))


def logs_of(session: Session, group_ids: Sequence[int]) -> list[AlertGroupLog]:
    """The log entries of several groups, oldest first."""
    if not group_ids:
        return []
    query = (
        select(AlertGroupLog)
        .where(AlertGroupLog.group_id.in_(group_ids))
        .order_by(AlertGroupLog.at, AlertGroupLog.id)
    )
    return list(session.scalars(query))


def changes_between(
    session: Session, *, service: str, since: datetime, until: datetime
) -> list[ChangeEvent]:
    """Change events of a service in ``[since, until]``, oldest first."""
    query = (
        select(ChangeEvent)
        .where(ChangeEvent.service == service, ChangeEvent.at >= since, ChangeEvent.at <= until)
        .order_by(ChangeEvent.at, ChangeEvent.id)
    )
    return list(session.scalars(query))


def groups_created_between(session: Session, since: datetime, until: datetime) -> list[AlertGroup]:
    """Groups opened in ``[since, until)``."""
    query = select(AlertGroup).where(AlertGroup.created_at >= since, AlertGroup.created_at < until)
    return list(session.scalars(query))


def groups_opened_or_resolved(
    session: Session,
    *,
    slo_key: str,
    service: str,
    since: datetime,
    until: datetime,
    limit: int,
) -> list[tuple[int, str, datetime, datetime | None]]:
    """(id, title, created_at, resolved_at) of the groups of an SLO or its service opened or
    resolved in ``[since, until)``, oldest first: columns only, no ORM objects (a chart
    marks hundreds of them, and a group's JSON columns are not needed)."""
    query = (
        select(AlertGroup.id, AlertGroup.title, AlertGroup.created_at, AlertGroup.resolved_at)
        .where(
            (AlertGroup.slo_key == slo_key) | (AlertGroup.service == service),
            ((AlertGroup.created_at >= since) & (AlertGroup.created_at < until))
            | ((AlertGroup.resolved_at >= since) & (AlertGroup.resolved_at < until)),
        )
        .order_by(AlertGroup.created_at, AlertGroup.id)
        .limit(limit)
    )
    return [(row[0], row[1], row[2], row[3]) for row in session.execute(query)]
