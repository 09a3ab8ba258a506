"""The evaluation tick of SLOs whose counts come from Prometheus.

It runs after the built-in tick has committed, so the built-in SLOs' timing never depends
on Prometheus, and it is bounded: queries still unanswered at the deadline
(``WATCHKEEPER_PROMETHEUS_DEADLINE_SECONDS``) count as "source unreachable". Three steps:

1. read the Prometheus SLOs (a short transaction);
2. with no transaction open, record the windows each SLO needs at ``now`` (SLO window, burn
   windows, alert windows, maintenance cut-outs), send every distinct instant query of every
   SLO of a source at once through its bounded pool (identical queries of several SLOs are
   sent once), then evaluate each SLO from the answers;
3. store statuses, history at the history cadence and burn-rate alert transitions the way
   the built-in tick does (slo/figures.py, slo/alert_states.py), in one transaction.

An SLO whose source is down, slow or answering 5xx is stored failing with an error that
starts with "source unreachable": it counts as neither good nor bad, and its alert states
stay as they were (no transition is recorded for it). A refused query (bad PromQL, several
series) or a source that is not configured fails that SLO alone with the reason.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from watchkeeper.core.series import EventSeries
from watchkeeper.core.slo import SLO, SourceKind
from watchkeeper.db import session_scope
from watchkeeper.errors import WatchkeeperError
from watchkeeper.slo import repository
from watchkeeper.slo.alert_states import Transition, alert_cache, record_transitions
from watchkeeper.slo.buckets import evaluation_problem
from watchkeeper.slo.exceptions import EvaluationFailed
from watchkeeper.slo.figures import (
    Failure,
    Figures,
    failing_statuses,
    figures_from_status,
    single_statuses,
)
from watchkeeper.slo.repository import StatusBatch
from watchkeeper.slo.service import to_core
from watchkeeper.slo.sourced import evaluate_from, windows_needed
from watchkeeper.sources.base import Counts, Span
from watchkeeper.sources.prometheus import InstantResult, PrometheusSource
from watchkeeper.sources.registry import SourceRegistry

log = logging.getLogger("watchkeeper.evaluator.sources")

# Writes of the source tick are serialised across workers (PostgreSQL) with this lock.
SOURCE_LOCK_KEY = 0x57_4B_53_52  # "WKSR"


@dataclass
class SourceTickReport:
    """What one source tick did."""

    evaluated: int = 0
    unreachable: int = 0
    transitions: list[Transition] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    query_seconds: float = 0.0
    queries: int = 0


@dataclass(frozen=True)
class PrometheusSLO:
    """A Prometheus-sourced SLO the evaluator loaded: its row id, key and definition."""

    slo_id: int
    key: str
    slo: SLO


class SourceEvaluator:
    """Evaluates every Prometheus SLO; one instance lives in each worker process."""

    def __init__(
        self,
        *,
        history_interval: timedelta = timedelta(minutes=5),
        deadline: timedelta = timedelta(seconds=20),
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.history_interval = history_interval
        self.deadline = deadline
        self._monotonic = monotonic
        self._last_history: datetime | None = None
        # The Prometheus SLOs as of a version of the SLO table: read again only when it
        # changes, so the tick costs nothing more for installations without any.
        self._version: tuple[int, datetime | None, int] | None = None
        self._slos: list[PrometheusSLO] = []

    def tick(
        self,
        factory: sessionmaker[Session],
        registry: SourceRegistry,
        *,
        now: datetime,
        ingest: Callable[[Session, list[Transition]], None] | None = None,
    ) -> SourceTickReport:
        """Evaluate every Prometheus SLO at ``now`` and store the results; ``ingest`` gets the
        alert transitions inside the storing transaction (the worker's alert intake)."""
        report = SourceTickReport()
        with session_scope(factory) as session:
            version = repository.version(session)
            if version != self._version:
                self._slos = _load(session)
                self._version = version
        items, failures = _fitting(self._slos, now)
        if not items and not failures:
            return report
        started = self._monotonic()
        figures, more = self.evaluate(items, registry, now=now, report=report)
        report.query_seconds = self._monotonic() - started
        failures.extend(more)
        report.failures = failures
        report.evaluated = len(figures)
        report.unreachable = sum(f.error.startswith("source unreachable") for f in failures)
        with session_scope(factory) as session:
            if not _take_lock(session):
                return report  # another worker is storing the same tick
            self._store(session, figures, failures, report, now)
            if ingest is not None and report.transitions:
                ingest(session, report.transitions)
        return report

    def evaluate(
        self,
        items: list[PrometheusSLO],
        registry: SourceRegistry,
        *,
        now: datetime,
        report: SourceTickReport,
    ) -> tuple[list[Figures], list[Failure]]:
        """Query and evaluate ``items``; each SLO ends with figures or a failure."""
        deadline = self._monotonic() + self.deadline.total_seconds()
        figures: list[Figures] = []
        failures: list[Failure] = []
        # Keyed by the source object: two registry names may share one configuration.
        by_source: dict[int, tuple[PrometheusSource, list[tuple[PrometheusSLO, list[Span]]]]] = {}
        for item in items:
            try:
                source = registry.for_slo(item.slo)
                spans = windows_needed(item.slo, now)
                source.instant_keys(item.slo, spans)  # refuses an SLI without queries
            except WatchkeeperError as exc:
                failures.append(Failure(item.slo_id, item.key, exc.detail))
                continue
            except Exception as exc:
                failures.append(Failure(item.slo_id, item.key, f"{type(exc).__name__}: {exc}"))
                continue
            by_source.setdefault(id(source), (source, []))[1].append((item, spans))
        answers = _fetch_all(list(by_source.values()), deadline)
        for source, planned in by_source.values():
            cache = answers[id(source)]
            report.queries += len(cache)
            for item, spans in planned:
                try:
                    known: dict[Span, Counts] = dict(
                        zip(spans, source.window_counts(item.slo, spans, cache=cache), strict=True)
                    )
                    status = evaluate_from(
                        item.slo, _Bounded(source, cache, deadline), now, known=known
                    ).status
                except WatchkeeperError as exc:
                    problem = exc.problem if isinstance(exc, EvaluationFailed) else exc.detail
                    failures.append(Failure(item.slo_id, item.key, problem))
                    continue
                figures.append(figures_from_status(item.slo_id, item.slo.objective, status))
        return figures, failures

    def _store(
        self,
        session: Session,
        figures: list[Figures],
        failures: list[Failure],
        report: SourceTickReport,
        now: datetime,
    ) -> None:
        parts = [single_statuses(figures)] if figures else []
        if failures:
            parts.append(failing_statuses(failures))
        if not parts:
            return
        statuses = parts[0] if len(parts) == 1 else StatusBatch.concat(parts)
        repository.write_statuses(session, statuses, at=now)
        if self._last_history is None or now - self._last_history >= self.history_interval:
            repository.append_history(session, statuses, at=now)
            self._last_history = now
        # Failing SLOs (unreachable ones included) have no figures: their alerts keep state.
        cache = alert_cache(session, [f.slo_id for f in figures])
        report.transitions = record_transitions(
            session, batch=None, singles=figures, cache=cache, now=now
        )


class _Bounded:
    """A source for the second pass: windows not fetched in the first (sliced SLIs' history)
    go to the source itself, with the tick's cache and deadline."""

    def __init__(
        self,
        source: PrometheusSource,
        cache: dict[tuple[str, float], InstantResult],
        deadline: float,
    ) -> None:
        self.name = source.name
        self._source = source
        self._cache = cache
        self._deadline = deadline

    def window_counts(self, slo: SLO, windows: Sequence[Span]) -> list[Counts]:
        return self._source.window_counts(slo, windows, cache=self._cache, deadline=self._deadline)

    def history(self, slo: SLO, *, start: datetime, end: datetime, step: timedelta) -> EventSeries:
        return self._source.history(slo, start=start, end=end, step=step)


def _fetch_all(
    planned: list[tuple[PrometheusSource, list[tuple[PrometheusSLO, list[Span]]]]], deadline: float
) -> dict[int, dict[tuple[str, float], InstantResult]]:
    """Every source's instant queries at once (a slow source never eats another's deadline)."""

    def fetch(
        source: PrometheusSource, work: list[tuple[PrometheusSLO, list[Span]]]
    ) -> dict[tuple[str, float], InstantResult]:
        wanted = [key for item, spans in work for key in source.instant_keys(item.slo, spans)]
        return source.fetch(wanted, deadline=deadline)

    if not planned:
        return {}
    if len(planned) == 1:
        source, work = planned[0]
        return {id(source): fetch(source, work)}
    with ThreadPoolExecutor(max_workers=len(planned)) as pool:
        futures = {id(source): pool.submit(fetch, source, work) for source, work in planned}
        return {name: future.result() for name, future in futures.items()}


def _load(session: Session) -> list[PrometheusSLO]:
    """The Prometheus SLOs (specs that no longer parse are the built-in tick's to report)."""
    items: list[PrometheusSLO] = []
    for record in repository.list_all(session):
        try:
            slo = to_core(record)
        except EvaluationFailed:
            continue
        if slo.sli.source is SourceKind.PROMETHEUS:
            items.append(PrometheusSLO(record.id, record.key, slo))
    return items


def _fitting(
    items: list[PrometheusSLO], now: datetime
) -> tuple[list[PrometheusSLO], list[Failure]]:
    """The SLOs whose windows fit the calendar at ``now``, and failures for the others."""
    fitting: list[PrometheusSLO] = []
    failures: list[Failure] = []
    for item in items:
        problem = evaluation_problem(item.slo, now)
        if problem is None:
            fitting.append(item)
        else:
            failures.append(Failure(item.slo_id, item.key, problem))
    return fitting, failures


def _take_lock(session: Session) -> bool:
    bind = session.get_bind()
    if bind.dialect.name != "postgresql":
        return True
    return bool(
        session.execute(
            text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": SOURCE_LOCK_KEY}
        ).scalar()
    )


__all__ = ["SourceEvaluator", "SourceTickReport"]
