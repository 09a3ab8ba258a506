"""Burn-rate alert states kept by the evaluator, and the transitions a tick records.

The evaluator is the only writer of alert states, so it keeps every alert's state row id and
whether it fires in memory; a tick compares what fires now with what fired before and writes
only the transitions. For the batch path the same states are laid out as arrays matching the
BatchResult, so the comparison is one vectorised ``!=`` however many SLOs there are.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray
from sqlalchemy.orm import Session

from watchkeeper.core.batch import BatchPlan, BatchResult
from watchkeeper.core.slo import SLO
from watchkeeper.core.windows import alert_windows
from watchkeeper.slo import repository
from watchkeeper.slo.figures import AlertFigure, Figures


class AlertKey(NamedTuple):
    """Identity of one burn-rate alert of one SLO (a tuple of plain values, which the cyclic
    garbage collector stops tracking: the worker keeps tens of thousands)."""

    slo_id: int
    severity: str
    long_seconds: int
    short_seconds: int


@dataclass
class AlertEntry:
    """An alert's state row and whether it fires, as last stored."""

    state_id: int
    firing: bool


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


def sync_alert_rows(
    session: Session,
    slo_ids: Sequence[int],
    slos: Sequence[SLO],
    now: datetime,
    *,
    keep: set[int],
) -> dict[AlertKey, AlertEntry]:
    """Create missing alert-state rows, drop those of windows no longer configured, and
    return every alert's state. Rows of SLOs in ``keep`` (failing ones) stay as they are."""
    wanted: dict[AlertKey, float] = {}
    for slo_id, slo in zip(slo_ids, slos, strict=True):
        for window in alert_windows(slo, now):
            key = AlertKey(
                slo_id,
                window.severity.value,
                int(window.long.total_seconds()),
                int(window.short.total_seconds()),
            )
            wanted[key] = window.factor
    present = {_key(row): row for row in repository.alert_state_rows(session)}
    repository.delete_alert_states(
        session,
        [row.id for key, row in present.items() if key not in wanted and row.slo_id not in keep],
    )
    # A window kept across a re-apply may have a new factor (another period, say).
    refactored = [
        {"b_id": row.id, "factor": wanted[key]}
        for key, row in present.items()
        if key in wanted and row.factor != wanted[key]
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


def alert_cache(
    session: Session, slo_ids: Sequence[int] | None = None
) -> dict[AlertKey, AlertEntry]:
    """Every alert's state as stored (of ``slo_ids`` only, when given)."""
    return {
        _key(row): AlertEntry(row.id, row.firing)
        for row in repository.alert_state_rows(session, slo_ids)
    }


def _key(row: repository.AlertStateRow) -> AlertKey:
    return AlertKey(row.slo_id, row.severity, row.long_seconds, row.short_seconds)


@dataclass
class BatchAlerts:
    """The alert states of a batch plan's SLOs as arrays shaped like its alert columns."""

    entries: list[list[AlertEntry | None]]  # [slot][alert]: None where no state row exists
    firing: NDArray[np.bool_]  # (n_slos, k): as last stored
    known: NDArray[np.bool_]  # (n_slos, k): an alert with a state row

    @classmethod
    def build(
        cls, plan: BatchPlan, slo_ids: Sequence[int], cache: dict[AlertKey, AlertEntry]
    ) -> BatchAlerts:
        """Look up every alert of the plan in ``cache``."""
        width = plan.alert_valid.shape[1] if plan.alert_valid.ndim == 2 else 0
        entries: list[list[AlertEntry | None]] = []
        for slo_id, windows in zip(slo_ids, plan.alert_windows, strict=True):
            row: list[AlertEntry | None] = [None] * width
            for j, (severity, long, short, _factor) in enumerate(windows):
                key = AlertKey(
                    slo_id, severity.value, int(long.total_seconds()), int(short.total_seconds())
                )
                row[j] = cache.get(key)
            entries.append(row)
        known = np.array([[e is not None for e in row] for row in entries], dtype=np.bool_)
        firing = np.array(
            [[e is not None and e.firing for e in row] for row in entries], dtype=np.bool_
        )
        shape = (len(entries), width)
        return cls(entries, firing.reshape(shape), known.reshape(shape))


class BatchTick(NamedTuple):
    """The batch path's side of a tick: alert states, plan and result, SLO ids and keys by
    slot."""

    alerts: BatchAlerts
    plan: BatchPlan
    result: BatchResult
    slo_ids: Sequence[int]
    slo_keys: Sequence[str]


@dataclass
class _Changes:
    transitions: list[Transition]
    rows: list[dict[str, Any]]

    def add(self, entry: AlertEntry, transition: Transition) -> None:
        entry.firing = transition.firing
        self.transitions.append(transition)
        self.rows.append(
            {
                "b_id": entry.state_id,
                "firing": transition.firing,
                "since": transition.at,
                "factor": transition.factor,
                "long_burn_rate": transition.long_burn_rate,
                "short_burn_rate": transition.short_burn_rate,
            }
        )


def record_transitions(
    session: Session,
    *,
    batch: BatchTick | None,
    singles: Sequence[Figures],
    cache: dict[AlertKey, AlertEntry],
    now: datetime,
) -> list[Transition]:
    """Store the alerts that started or stopped firing at ``now`` and return them."""
    changes = _Changes([], [])
    if batch is not None:
        alerts, plan, result, slo_ids, slo_keys = batch
        flipped = alerts.known & (result.alert_firing != alerts.firing)
        for slot, j in zip(*np.nonzero(flipped), strict=True):
            entry = alerts.entries[slot][j]
            assert entry is not None  # flipped only where a state row is known
            severity, long, short, _ = plan.alert_windows[slot][j]
            changes.add(
                entry,
                Transition(
                    slo_id=slo_ids[slot],
                    slo_key=slo_keys[slot],
                    severity=severity.value,
                    long_seconds=int(long.total_seconds()),
                    short_seconds=int(short.total_seconds()),
                    factor=float(result.alert_factor[slot, j]),
                    firing=bool(result.alert_firing[slot, j]),
                    at=now,
                    long_burn_rate=_finite_or_none(result.alert_long_burn[slot, j]),
                    short_burn_rate=_finite_or_none(result.alert_short_burn[slot, j]),
                ),
            )
        alerts.firing[flipped] = result.alert_firing[flipped]
    for figures in singles:
        for alert in figures.alerts:
            single_entry = cache.get(_alert_key(figures.slo_id, alert))
            if single_entry is None or single_entry.firing == alert.firing:
                continue
            changes.add(
                single_entry,
                Transition(
                    slo_id=figures.slo_id,
                    slo_key=figures.slo_key,
                    severity=alert.severity,
                    long_seconds=alert.long_seconds,
                    short_seconds=alert.short_seconds,
                    factor=alert.factor,
                    firing=alert.firing,
                    at=now,
                    long_burn_rate=alert.long_burn_rate,
                    short_burn_rate=alert.short_burn_rate,
                ),
            )
    if changes.transitions:
        repository.update_alert_states(session, changes.rows)
        repository.insert_transitions(
            session,
            [
                {
                    "slo_id": t.slo_id,
                    "severity": t.severity,
                    "long_seconds": t.long_seconds,
                    "short_seconds": t.short_seconds,
                    "factor": t.factor,
                    "firing": t.firing,
                    "at": t.at,
                    "long_burn_rate": t.long_burn_rate,
                    "short_burn_rate": t.short_burn_rate,
                }
                for t in changes.transitions
            ],
        )
    return changes.transitions


def _alert_key(slo_id: int, alert: AlertFigure) -> AlertKey:
    return AlertKey(slo_id, alert.severity, alert.long_seconds, alert.short_seconds)


def _finite_or_none(value: np.float64) -> float | None:
    return None if np.isnan(value) else float(value)
