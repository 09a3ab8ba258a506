"""The column-only reads behind SLO summaries (slo/summaries.py): no ORM objects, no JSON
documents but the stored status's window counts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TypeAlias

from sqlalchemy import Row, Text, cast, select
from sqlalchemy.orm import Session

from watchkeeper.slo.models import AlertState, SLORecord, SLOStatusRecord

# slo_id, evaluated_at, error, sli, budget_remaining, objective, window_counts, burn_rates
StatusRow: TypeAlias = Row[
    int,
    datetime,
    str | None,
    float | None,
    float | None,
    float | None,
    dict[str, list[int]] | None,
    dict[str, float | None] | None,
]


def identities(session: Session) -> Sequence[Row[int, str, str, str, datetime, str]]:
    """(id, key, service, name, updated_at, stored spec as text) of every SLO."""
    return session.execute(
        select(
            SLORecord.id,
            SLORecord.key,
            SLORecord.service,
            SLORecord.name,
            SLORecord.updated_at,
            cast(SLORecord.spec, Text),
        )
    ).all()


def statuses(session: Session) -> Sequence[StatusRow]:
    """The stored status columns a list needs, of every SLO that has one."""
    return session.execute(
        select(
            SLOStatusRecord.slo_id,
            SLOStatusRecord.evaluated_at,
            SLOStatusRecord.error,
            SLOStatusRecord.sli,
            SLOStatusRecord.budget_remaining,
            SLOStatusRecord.objective,
            SLOStatusRecord.window_counts,
            SLOStatusRecord.burn_rates,
        )
    ).all()


def firing(session: Session) -> Sequence[Row[int, str, int, int]]:
    """(SLO id, severity, long and short window in seconds) of every firing alert state, by
    SLO and in the order the states were stored."""
    return session.execute(
        select(
            AlertState.slo_id,
            AlertState.severity,
            AlertState.long_seconds,
            AlertState.short_seconds,
        )
        .where(AlertState.firing.is_(True))
        .order_by(AlertState.slo_id, AlertState.id)
    ).all()
