"""SLO use cases: storing SLOs, listing, reading status, evaluating, deleting."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from watchkeeper.core.duration import format_duration
from watchkeeper.core.evaluation import SLOStatus, evaluate
from watchkeeper.core.series import CountSource, EventSeries
from watchkeeper.core.slo import SLO, SourceKind
from watchkeeper.core.windows import window_start
from watchkeeper.errors import WatchkeeperError
from watchkeeper.events import service as events_service
from watchkeeper.slo import repository
from watchkeeper.slo.buckets import (
    evaluation_problem,
    hour_span_for,
    load_grid,
    minute_span_for,
    stored_series,
)
from watchkeeper.slo.exceptions import (
    EvaluationFailed,
    NotEvaluable,
    ServiceNotFound,
    SLONotFound,
    check_evaluation_time,
)
from watchkeeper.slo.figures import many_window_figures, window_figures
from watchkeeper.slo.models import AlertState, SLOHistory, SLORecord, SLOStatusRecord
from watchkeeper.slo.parsed import parsed_slo
from watchkeeper.slo.schemas import AlertRead, HistoryPoint, SLOStatusRead, slo_identity
from watchkeeper.slo.sourced import evaluate_from
from watchkeeper.sources.registry import registry_of
from watchkeeper.specs.native import slo_to_dict


@dataclass
class SLOChanges:
    """What ``upsert`` did, by SLO key."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


def to_core(record: SLORecord) -> SLO:
    """The core SLO stored in a record, parsed once per stored version.

    Raises EvaluationFailed (a NotEvaluable) when the stored spec no longer parses.
    """
    return parsed_slo(record)


def upsert(
    session: Session, *, slos: Sequence[SLO], formats: Mapping[str, str], now: datetime
) -> SLOChanges:
    """Create or update SLOs by key and register their event-store SLIs.

    ``formats`` gives each key's source format (native when absent). Applying a whole spec
    set, policies included, is :func:`watchkeeper.flows.specs.apply`.
    """
    changes = SLOChanges()
    events_service.register_slis(
        session,
        [slo.sli for slo in slos if slo.sli.source is SourceKind.WATCHKEEPER],
        now=now,
    )
    existing = repository.get_by_keys(session, [slo.key for slo in slos])
    for slo in slos:
        spec = slo_to_dict(slo)
        source_format = formats.get(slo.key, "native")
        record = existing.get(slo.key)
        if record is None:
            repository.add(
                session,
                SLORecord(
                    key=slo.key,
                    service=slo.service,
                    name=slo.name,
                    sli_name=slo.sli.name,
                    source_format=source_format,
                    spec=spec,
                    created_at=now,
                    updated_at=now,
                ),
            )
            changes.created.append(slo.key)
        elif record.spec != spec:
            record.spec = spec
            record.sli_name = slo.sli.name
            record.source_format = source_format
            record.updated_at = now
            changes.updated.append(slo.key)
        else:
            changes.unchanged.append(slo.key)
    session.flush()
    return changes


def list_slos(session: Session, *, service: str | None = None) -> list[SLORecord]:
    """Applied SLOs, optionally of one service."""
    return repository.list_all(session, service=service)


def get(session: Session, *, key: str) -> SLORecord:
    """The SLO with key ``service/name``, or SLONotFound."""
    record = repository.get_by_key(session, key)
    if record is None:
        raise SLONotFound(f"no SLO {key!r} has been applied")
    return record


def for_service(session: Session, *, service: str) -> list[SLORecord]:
    """The SLOs of one service, or ServiceNotFound when it has none."""
    records = repository.list_all(session, service=service)
    if not records:
        raise ServiceNotFound(f"no SLOs have been applied for service {service!r}")
    return records


def delete(session: Session, *, key: str) -> None:
    """Remove an SLO with its status, history and alert states."""
    repository.remove(session, get(session, key=key))


@dataclass(frozen=True)
class Evaluation:
    """A fresh evaluation of one SLO from its source (``series`` answers more windows)."""

    record: SLORecord
    slo: SLO
    status: SLOStatus
    series: CountSource


def series_for(session: Session, *, slo: SLO, at: datetime) -> EventSeries:
    """The SLO's buckets as the worker evaluates them.

    Ratio and threshold SLOs: minutes over the alert windows, whole hours further back (the
    worker's grid). Timeslice SLOs: every stored bucket of the window, so slices keep the
    stored resolution (1-minute buckets last WATCHKEEPER_MINUTE_RETENTION_DAYS).
    """
    sli_ids = list(events_service.sli_ids_by_name(session, [slo.sli.store_key]).values())
    if slo.sli.is_sliced:
        if not sli_ids:
            return EventSeries.empty()
        start = window_start(slo.window, at)
        stored = events_service.read_buckets(session, sli_ids, start=start, end=at).get(sli_ids[0])
        return EventSeries.empty() if stored is None else EventSeries.from_counts(*stored)
    grid = load_grid(
        session,
        sli_ids=sli_ids,
        minute_span=minute_span_for([slo]),
        hour_span=hour_span_for([slo]),
        now=at,
    )
    times, good, total = grid.buckets_of(0)
    return EventSeries.from_counts(times, good, total)


def evaluate_now(session: Session, *, key: str, at: datetime) -> Evaluation:
    """Evaluate one SLO at ``at`` from its source (no stored state used).

    Event-store SLOs read the stored buckets; Prometheus SLOs query the source the session's
    registry holds (SourceNotConfigured, QueryFailed or SourceUnreachable when that fails).
    NotEvaluable for catalogued SLOs; EvaluationFailed (a NotEvaluable) for SLOs whose stored
    definition cannot be evaluated, with the reason.
    """
    check_evaluation_time(at)
    record = get(session, key=key)
    slo = to_core(record)
    if slo.sli.external is not None:
        raise NotEvaluable(
            f"SLO {key!r} is catalogued only: its SLI reads {slo.sli.external.source_type}, "
            "which Watchkeeper does not query, so it has no figures"
        )
    problem = evaluation_problem(slo, at)
    if problem is not None:
        raise EvaluationFailed(key, problem)
    if slo.sli.source is SourceKind.PROMETHEUS:
        sourced = evaluate_from(slo, registry_of(session).for_slo(slo), at)
        return Evaluation(record, slo, sourced.status, sourced.counts)
    if slo.sli.source is not SourceKind.WATCHKEEPER:
        raise NotEvaluable(f"SLO {key!r} reads {slo.sli.source.value}, which is not evaluated")
    series = series_for(session, slo=slo, at=at)
    return Evaluation(record, slo, evaluate_or_fail(slo, series, at), series)


def evaluate_or_fail(slo: SLO, series: EventSeries, at: datetime) -> SLOStatus:
    """``evaluate(slo, series, at)``, its failures turned into EvaluationFailed.

    Evaluation is pure arithmetic over the stored spec and counts: whatever it raises
    (OverflowError on a window beyond the calendar, say) is a fault of that SLO alone.
    """
    try:
        return evaluate(slo, series, at)
    except Exception as exc:
        raise EvaluationFailed(slo.key, f"{type(exc).__name__}: {exc}") from exc


def stored_status(session: Session, *, record: SLORecord) -> SLOStatusRead | None:
    """The latest status the worker stored for an SLO, with its alert states."""
    row = repository.statuses(session, [record.id]).get(record.id)
    return _status_from_rows(record, row, repository.alert_states(session, [record.id]))


def stored_statuses(session: Session, *, records: list[SLORecord]) -> dict[int, SLOStatusRead]:
    """Latest stored status of many SLOs (two queries)."""
    ids = [r.id for r in records]
    rows = repository.statuses(session, ids)
    states: dict[int, list[AlertState]] = {}
    for state in repository.alert_states(session, ids):
        states.setdefault(state.slo_id, []).append(state)
    # Every row's window figures at once: computed one row at a time, the array set-up cost
    # more than the rest of reading 1,000 statuses.
    counted = [
        (record, row)
        for record in records
        if (row := rows.get(record.id)) is not None
        and row.error is None
        and row.window_counts is not None
        and row.objective is not None
    ]
    figures = dict(
        zip(
            [record.id for record, _row in counted],
            many_window_figures(
                [row.window_counts or {} for _record, row in counted],
                [row.objective or 0.0 for _record, row in counted],
            ),
            strict=True,
        )
    )
    result = {}
    for record in records:
        status = _status_from_rows(
            record, rows.get(record.id), states.get(record.id, []), figures.get(record.id)
        )
        if status is not None:
            result[record.id] = status
    return result


def _status_from_rows(
    record: SLORecord,
    row: SLOStatusRecord | None,
    states: list[AlertState],
    figures: tuple[dict[str, float | None], dict[str, float | None]] | None = None,
) -> SLOStatusRead | None:
    if row is None:
        return None
    error = row.error
    if error is None:
        try:
            slo = to_core(record)
        except EvaluationFailed as exc:
            # Figures stored while its spec still parsed (before an upgrade refused it): the
            # SLO is failing now, whatever the last tick stored.
            error = exc.problem
    if error is not None:
        # A failing SLO: why, and no figures.
        return SLOStatusRead(
            **record_identity(record), at=row.evaluated_at, burn_rates={}, error=error
        )
    burn_rates, slis = figures if figures is not None else _window_figures(row, slo.objective)
    return SLOStatusRead(
        **slo_identity(slo),
        window_start=window_start(slo.window, row.evaluated_at),
        at=row.evaluated_at,
        good=row.good,
        total=row.total,
        sli=row.sli,
        error_budget_remaining=row.budget_remaining,
        burn_rates=burn_rates,
        slis=slis,
        alerts=[
            AlertRead(
                severity=s.severity,
                long=format_duration(timedelta(seconds=s.long_seconds)),
                short=format_duration(timedelta(seconds=s.short_seconds)),
                factor=s.factor,
                firing=s.firing,
                long_burn_rate=burn_rates.get(format_duration(timedelta(seconds=s.long_seconds))),
                short_burn_rate=burn_rates.get(format_duration(timedelta(seconds=s.short_seconds))),
                since=s.since,
            )
            for s in states
        ],
        exhaustion_at=row.exhaustion_at,
    )


def _window_figures(
    row: SLOStatusRecord | SLOHistory, objective: float
) -> tuple[dict[str, float | None], dict[str, float | None]]:
    """Burn rates and SLIs per window of a stored row: from its counts, or as rows written
    before 0005 stored them."""
    if row.window_counts is not None:
        return window_figures(
            row.window_counts, row.objective if row.objective is not None else objective
        )
    return row.burn_rates or {}, row.window_slis or {}


def evaluated_by(record: SLORecord) -> str | None:
    """What computes the SLO's figures (see SLI.evaluated_by).

    A stored spec that no longer parses is Watchkeeper's: the worker reports it as failing.
    """
    try:
        return to_core(record).sli.evaluated_by
    except NotEvaluable:
        return SourceKind.WATCHKEEPER.value


def record_identity(record: SLORecord) -> dict[str, Any]:
    """The identity fields of an SLO's status document, even when its spec no longer parses
    (then from the record's columns and the stored spec as written)."""
    try:
        return slo_identity(to_core(record))
    except EvaluationFailed:
        spec = record.spec if isinstance(record.spec, dict) else {}
        objective = spec.get("objective")
        window = spec.get("window")
        return {
            "service": record.service,
            "name": record.name,
            "key": record.key,
            "objective": objective
            if isinstance(objective, int | float) and not isinstance(objective, bool)
            else math.nan,
            "window": window if isinstance(window, str) else str(window),
            "sli_name": record.sli_name,
        }


def history(
    session: Session, *, key: str, since: datetime, until: datetime, limit: int = 5000
) -> list[HistoryPoint]:
    """Stored evaluations of one SLO between two instants."""
    record = get(session, key=key)
    objective = record_identity(record)["objective"]
    points = []
    for h in repository.history(session, record.id, since=since, until=until, limit=limit):
        burn_rates, slis = _window_figures(h, objective)
        points.append(
            HistoryPoint(
                at=h.at,
                good=h.good,
                total=h.total,
                sli=h.sli,
                error_budget_remaining=h.budget_remaining,
                burn_rates=burn_rates,
                slis=slis,
            )
        )
    return points


def evaluate_many(
    session: Session, *, records: Sequence[SLORecord], at: datetime
) -> dict[str, Evaluation | WatchkeeperError]:
    """Evaluate SLOs at ``at`` as :func:`evaluate_now` does, per key the Evaluation or the
    error it would raise.

    Event-store SLOs are read together: one query for their SLIs and one for the buckets of
    all of them, whatever their number; each SLO then gets exactly the buckets
    :func:`series_for` reads for it alone, so its figures are the same to the bit.
    Prometheus SLOs query their source one by one, as :func:`evaluate_now` does.
    """
    outcomes: dict[str, Evaluation | WatchkeeperError] = {}
    try:
        check_evaluation_time(at)
    except WatchkeeperError as exc:
        return dict.fromkeys((record.key for record in records), exc)
    stored: list[tuple[SLORecord, SLO]] = []
    for record in records:
        try:
            slo = to_core(record)
            if slo.sli.external is not None:
                raise NotEvaluable(
                    f"SLO {record.key!r} is catalogued only: its SLI reads "
                    f"{slo.sli.external.source_type}, which Watchkeeper does not query, so it "
                    "has no figures"
                )
            problem = evaluation_problem(slo, at)
            if problem is not None:
                raise EvaluationFailed(record.key, problem)
            if slo.sli.source is SourceKind.PROMETHEUS:
                sourced = evaluate_from(slo, registry_of(session).for_slo(slo), at)
                outcomes[record.key] = Evaluation(record, slo, sourced.status, sourced.counts)
                continue
            if slo.sli.source is not SourceKind.WATCHKEEPER:
                raise NotEvaluable(
                    f"SLO {record.key!r} reads {slo.sli.source.value}, which is not evaluated"
                )
        except WatchkeeperError as exc:
            outcomes[record.key] = exc
            continue
        stored.append((record, slo))
    for (record, slo), series in zip(
        stored, stored_series(session, [slo for _record, slo in stored], at), strict=True
    ):
        try:
            outcomes[record.key] = Evaluation(
                record, slo, evaluate_or_fail(slo, series, at), series
            )
        except EvaluationFailed as exc:
            outcomes[record.key] = exc
    # In the order of ``records``, as callers list them.
    return {record.key: outcomes[record.key] for record in records}
