"""What an evaluation tick stores: per-SLO figures, alert states and their transitions."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sqlalchemy.orm import Session

from watchkeeper.core.batch import BatchPlan, BatchResult
from watchkeeper.core.budget import sli_ratio
from watchkeeper.core.duration import format_duration
from watchkeeper.core.evaluation import SLOStatus
from watchkeeper.core.slo import SLO
from watchkeeper.core.windows import alert_windows
from watchkeeper.slo import repository
from watchkeeper.slo.models import SLORecord
from watchkeeper.slo.schemas import window_slis_of


@dataclass(frozen=True)
class AlertKey:
    """Identity of one burn-rate alert of one SLO."""

    slo_id: int
    severity: str
    long_seconds: int
    short_seconds: int


@dataclass(frozen=True)
class Figures:
    """One SLO's figures as stored by a tick."""

    slo_id: int
    slo_key: str
    at: datetime
    good: float
    total: float
    sli: float | None
    remaining: float | None
    burn_rates: dict[str, float | None]
    window_slis: dict[str, float | None]
    exhaustion_at: datetime | None
    alerts: list[tuple[str, int, int, float, bool, float | None, float | None]]

    def status_row(self) -> dict[str, object]:
        return {
            "slo_id": self.slo_id,
            "evaluated_at": self.at,
            "good": self.good,
            "total": self.total,
            "sli": self.sli,
            "budget_remaining": self.remaining,
            "burn_rates": self.burn_rates,
            "window_slis": self.window_slis,
            "exhaustion_at": self.exhaustion_at,
        }

    def history_row(self) -> dict[str, object]:
        return {
            "slo_id": self.slo_id,
            "at": self.at,
            "good": self.good,
            "total": self.total,
            "sli": self.sli,
            "budget_remaining": self.remaining,
            "burn_rates": self.burn_rates,
            "window_slis": self.window_slis,
        }


def _none_if_nan(value: float) -> float | None:
    return None if math.isnan(value) else value


def tick_figures(
    records: Sequence[SLORecord],
    plan: BatchPlan,
    batch_index: NDArray[np.int64],
    result: BatchResult,
    singles: dict[int, SLOStatus],
    now: datetime,
) -> list[Figures]:
    """What a tick stores for every SLO: batch results by slot, singles by position."""
    labels = [format_duration(w) for w in plan.burn_windows]
    figures: list[Figures] = []
    burn = result.burn.tolist()
    good, total = result.good.tolist(), result.total.tolist()
    sli, remaining = result.sli.tolist(), result.budget_remaining.tolist()
    exhaustion = result.exhaustion_seconds.tolist()
    firing = result.alert_firing.tolist()
    long_burn, short_burn = result.alert_long_burn.tolist(), result.alert_short_burn.tolist()
    window_sli = sli_ratio(result.window_good, result.window_total).tolist()
    factors = result.alert_factor.tolist()
    for slot, position in enumerate(batch_index.tolist()):
        record = records[position]
        alerts = [
            (
                severity.value,
                int(long.total_seconds()),
                int(short.total_seconds()),
                factors[slot][j],
                bool(firing[slot][j]),
                _none_if_nan(long_burn[slot][j]),
                _none_if_nan(short_burn[slot][j]),
            )
            for j, (severity, long, short, _) in enumerate(plan.alert_windows[slot])
        ]
        seconds = exhaustion[slot]
        try:
            exhausts = None if math.isnan(seconds) else now + timedelta(seconds=seconds)
        except OverflowError:  # so slow it would outlast the calendar
            exhausts = None
        figures.append(
            Figures(
                slo_id=record.id,
                slo_key=record.key,
                at=now,
                good=good[slot],
                total=total[slot],
                sli=_none_if_nan(sli[slot]),
                remaining=_none_if_nan(remaining[slot]),
                burn_rates={
                    label: _none_if_nan(value)
                    for label, value in zip(labels, burn[slot], strict=True)
                },
                window_slis={
                    label: _none_if_nan(value)
                    for label, value in zip(labels, window_sli[slot], strict=True)
                },
                exhaustion_at=exhausts,
                alerts=alerts,
            )
        )
    for position, status in singles.items():
        figures.append(figures_from_status(records[position].id, status))
    return figures


def figures_from_status(slo_id: int, status: SLOStatus) -> Figures:
    """Storage figures from a one-SLO evaluation."""
    return Figures(
        slo_id=slo_id,
        slo_key=status.slo_key,
        at=status.at,
        good=status.good,
        total=status.total,
        sli=status.sli,
        remaining=status.error_budget_remaining,
        burn_rates={format_duration(w): v for w, v in status.burn_rates.items()},
        window_slis=window_slis_of(status),
        exhaustion_at=status.exhaustion_at,
        alerts=[
            (
                a.severity.value,
                int(a.long.total_seconds()),
                int(a.short.total_seconds()),
                a.factor,
                a.firing,
                a.long_burn_rate,
                a.short_burn_rate,
            )
            for a in status.alerts
        ],
    )


def sync_alert_rows(
    session: Session, records: list[SLORecord], slos: tuple[SLO, ...], now: datetime
) -> dict[AlertKey, list[Any]]:
    """Create missing alert-state rows, drop those of windows no longer configured, and
    return every alert's [row id, firing] (kept in memory: the evaluator is the only writer)."""
    wanted: dict[AlertKey, float] = {}
    for record, slo in zip(records, slos, strict=True):
        for window in alert_windows(slo, now):
            key = AlertKey(
                record.id,
                window.severity.value,
                int(window.long.total_seconds()),
                int(window.short.total_seconds()),
            )
            wanted[key] = window.factor
    present = {
        AlertKey(row[1], row[2], row[3], row[4]): (row[0], row[6])
        for row in repository.alert_state_rows(session)
    }
    stale = [row_id for key, (row_id, _) in present.items() if key not in wanted]
    repository.delete_alert_states(session, stale)
    # A window kept across a re-apply may have a new factor (another period, say).
    refactored = [
        {"b_id": row_id, "factor": wanted[key]}
        for key, (row_id, factor) in present.items()
        if key in wanted and factor != wanted[key]
    ]
    if refactored:
        repository.update_alert_factors(session, refactored)
    new_rows = [
        {
            "slo_id": key.slo_id,
            "severity": key.severity,
            "long_seconds": key.long_seconds,
            "short_seconds": key.short_seconds,
            "factor": factor,
            "firing": False,
            "since": now,
        }
        for key, factor in wanted.items()
        if key not in present
    ]
    if new_rows:
        repository.insert_alert_states(session, new_rows)
    return alert_cache(session)


def alert_cache(session: Session) -> dict[AlertKey, list[Any]]:
    """Every alert's [state row id, firing] as stored."""
    return {
        AlertKey(row[1], row[2], row[3], row[4]): [row[0], row[5]]
        for row in repository.alert_state_rows(session)
    }


@dataclass(frozen=True)
class Transition:
    """A burn-rate alert that started or stopped firing."""

    slo_id: int
    slo_key: str
    severity: str
    long_seconds: int
    short_seconds: int
    factor: float
    firing: bool
    at: datetime
    long_burn_rate: float | None
    short_burn_rate: float | None


def record_transitions(
    session: Session, alerts: dict[AlertKey, list[Any]], figures: list[Figures], now: datetime
) -> list[Transition]:
    transitions: list[Transition] = []
    changed_states: list[dict[str, Any]] = []
    for figure in figures:
        for severity, long_s, short_s, factor, firing, long_burn, short_burn in figure.alerts:
            state = alerts.get(AlertKey(figure.slo_id, severity, long_s, short_s))
            if state is None or state[1] == firing:
                continue
            state[1] = firing
            transitions.append(
                Transition(
                    figure.slo_id,
                    figure.slo_key,
                    severity,
                    long_s,
                    short_s,
                    factor,
                    firing,
                    now,
                    long_burn,
                    short_burn,
                )
            )
            changed_states.append(
                {
                    "b_id": state[0],
                    "firing": firing,
                    "since": now,
                    "factor": factor,
                    "long_burn_rate": long_burn,
                    "short_burn_rate": short_burn,
                }
            )
    if transitions:
        repository.update_alert_states(session, changed_states)
        rows = [{k: v for k, v in t.__dict__.items() if k != "slo_key"} for t in transitions]
        repository.insert_transitions(session, rows)
    return transitions
