"""SQL of the SLO domain."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, delete, func, insert, select
from sqlalchemy.orm import Session

from watchkeeper.slo.models import (
    AlertState,
    AlertTransition,
    SLOHistory,
    SLORecord,
    SLOStatusRecord,
)


def list_all(session: Session, *, service: str | None = None) -> list[SLORecord]:
    """Applied SLOs ordered by key, optionally of one service."""
    query = select(SLORecord).order_by(SLORecord.key)
    if service is not None:
        query = query.where(SLORecord.service == service)
    return list(session.scalars(query))


def get_by_key(session: Session, key: str) -> SLORecord | None:
    """The SLO with ``service/name`` key."""
    return session.scalars(select(SLORecord).where(SLORecord.key == key)).first()


def get_by_keys(session: Session, keys: Sequence[str]) -> dict[str, SLORecord]:
    """SLOs by key for the given keys."""
    if not keys:
        return {}
    rows = session.scalars(select(SLORecord).where(SLORecord.key.in_(keys)))
    return {row.key: row for row in rows}


def add(session: Session, record: SLORecord) -> SLORecord:
    """Insert an SLO row."""
    session.add(record)
    session.flush()
    return record


def remove(session: Session, record: SLORecord) -> None:
    """Delete an SLO and, by cascade, its status, history and alert states."""
    for table in (SLOStatusRecord, SLOHistory, AlertState, AlertTransition):
        session.execute(delete(table).where(table.slo_id == record.id))
    session.delete(record)
    session.flush()


def version(session: Session) -> tuple[int, datetime | None, int]:
    """(count, newest update, max id) of the SLO table: changes when any SLO changes."""
    row = session.execute(
        select(func.count(SLORecord.id), func.max(SLORecord.updated_at), func.max(SLORecord.id))
    ).one()
    newest = row[1]
    if isinstance(newest, str):  # aggregate results bypass the column type on SQLite
        newest = datetime.fromisoformat(newest)
    return int(row[0]), newest, int(row[2] or 0)


def statuses(session: Session, slo_ids: Sequence[int]) -> dict[int, SLOStatusRecord]:
    """Latest stored status per SLO id."""
    if not slo_ids:
        return {}
    rows = session.scalars(select(SLOStatusRecord).where(SLOStatusRecord.slo_id.in_(slo_ids)))
    return {row.slo_id: row for row in rows}


def all_statuses(session: Session) -> dict[int, SLOStatusRecord]:
    """Latest stored status of every SLO."""
    return {row.slo_id: row for row in session.scalars(select(SLOStatusRecord))}


def alert_states(session: Session, slo_ids: Sequence[int] | None = None) -> list[AlertState]:
    """Alert states of the given SLOs (all when None)."""
    query = select(AlertState).order_by(AlertState.slo_id, AlertState.id)
    if slo_ids is not None:
        query = query.where(AlertState.slo_id.in_(slo_ids))
    return list(session.scalars(query))


def history(
    session: Session, slo_id: int, *, since: datetime, until: datetime, limit: int
) -> list[SLOHistory]:
    """Stored evaluations of one SLO in ``[since, until]``, oldest first."""
    query = (
        select(SLOHistory)
        .where(SLOHistory.slo_id == slo_id, SLOHistory.at >= since, SLOHistory.at <= until)
        .order_by(SLOHistory.at)
        .limit(limit)
    )
    return list(session.scalars(query))


def transitions(session: Session, slo_id: int, *, limit: int) -> list[AlertTransition]:
    """Latest alert transitions of one SLO, newest first."""
    query = (
        select(AlertTransition)
        .where(AlertTransition.slo_id == slo_id)
        .order_by(AlertTransition.at.desc(), AlertTransition.id.desc())
        .limit(limit)
    )
    return list(session.scalars(query))


def status_ids(session: Session) -> list[int]:
    """SLO ids that have a stored status row."""
    return list(session.scalars(select(SLOStatusRecord.slo_id)))


def alert_state_rows(session: Session) -> list[tuple[int, int, str, int, int, bool, float]]:
    """(id, slo_id, severity, long_seconds, short_seconds, firing, factor) of every alert."""
    query = select(
        AlertState.id,
        AlertState.slo_id,
        AlertState.severity,
        AlertState.long_seconds,
        AlertState.short_seconds,
        AlertState.firing,
        AlertState.factor,
    )
    return [tuple(row) for row in session.execute(query).all()]  # type: ignore[misc]


def delete_alert_states(session: Session, ids: Sequence[int]) -> None:
    """Delete alert-state rows by id."""
    if ids:
        session.execute(delete(AlertState).where(AlertState.id.in_(ids)))


def latest_evaluation(session: Session) -> datetime | None:
    """The newest evaluated_at over all stored statuses (who evaluated last, in effect)."""
    value = session.scalar(select(func.max(SLOStatusRecord.evaluated_at)))
    if isinstance(value, str):  # aggregate results bypass the column type on SQLite
        value = datetime.fromisoformat(value)
    if value is not None and value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value


# Bulk writes of the evaluation tick: executemany on the tables, bypassing the ORM, because a
# tick writes one status row per SLO (10,000 of them in a large installation).
_STATUS = cast(Table, SLOStatusRecord.__table__)
_HISTORY = cast(Table, SLOHistory.__table__)
_ALERT_STATE = cast(Table, AlertState.__table__)
_TRANSITION = cast(Table, AlertTransition.__table__)
_STATUS_UPDATE = (
    _STATUS.update()
    .where(_STATUS.c.slo_id == bindparam("b_slo_id"))
    .values(
        {
            c: bindparam(c)
            for c in (
                "evaluated_at",
                "good",
                "total",
                "sli",
                "budget_remaining",
                "burn_rates",
                "window_slis",
                "exhaustion_at",
            )
        }
    )
)
_ALERT_FACTOR_UPDATE = (
    _ALERT_STATE.update()
    .where(_ALERT_STATE.c.id == bindparam("b_id"))
    .values(factor=bindparam("factor"))
)
_ALERT_STATE_UPDATE = (
    _ALERT_STATE.update()
    .where(_ALERT_STATE.c.id == bindparam("b_id"))
    .values(
        {
            c: bindparam(c)
            for c in ("firing", "since", "factor", "long_burn_rate", "short_burn_rate")
        }
    )
)


def update_statuses(session: Session, rows: Sequence[Mapping[str, Any]]) -> None:
    """Overwrite status rows; each row names its SLO as ``b_slo_id``."""
    session.execute(_STATUS_UPDATE, list(rows))


def insert_statuses(session: Session, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert status rows."""
    session.execute(insert(_STATUS), list(rows))


def insert_history(session: Session, rows: Sequence[Mapping[str, Any]]) -> None:
    """Append evaluations to the history."""
    session.execute(insert(_HISTORY), list(rows))


def insert_alert_states(session: Session, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert alert-state rows."""
    session.execute(insert(_ALERT_STATE), list(rows))


def update_alert_factors(session: Session, rows: Sequence[Mapping[str, Any]]) -> None:
    """Set the factor of alert states; each row names its state as ``b_id``."""
    session.execute(_ALERT_FACTOR_UPDATE, list(rows))


def update_alert_states(session: Session, rows: Sequence[Mapping[str, Any]]) -> None:
    """Record new firing states; each row names its state as ``b_id``."""
    session.execute(_ALERT_STATE_UPDATE, list(rows))


def insert_transitions(session: Session, rows: Sequence[Mapping[str, Any]]) -> None:
    """Append alert transitions."""
    session.execute(insert(_TRANSITION), list(rows))
