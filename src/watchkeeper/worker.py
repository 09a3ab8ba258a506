"""Background jobs: the SLO evaluation tick, event-store compaction, escalation steps and
outbox delivery.

Runs inside ``watchkeeper serve`` (embedded) or as ``watchkeeper worker``. On PostgreSQL the
tick takes a transaction-level advisory lock so that with several workers only one evaluates
at a time; the others skip that tick. Delivery runs in a thread of its own, every
``outbox_poll_seconds`` and at once when this process commits a notification, so a slow or
failing evaluation never delays a page; several workers share the outbox (rows are claimed).
Due escalation steps run in a third thread every ``escalation_interval_seconds``; several
workers share them too (groups are locked with SKIP LOCKED). Auto-declared incidents and the
"all alert groups resolved" notes run in a fourth thread every ``incident_declare_seconds``, so
that pass never delays a page.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from watchkeeper.alerting import escalation, escalation_config, slo_alerts
from watchkeeper.alerting import service as alerting_service
from watchkeeper.config import Settings
from watchkeeper.core.duration import format_duration
from watchkeeper.db import session_scope, utcnow
from watchkeeper.errors import WatchkeeperError
from watchkeeper.events import service as events_service
from watchkeeper.flows import incidents as incident_flows
from watchkeeper.notify import wakeup
from watchkeeper.notify.delivery import DeliveryReport, deliver_due
from watchkeeper.notify.notifiers import Notifier
from watchkeeper.notify.notifiers import notifiers as configured_notifiers
from watchkeeper.slo.alert_states import Transition
from watchkeeper.slo.evaluator import Evaluator, TickReport
from watchkeeper.slo.source_evaluator import SourceEvaluator, SourceTickReport
from watchkeeper.sources.registry import SourceRegistry, registry_from_settings

log = logging.getLogger("watchkeeper.worker")
outbox_log = logging.getLogger("watchkeeper.outbox")
incident_log = logging.getLogger("watchkeeper.incidents")
escalation_log = logging.getLogger("watchkeeper.escalation")

EVALUATION_LOCK_KEY = 0x57_4B_45_56  # "WKEV"
COMPACTION_INTERVAL = timedelta(hours=1)


def _take_singleton_lock(session: Session) -> bool:
    bind = session.get_bind()
    if bind.dialect.name != "postgresql":
        return True
    locked = session.execute(
        text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": EVALUATION_LOCK_KEY}
    ).scalar()
    return bool(locked)


class Worker:
    """Runs the periodic jobs against one database."""

    def __init__(
        self,
        settings: Settings,
        session_factory: sessionmaker[Session],
        *,
        clock: Callable[[], datetime] = utcnow,
        notifiers: Mapping[str, Notifier] | None = None,
        sources: SourceRegistry | None = None,
    ) -> None:
        self.settings = settings
        self.sources = registry_from_settings(settings) if sources is None else sources
        self.source_evaluator = SourceEvaluator(
            history_interval=timedelta(seconds=settings.history_interval_seconds),
            deadline=timedelta(seconds=settings.prometheus_deadline_seconds),
        )
        self.last_source_report: SourceTickReport | None = None
        self._notifiers = notifiers
        self._wake = threading.Event()
        self.last_delivery: DeliveryReport | None = None
        self.session_factory = session_factory
        self.clock = clock
        self.evaluator = Evaluator(
            history_interval=timedelta(seconds=settings.history_interval_seconds)
        )
        self._last_compaction: datetime | None = None
        self.last_report: TickReport | None = None
        # Failing SLOs as last logged (key -> error): a failure is logged when it starts or
        # its error changes, and its end once, not on every tick.
        self._failing: dict[str, str] = {}

    def run_once(self, now: datetime | None = None) -> TickReport | None:
        """One tick: evaluate every SLO, then compact when due (None if another worker has it)."""
        at = now or self.clock()
        try:
            with session_scope(self.session_factory) as session:
                if not _take_singleton_lock(session):
                    return None
                escalation_config.bind(session, self.settings)
                # Evaluate first: the tick loads the SLOs, and with them how many days of
                # minute buckets the evaluator reads (custom alert windows may exceed the
                # retention setting); compacting before a first load would fold those away.
                report = self.evaluator.tick(session, now=at)
                # Burn-rate transitions enter alert intake in the tick's transaction, so a
                # transition and its alert group commit together.
                slo_alerts.ingest_slo_transitions(session, report.transitions, now=at)
                alerting_service.expire_silences(session, now=at)
                if (
                    self._last_compaction is None
                    or at - self._last_compaction >= COMPACTION_INTERVAL
                ):
                    minute_retention = max(
                        timedelta(days=self.settings.minute_retention_days),
                        self.evaluator.minute_span + timedelta(hours=1),
                    )
                    events_service.compact(
                        session,
                        now=at,
                        minute_retention=minute_retention,
                        hour_retention=timedelta(days=self.settings.hour_retention_days),
                    )
                    self._last_compaction = at
        except Exception:
            # The tick's writes were rolled back, but the evaluator's memory (alert states,
            # status rows, the SLO records of that session) had moved on: a fresh evaluator
            # reloads from the database, so no transition is lost and no detached record reused.
            self.evaluator = Evaluator(history_interval=self.evaluator.history_interval)
            raise
        self.last_report = report
        self._evaluate_sources(at)
        self._log_failures(report)
        sourced = [] if self.last_source_report is None else self.last_source_report.transitions
        for transition in [*report.transitions, *sourced]:
            log.warning(
                "burn-rate alert %s: %s %s %s/%s (factor %.4g, burn %s/%s)",
                "FIRING" if transition.firing else "resolved",
                transition.slo_key,
                transition.severity,
                format_duration(timedelta(seconds=transition.long_seconds)),
                format_duration(timedelta(seconds=transition.short_seconds)),
                transition.factor,
                _rate(transition.long_burn_rate),
                _rate(transition.short_burn_rate),
            )
        return report

    def _evaluate_sources(self, at: datetime) -> None:
        """The Prometheus SLOs' tick, after the built-in one committed (so a slow Prometheus
        never delays the built-in SLOs), bounded by WATCHKEEPER_PROMETHEUS_DEADLINE_SECONDS."""

        def ingest(session: Session, transitions: list[Transition]) -> None:
            # In the transaction that stores them, as the built-in tick does.
            escalation_config.bind(session, self.settings)
            slo_alerts.ingest_slo_transitions(session, transitions, now=at)

        try:
            report = self.source_evaluator.tick(
                self.session_factory, self.sources, now=at, ingest=ingest
            )
        except Exception:  # the built-in tick is stored; the next tick retries these
            log.exception("Prometheus evaluation failed")
            self.last_source_report = None
            return
        self.last_source_report = report

    def _log_failures(self, report: TickReport) -> None:
        sourced = self.last_source_report
        if sourced is not None:
            report = TickReport(
                failures=[*report.failures, *sourced.failures],
                transitions=[*report.transitions, *sourced.transitions],
            )
        failing = {failure.slo_key: failure.error for failure in report.failures}
        for key, error in sorted(failing.items()):
            if self._failing.get(key) != error:
                log.error("SLO %s cannot be evaluated: %s", key, error)
        for key in sorted(set(self._failing) - set(failing)):
            log.warning("SLO %s is evaluated again", key)
        self._failing = failing

    @property
    def notifiers(self) -> Mapping[str, Notifier]:
        """The notifiers deliveries use (built from the settings on first use)."""
        if self._notifiers is None:
            self._notifiers = configured_notifiers(self.settings)
        return self._notifiers

    def deliver_once(self, now: datetime | None = None) -> DeliveryReport:
        """One delivery pass over the due notifications of the outbox."""
        settings = self.settings
        report = deliver_due(
            self.session_factory,
            now=now or self.clock(),
            notifiers=self.notifiers,
            max_attempts=settings.notify_max_attempts,
            lease=timedelta(seconds=settings.notify_lease_seconds),
            backoff_base=timedelta(seconds=settings.notify_backoff_base_seconds),
            backoff_cap=timedelta(seconds=settings.notify_backoff_cap_seconds),
        )
        self.last_delivery = report
        return report

    def incidents_once(self, now: datetime | None = None) -> list[int]:
        """Declare the incidents routing rules asked for; note incidents whose groups resolved.

        Each group is declared in a transaction of its own: a group that fails (any error) is
        logged and given up (``incident_failed`` in its log) and the others still go on."""
        at = now or self.clock()
        with session_scope(self.session_factory) as session:
            pending = incident_flows.pending_group_ids(session)
        declared: list[int] = []
        for group_id in pending:
            try:
                with session_scope(self.session_factory) as session:
                    incident_id = incident_flows.declare_for_group(
                        session, group_id=group_id, now=at
                    )
            except Exception as exc:
                if not isinstance(exc, WatchkeeperError):
                    incident_log.exception("alert group %s: declaring failed", group_id)
                try:
                    with session_scope(self.session_factory) as session:
                        incident_flows.give_up(session, group_id=group_id, error=exc, now=at)
                except Exception:  # e.g. the group was deleted since: the next pass decides
                    incident_log.exception("alert group %s: giving up failed", group_id)
                continue
            if incident_id is not None:
                declared.append(incident_id)
                incident_log.warning("incident #%s declared from an alert group", incident_id)
        with session_scope(self.session_factory) as session:
            incident_flows.note_resolved_groups(session, now=at)
        return declared

    def escalate_once(self, now: datetime | None = None) -> int:
        """Run every due escalation step, a batch per transaction; returns how many ran.

        On PostgreSQL each batch locks its groups with SKIP LOCKED, so several workers share
        the due steps and never run one twice."""
        at = now or self.clock()
        batch = self.settings.escalation_batch_size
        done = 0
        while True:
            with session_scope(self.session_factory) as session:
                escalation_config.bind(session, self.settings)
                ran = escalation.run_due(session, now=at, limit=batch)
            done += ran
            if ran < batch:
                return done

    def escalate_forever(self, stop: threading.Event) -> None:
        """Run due escalation steps every ``escalation_interval_seconds`` until ``stop``."""
        interval = self.settings.escalation_interval_seconds
        while not stop.is_set():
            try:
                self.escalate_once()
            except Exception:  # e.g. the database is away: the next pass retries
                escalation_log.exception("escalation pass failed")
            stop.wait(interval)

    def incidents_forever(self, stop: threading.Event) -> None:
        """Run the incident pass every ``incident_declare_seconds`` until ``stop``."""
        interval = self.settings.incident_declare_seconds
        while not stop.is_set():
            try:
                self.incidents_once()
            except Exception:  # e.g. the database is away: the next pass retries
                incident_log.exception("incident pass failed")
            stop.wait(interval)

    def wake(self) -> None:
        """Run a delivery pass now instead of at the next poll."""
        self._wake.set()

    def run_forever(self, stop: threading.Event) -> None:
        """Evaluate every ``evaluation_interval_seconds``; deliver, escalate and run the incident
        pass in three threads of their own."""
        if stop.is_set():
            return
        # Its own stop event: the loop ends whenever this one does (stop set, Ctrl-C, ...).
        delivery_stop = threading.Event()
        delivery = threading.Thread(
            target=self.deliver_forever,
            args=(delivery_stop,),
            name="watchkeeper-outbox",
            daemon=True,
        )
        delivery.start()
        escalating = threading.Thread(
            target=self.escalate_forever,
            args=(delivery_stop,),
            name="watchkeeper-escalation",
            daemon=True,
        )
        escalating.start()
        declaring = threading.Thread(
            target=self.incidents_forever,
            args=(delivery_stop,),
            name="watchkeeper-incidents",
            daemon=True,
        )
        declaring.start()
        interval = self.settings.evaluation_interval_seconds
        try:
            while True:
                try:
                    self.run_once()
                except Exception:  # a failing tick must not kill the worker; the next retries
                    log.exception("evaluation tick failed")
                if stop.wait(interval):
                    break
        finally:
            delivery_stop.set()
            self._wake.set()
            delivery.join(timeout=30)
            escalating.join(timeout=30)
            declaring.join(timeout=30)

    def deliver_forever(self, stop: threading.Event) -> None:
        """Deliver every ``outbox_poll_seconds``, or at once when woken, until ``stop``."""
        poll = self.settings.outbox_poll_seconds
        wakeup.subscribe(self.wake)
        try:
            while not stop.is_set():
                self._wake.clear()
                try:
                    report = self.deliver_once()
                except Exception:  # e.g. the database is away: the next pass retries
                    outbox_log.exception("delivery pass failed")
                    report = None
                if report is not None and report.outcomes:
                    continue  # there may be more due rows than one pass takes
                self._wake.wait(poll)
        finally:
            wakeup.unsubscribe(self.wake)


def _rate(value: float | None) -> str:
    return "no data" if value is None else f"{value:.5g}"


def start_in_thread(worker: Worker) -> tuple[threading.Thread, threading.Event]:
    """Run ``worker`` in a daemon thread; set the returned event to stop it."""
    stop = threading.Event()
    thread = threading.Thread(
        target=worker.run_forever, args=(stop,), name="watchkeeper-worker", daemon=True
    )
    thread.start()
    return thread, stop
