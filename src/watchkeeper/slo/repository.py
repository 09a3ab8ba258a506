"""SQL of the SLO domain."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple, cast

import numpy as np
from sqlalchemy import Table, bindparam, delete, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import UpdateBase

from watchkeeper.db import UTCDateTime
from watchkeeper.slo import rollup_repository
from watchkeeper.slo.models import (
    AlertState,
    AlertTransition,
    SLOHistory,
    SLOHistoryHourly,
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
    for table in (SLOStatusRecord, SLOHistory, SLOHistoryHourly, AlertState, AlertTransition):
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


def status_errors(session: Session) -> dict[int, str | None]:
    """The stored error (None when evaluated fine) of every SLO with a status row."""
    query = select(SLOStatusRecord.slo_id, SLOStatusRecord.error)
    return {row.slo_id: row.error for row in session.execute(query)}


def delete_statuses(session: Session, slo_ids: Sequence[int]) -> None:
    """Delete the status rows of the given SLOs."""
    for offset in range(0, len(slo_ids), _IDS_PER_STATEMENT):
        chunk = list(slo_ids[offset : offset + _IDS_PER_STATEMENT])
        session.execute(delete(SLOStatusRecord).where(SLOStatusRecord.slo_id.in_(chunk)))


def touch_statuses(session: Session, slo_ids: Sequence[int], *, at: datetime) -> None:
    """Set ``evaluated_at`` of the given status rows (failing SLOs whose error is unchanged)."""
    for offset in range(0, len(slo_ids), _IDS_PER_STATEMENT):
        chunk = list(slo_ids[offset : offset + _IDS_PER_STATEMENT])
        session.execute(
            update(SLOStatusRecord)
            .where(SLOStatusRecord.slo_id.in_(chunk))
            .values(evaluated_at=at)
            .execution_options(synchronize_session=False)
        )


class AlertStateRow(NamedTuple):
    """One stored alert state, as the evaluator keeps it."""

    id: int
    slo_id: int
    severity: str
    long_seconds: int
    short_seconds: int
    firing: bool
    factor: float


def alert_state_rows(session: Session, slo_ids: Sequence[int] | None = None) -> list[AlertStateRow]:
    """Every stored alert state (of ``slo_ids`` only, when given)."""
    query = select(
        AlertState.id,
        AlertState.slo_id,
        AlertState.severity,
        AlertState.long_seconds,
        AlertState.short_seconds,
        AlertState.firing,
        AlertState.factor,
    )
    if slo_ids is not None:
        rows: list[AlertStateRow] = []
        ids = list(slo_ids)
        for first in range(0, len(ids), _IDS_PER_STATEMENT):
            chunk = ids[first : first + _IDS_PER_STATEMENT]
            found = session.execute(query.where(AlertState.slo_id.in_(chunk))).all()
            rows.extend(AlertStateRow(*row) for row in found)
        return rows
    return [AlertStateRow(*row) for row in session.execute(query).all()]


def delete_alert_states(session: Session, ids: Sequence[int]) -> None:
    """Delete alert-state rows by id."""
    for offset in range(0, len(ids), _IDS_PER_STATEMENT):
        chunk = list(ids[offset : offset + _IDS_PER_STATEMENT])
        session.execute(delete(AlertState).where(AlertState.id.in_(chunk)))


def latest_evaluation(session: Session) -> datetime | None:
    """The newest evaluated_at over all stored statuses (who evaluated last, in effect)."""
    value = session.scalar(select(func.max(SLOStatusRecord.evaluated_at)))
    if isinstance(value, str):  # aggregate results bypass the column type on SQLite
        value = datetime.fromisoformat(value)
    if value is not None and value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value


# -- the evaluation tick's bulk writes ---------------------------------------------------
#
# A tick writes one status row per SLO (10,000 in a large installation) and, at the history
# cadence, as many history rows. Those go through the driver's executemany with values
# already in the driver's form (JSON encoded once, timestamps converted by the column type's
# own processor): SQLAlchemy's per-row parameter processing costs ten times the write itself
# on SQLite. The statements are still built with SQLAlchemy and compiled per dialect.

_IDS_PER_STATEMENT = 500
_STATUS = cast(Table, SLOStatusRecord.__table__)
_HISTORY = cast(Table, SLOHistory.__table__)
_ALERT_STATE = cast(Table, AlertState.__table__)
_TRANSITION = cast(Table, AlertTransition.__table__)
_FIGURE_COLUMNS = ("objective", "good", "total", "sli", "budget_remaining", "window_counts")
# Ratios as rows written before 0005 stored them: cleared when a row is rewritten.
_LEGACY_COLUMNS = ("burn_rates", "window_slis")


@dataclass(frozen=True)
class StatusBatch:
    """Status rows to write, by column (one entry per SLO).

    ``window_counts`` is JSON text already (``{"5m": [good, total], ...}``); a failing SLO
    has ``error`` set and None for every figure.
    """

    slo_id: list[int]
    objective: list[float | None]
    good: list[float | None]
    total: list[float | None]
    sli: list[float | None]
    budget_remaining: list[float | None]
    window_counts: list[str | None]
    exhaustion_at: list[datetime | None]
    error: list[str | None]

    def __len__(self) -> int:
        return len(self.slo_id)

    @classmethod
    def concat(cls, batches: Sequence[StatusBatch]) -> StatusBatch:
        """One batch holding the rows of ``batches`` in order."""
        return cls(
            *(
                [value for batch in batches for value in getattr(batch, name)]
                for name in cls.__dataclass_fields__
            )
        )


def write_statuses(session: Session, batch: StatusBatch, *, at: datetime) -> None:
    """Insert or overwrite the status row of every SLO in ``batch``, evaluated at ``at``."""
    if not len(batch):
        return
    connection = session.connection()
    to_timestamp = _timestamp_processor(connection.dialect)
    count = len(batch)
    columns: dict[str, Sequence[Any]] = {
        "slo_id": batch.slo_id,
        "evaluated_at": [to_timestamp(at)] * count,
        **{name: getattr(batch, name) for name in _FIGURE_COLUMNS},
        "exhaustion_at": driver_timestamps(connection.dialect, batch.exhaustion_at),
        "error": batch.error,
        **{name: [None] * count for name in _LEGACY_COLUMNS},
    }
    _executemany(connection, "status upsert", _status_upsert, columns)


def append_history(session: Session, batch: StatusBatch, *, at: datetime) -> None:
    """Append the figures of ``batch`` (failing SLOs have none and are skipped) to history,
    and add them to their hour of the hourly rollup."""
    keep = [i for i, error in enumerate(batch.error) if error is None]
    if not keep:
        return
    connection = session.connection()
    columns: dict[str, Sequence[Any]] = {
        "slo_id": [batch.slo_id[i] for i in keep],
        "at": [_timestamp_processor(connection.dialect)(at)] * len(keep),
        **{name: [getattr(batch, name)[i] for i in keep] for name in _FIGURE_COLUMNS},
    }
    _executemany(connection, "history insert", lambda _: insert(_HISTORY), columns)
    hours = rollup_repository.hourly_columns(
        connection.dialect,
        slo_ids=columns["slo_id"],
        at=at,
        objectives=columns["objective"],
        slis=columns["sli"],
        budgets=columns["budget_remaining"],
        window_counts=columns["window_counts"],
    )
    _executemany(connection, "hourly history upsert", rollup_repository.hourly_upsert, hours)


def append_history_at(session: Session, batch: StatusBatch, *, ats: Sequence[datetime]) -> None:
    """Append rows of ``batch`` to history, row i at ``ats[i]`` (backfill; failing rows skipped)."""
    keep = [i for i, error in enumerate(batch.error) if error is None]
    if not keep:
        return
    connection = session.connection()
    stamp = _timestamp_processor(connection.dialect)
    columns: dict[str, Sequence[Any]] = {
        "slo_id": [batch.slo_id[i] for i in keep],
        "at": [stamp(ats[i]) for i in keep],
        **{name: [getattr(batch, name)[i] for i in keep] for name in _FIGURE_COLUMNS},
    }
    _executemany(connection, "history insert", lambda _: insert(_HISTORY), columns)


def delete_history(session: Session, slo_id: int, *, since: datetime, until: datetime) -> int:
    """Remove one SLO's history rows in ``[since, until)``; how many were removed."""
    result = session.execute(
        delete(SLOHistory).where(
            SLOHistory.slo_id == slo_id, SLOHistory.at >= since, SLOHistory.at < until
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)


def _status_upsert(dialect: Dialect) -> UpdateBase:
    dialects = {"postgresql": postgresql, "sqlite": sqlite}
    if dialect.name not in dialects:  # pragma: no cover - the two supported databases
        raise NotImplementedError(f"no status upsert for the {dialect.name} dialect")
    statement: Any = dialects[dialect.name].insert(_STATUS)
    return cast(
        UpdateBase,
        statement.on_conflict_do_update(
            index_elements=[_STATUS.c.slo_id],
            set_={
                name: statement.excluded[name]
                for name in (
                    "evaluated_at",
                    *_FIGURE_COLUMNS,
                    "exhaustion_at",
                    "error",
                    *_LEGACY_COLUMNS,
                )
            },
        ),
    )


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def driver_timestamps(dialect: Dialect, values: Sequence[datetime | None]) -> list[Any]:
    """``values`` as UTCDateTime hands them to the driver (None kept).

    On SQLite that is text, and converting 10,000 timestamps one by one costs as much as
    writing the rows: they are formatted at once with NumPy instead, provided the result
    for the first one is the column type's own.
    """
    to_driver = _timestamp_processor(dialect)
    present = [(i, value) for i, value in enumerate(values) if value is not None]
    result: list[Any] = [None] * len(values)
    if dialect.name == "sqlite" and len(present) > 1:
        micros = np.array([(value - _EPOCH) // _MICROSECOND for _, value in present], np.int64)
        texts = np.datetime_as_string(micros.astype("datetime64[us]"), unit="us").tolist()
        texts = [text.replace("T", " ") for text in texts]
        if texts[0] == to_driver(present[0][1]):
            for (index, _), text in zip(present, texts, strict=True):
                result[index] = text
            return result
    for index, value in present:
        result[index] = to_driver(value)
    return result


def _timestamp_processor(dialect: Dialect) -> Callable[[datetime], Any]:
    """How UTCDateTime hands a timestamp to this dialect's driver (a string on SQLite)."""
    processor = UTCDateTime().dialect_impl(dialect).bind_processor(dialect)
    if processor is None:
        return lambda value: value
    return cast(Callable[[datetime], Any], processor)


# Compiled SQL per (dialect, driver, statement name) with the order its parameters take.
_COMPILED: dict[tuple[str, str, str], tuple[str, tuple[str, ...], bool]] = {}


def _executemany(
    connection: Connection,
    name: str,
    build: Callable[[Dialect], UpdateBase],
    columns: Mapping[str, Sequence[Any]],
) -> None:
    """Run the statement ``build`` makes once per row through the driver's executemany.

    ``columns`` maps each column to its driver-ready values, one per row.
    """
    dialect = connection.dialect
    key = (dialect.name, dialect.driver, name)
    if key not in _COMPILED:
        compiled = build(dialect).compile(dialect=dialect, column_keys=list(columns))
        positional = bool(compiled.positional)
        order = tuple(compiled.positiontup or ()) if positional else tuple(columns)
        _COMPILED[key] = (str(compiled), order, positional)
    sql, order, positional = _COMPILED[key]
    rows = zip(*(columns[name] for name in order), strict=True)
    # qmark (SQLite) takes tuples in the order the SQL names the columns; pyformat, mappings.
    if positional:
        parameters: list[Any] = list(rows)
    else:
        parameters = [dict(zip(order, row, strict=True)) for row in rows]
    if parameters:
        connection.exec_driver_sql(sql, parameters)


_ALERT_FACTOR_UPDATE = (
    _ALERT_STATE.update()
    .where(_ALERT_STATE.c.id == bindparam("b_id"))
    .values(factor=bindparam("factor"))
)
_ALERT_STATE_COLUMNS = ("firing", "since", "factor", "long_burn_rate", "short_burn_rate")
_ALERT_STATE_UPDATE = (
    _ALERT_STATE.update()
    .where(_ALERT_STATE.c.id == bindparam("b_id"))
    .values({name: bindparam(name) for name in _ALERT_STATE_COLUMNS})
)
_TRANSITION_COLUMNS = (
    "slo_id",
    "severity",
    "long_seconds",
    "short_seconds",
    "factor",
    "firing",
    "at",
    "long_burn_rate",
    "short_burn_rate",
)


def insert_alert_states(session: Session, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert alert-state rows."""
    session.execute(insert(_ALERT_STATE), list(rows))


def update_alert_factors(session: Session, rows: Sequence[Mapping[str, Any]]) -> None:
    """Set the factor of alert states; each row names its state as ``b_id``."""
    session.execute(_ALERT_FACTOR_UPDATE, list(rows))


def update_alert_states(session: Session, rows: Sequence[Mapping[str, Any]]) -> None:
    """Record new firing states; each row names its state as ``b_id``.

    Bulk like the status rows: an incident can flip the alerts of thousands of SLOs at once.
    """
    _executemany_rows(
        session,
        "alert state update",
        lambda _: _ALERT_STATE_UPDATE,
        rows,
        (*_ALERT_STATE_COLUMNS, "b_id"),
        timestamps=("since",),
    )


def insert_transitions(session: Session, rows: Sequence[Mapping[str, Any]]) -> None:
    """Append alert transitions."""
    _executemany_rows(
        session,
        "transition insert",
        lambda _: insert(_TRANSITION),
        rows,
        _TRANSITION_COLUMNS,
        timestamps=("at",),
    )


def _executemany_rows(
    session: Session,
    name: str,
    build: Callable[[Dialect], UpdateBase],
    rows: Sequence[Mapping[str, Any]],
    names: tuple[str, ...],
    *,
    timestamps: tuple[str, ...],
) -> None:
    """:func:`_executemany` over rows given as mappings (``timestamps`` name the UTCDateTime
    values, converted for the driver)."""
    if not rows:
        return
    connection = session.connection()
    to_timestamp = _timestamp_processor(connection.dialect)
    columns: dict[str, Sequence[Any]] = {}
    for column in names:
        values = [row[column] for row in rows]
        if column in timestamps:
            # A tick stamps all its rows with the same instant: convert each instant once.
            converted = {value: to_timestamp(value) for value in set(values)}
            values = [converted[value] for value in values]
        columns[column] = values
    _executemany(connection, name, build, columns)
