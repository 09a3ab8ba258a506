"""The stored world of the dashboard page benchmark (bench/pages.py): SLOs with 30 days of
evaluations, alert groups and incidents, written through the services where they exist.

- 1,000 SLOs over 40 services (built-in event store, one SLI each, tiers, owners, labels,
  objectives 99 % ... 99.95 %, rolling 30d / 28d / 7d windows);
- synthetic traffic per SLI at 5-minute steps for 60 days (a daily cycle, a steady error
  share, a few outages, a handful of SLOs burning right now): hourly buckets in the event
  store up to 4 hours ago, then 5-minute ones, so one worker tick (``Evaluator.tick``, as the
  worker runs it) writes every status, alert state and transition;
- 30 days of history rows every 10 minutes (4,320 per SLO), computed from the same traffic
  with cumulative sums and written with the repository writer the worker and backfill use,
  so the rows are the ones the worker would have stored;
- 10,000 alert groups through the webhook intake (mostly resolved, some firing,
  acknowledged or silenced) and 10,000 incidents through the incident services (mixed
  severities and states, timelines of 3 to 7 entries, some linked to groups and SLOs).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from watchkeeper.alerting import intake
from watchkeeper.alerting import service as alerting_service
from watchkeeper.alerting.models import AlertGroup
from watchkeeper.alerting.schemas import WebhookAlert
from watchkeeper.core.duration import parse_duration
from watchkeeper.core.slo import SLI, SLO, Alerting, RollingWindow
from watchkeeper.db import make_session_factory, session_scope
from watchkeeper.events import service as events_service
from watchkeeper.incident import declaration
from watchkeeper.incident import service as incident_service
from watchkeeper.incident.models import IncidentRecord
from watchkeeper.slo import repository as slo_repository
from watchkeeper.slo import rollup
from watchkeeper.slo import service as slo_service
from watchkeeper.slo.evaluator import Evaluator
from watchkeeper.slo.models import SLOHistory, SLOStatusRecord

STEP = 300  # seconds per traffic step (5 minutes)
HISTORY_EVERY = 2  # steps between history rows: every 10 minutes
HISTORY_DAYS = 30
LOOKBACK_DAYS = 30  # traffic before the first history row, for its 30-day window
RECENT_HOURS = 4  # the last hours stored at 5-minute resolution; hourly before
SERVICES = (
    "checkout",
    "payments",
    "cart",
    "search",
    "catalog",
    "accounts",
    "login",
    "orders",
    "shipping",
    "inventory",
    "pricing",
    "recommendations",
    "reviews",
    "notifications",
    "email",
    "sms",
    "push",
    "gateway",
    "edge",
    "cdn",
    "images",
    "video",
    "uploads",
    "billing",
    "invoices",
    "ledger",
    "fraud",
    "risk",
    "ads",
    "analytics",
    "reporting",
    "export",
    "import",
    "sync",
    "scheduler",
    "queue",
    "cache",
    "storage",
    "backup",
    "admin",
)
TIERS = ("tier-1", "tier-2", "tier-3")
TEAMS = ("core", "growth", "platform", "money", "data")
OBJECTIVES = (0.99, 0.995, 0.999, 0.9995)
WINDOWS = (timedelta(days=30), timedelta(days=30), timedelta(days=28), timedelta(days=7))
KINDS = ("availability", "latency", "freshness", "correctness", "throughput")
SEVERITIES = ("SEV1", "SEV2", "SEV3", "SEV4")


@dataclass(frozen=True)
class Sizes:
    """How much to store."""

    slos: int = 1_000
    alert_groups: int = 10_000
    incidents: int = 10_000
    history_slos: int | None = None  # SLOs with 30 days of history (None: all)


@dataclass(frozen=True)
class Seeded:
    """What the benchmark needs to know about the stored world."""

    now: datetime
    slo_keys: list[str]
    history_rows: int
    alert_groups: int
    incidents: int


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def build_slos(count: int) -> list[SLO]:
    """``count`` SLOs, 25 to a service, with tiers, owners and labels."""
    slos = []
    for i in range(count):
        service = SERVICES[(i // 25) % len(SERVICES)] + ("" if i < 25 * len(SERVICES) else f"-{i}")
        kind = KINDS[i % len(KINDS)]
        name = f"{kind}-{i:04d}"
        slos.append(
            SLO(
                service=service,
                name=name,
                sli=SLI(name=f"{service}-{name}"),
                objective=OBJECTIVES[i % len(OBJECTIVES)],
                window=RollingWindow(WINDOWS[i % len(WINDOWS)]),
                alerting=Alerting(),
                description=f"{kind} of {service}",
                owner=f"team-{TEAMS[i % len(TEAMS)]}",
                tier=TIERS[i % len(TIERS)],
                labels={"team": TEAMS[i % len(TEAMS)], "region": ("eu", "us", "ap")[i % 3]},
            )
        )
    return slos


def traffic(slos: list[SLO], steps: int, seed: int = 11) -> tuple[np.ndarray, np.ndarray]:
    """(good, total) per SLO and 5-minute step: a daily cycle, a steady error share of part
    of the budget, two or three past outages, and every 40th SLO burning in the last hour."""
    rng = np.random.default_rng(seed)
    count = len(slos)
    hours = (np.arange(steps) * STEP / 3600.0) % 24
    daily = 1.0 + 0.6 * np.sin((hours - 9) / 24 * 2 * np.pi)
    base = rng.integers(200, 6_000, size=(count, 1))
    # Noise by vectorised rounding: per-element Poisson and binomial draws take minutes here.
    noise = rng.normal(1.0, 0.05, size=(count, steps))
    total = np.maximum(0, np.rint(base * daily[np.newaxis, :] * noise)).astype(np.int64)
    budget = np.array([1 - s.objective for s in slos])[:, np.newaxis]
    share = np.repeat(budget * rng.uniform(0.1, 0.9, size=(count, 1)), steps, axis=1)
    for row in range(count):
        for _ in range(rng.integers(2, 4)):
            start = int(rng.integers(0, steps - 12))
            share[row, start : start + int(rng.integers(3, 24))] = rng.uniform(0.02, 0.2)
        if row % 40 == 0:
            share[row, -12:] = 0.25
    expected = total * np.clip(share, 0.0, 1.0)
    bad = np.minimum(total, np.floor(expected + rng.random(size=(count, steps)))).astype(np.int64)
    return total - bad, total


def _labels_of(session: Session, slo_ids: list[int]) -> list[list[str]]:
    """The window labels the worker stored for each SLO (its status row's counts)."""
    rows = {r.slo_id: r for r in session.scalars(select(SLOStatusRecord))}
    labels = []
    for slo_id in slo_ids:
        row = rows.get(slo_id)
        assert row is not None and row.window_counts is not None, "the tick stored no counts"
        labels.append(list(row.window_counts))
    return labels


def _window_sums(cumulative: np.ndarray, ends: np.ndarray, length: int) -> np.ndarray:
    """Sums over the ``length`` steps before each end (cumulative has a leading zero)."""
    return cumulative[ends] - cumulative[np.maximum(ends - length, 0)]


def _store_events(
    session_factory: Callable[[], Session],
    slos: list[SLO],
    good: np.ndarray,
    total: np.ndarray,
    first: int,
    now: datetime,
) -> None:
    """Hourly buckets up to RECENT_HOURS ago, 5-minute ones since, for the SLO windows."""
    steps = total.shape[1]
    per_hour = 3600 // STEP
    recent = RECENT_HOURS * per_hour
    for start in range(0, len(slos), 50):
        rows: list[tuple[str, float, int, int]] = []
        hourly: list[tuple[str, float, int, int]] = []
        for row in range(start, min(start + 50, len(slos))):
            name = slos[row].sli.name
            cut = steps - recent
            g_hours = good[row, :cut].reshape(-1, per_hour).sum(axis=1).tolist()
            t_hours = total[row, :cut].reshape(-1, per_hour).sum(axis=1).tolist()
            for hour, (g, t) in enumerate(zip(g_hours, t_hours, strict=True)):
                hourly.append((name, float(first + hour * 3600), g, t))
            for step in range(cut, steps):
                moment = float(first + step * STEP)
                rows.append((name, moment, int(good[row, step]), int(total[row, step])))
        with session_scope(session_factory) as session:
            events_service.import_counts(session, hourly, now=now, resolution=3600)
            events_service.import_counts(session, rows, now=now)


def _store_history(
    session_factory: Callable[[], Session],
    ids: list[int],
    slos: list[SLO],
    good: np.ndarray,
    total: np.ndarray,
    first: int,
    lookback_steps: int,
    labels: list[list[str]],
) -> int:
    """History rows every 10 minutes over the last 30 days, as the worker stores them."""
    steps = total.shape[1]
    # Up to the step before now: the tick stores the row at now itself.
    ends = np.arange(lookback_steps, steps, HISTORY_EVERY)
    ats = [datetime.fromtimestamp(first + int(e) * STEP, UTC) for e in ends]
    written = 0
    for row, (slo_id, slo) in enumerate(zip(ids, slos, strict=True)):
        lengths = {
            label: int(parse_duration(label).total_seconds()) // STEP for label in labels[row]
        }
        cum_good = np.concatenate(([0], np.cumsum(good[row])))
        cum_total = np.concatenate(([0], np.cumsum(total[row])))
        assert isinstance(slo.window, RollingWindow)
        span = int(slo.window.duration.total_seconds()) // STEP
        period_good = _window_sums(cum_good, ends, span)
        period_total = _window_sums(cum_total, ends, span)
        sli = period_good / period_total
        remaining = 1 - ((period_total - period_good) / period_total) / (1 - slo.objective)
        # JSON text as the worker writes it, built with one format per row (json.dumps per
        # row would dominate the seeding time).
        template = "{" + ", ".join(f'"{label}": [%d, %d]' for label in lengths) + "}"
        pairs = np.stack(
            [
                column
                for length in lengths.values()
                for column in (
                    _window_sums(cum_good, ends, length),
                    _window_sums(cum_total, ends, length),
                )
            ],
            axis=1,
        ).tolist()
        counts = [template % tuple(pair) for pair in pairs]
        size = len(ends)
        batch = slo_repository.StatusBatch(
            slo_id=[slo_id] * size,
            objective=[slo.objective] * size,
            good=period_good.astype(float).tolist(),
            total=period_total.astype(float).tolist(),
            sli=sli.tolist(),
            budget_remaining=remaining.tolist(),
            window_counts=counts,  # type: ignore[arg-type]
            exhaustion_at=[None] * size,
            error=[None] * size,
        )
        with session_scope(session_factory) as session:
            slo_repository.append_history_at(session, batch, ats=ats)
            # The hourly rollup the worker keeps beside its history (30-day charts read it).
            rollup.rebuild(
                session, slo_id=slo_id, slo=slo, start=ats[0], end=ats[-1] + timedelta(hours=1)
            )
        written += size
        if row % 100 == 99:
            _say(f"  history: {row + 1} SLOs, {written:,} rows")
    return written


def seed_slos(engine: Engine, sizes: Sizes, now: datetime) -> tuple[list[str], int]:
    """Apply the SLOs, store their traffic, run one worker tick and write their history."""
    session_factory = make_session_factory(engine)
    slos = build_slos(sizes.slos)
    with session_scope(session_factory) as session:
        slo_service.upsert(session, slos=slos, formats={}, now=now)
    lookback_steps = LOOKBACK_DAYS * 86_400 // STEP
    steps = lookback_steps + HISTORY_DAYS * 86_400 // STEP
    end = int(now.timestamp()) // STEP * STEP
    first = end - steps * STEP
    began = time.perf_counter()
    good, total = traffic(slos, steps)
    _say(f"  traffic computed ({time.perf_counter() - began:.1f} s); storing buckets ...")
    # The event store keeps what the SLO windows need: the last 30 days.
    keep = steps - lookback_steps
    _store_events(
        session_factory,
        slos,
        good[:, -keep:],
        total[:, -keep:],
        first + lookback_steps * STEP,
        now,
    )
    _say(f"  buckets stored ({time.perf_counter() - began:.1f} s); one worker tick ...")
    with session_scope(session_factory) as session:
        report = Evaluator().tick(session, now=now)
    _say(f"  tick: {report.evaluated} SLOs evaluated, {len(report.failures)} failing")
    with session_scope(session_factory) as session:
        records = {r.key: r.id for r in slo_service.list_slos(session)}
        ids = [records[slo.key] for slo in slos]
        labels = _labels_of(session, ids)
    chosen = slice(0, sizes.history_slos)
    rows = _store_history(
        session_factory,
        ids[chosen],
        slos[chosen],
        good[chosen],
        total[chosen],
        first,
        lookback_steps,
        labels[chosen],
    )
    _say(f"  history: {rows:,} rows ({time.perf_counter() - began:.1f} s)")
    return [slo.key for slo in slos], rows


def seed_alert_groups(engine: Engine, count: int, slo_services: list[str], now: datetime) -> None:
    """``count`` groups through the webhook intake over 30 days: 90 % resolved, 4 % firing,
    4 % acknowledged, 2 % silenced (each with its log)."""
    session_factory = make_session_factory(engine)
    rng = np.random.default_rng(5)
    with session_scope(session_factory) as session:
        integration = alerting_service.create_integration(
            session,
            name=f"bench-webhook-{count}-{int(now.timestamp())}",
            type="webhook",
            now=now - timedelta(days=31),
        )
    offsets = np.sort(rng.uniform(0, 30 * 86_400, size=count))[::-1]
    for start in range(0, count, 500):
        with session_scope(session_factory) as session:
            for number in range(start, min(start + 500, count)):
                opened = now - timedelta(seconds=float(offsets[number]))
                service = slo_services[number % len(slo_services)]
                alert = WebhookAlert(
                    title=f"{service}: error rate above threshold ({number})",
                    message="5xx share above 5 % for 10 minutes",
                    dedup_key=f"bench-{number}",
                    severity=("critical", "warning", "info")[number % 3],
                    labels={"service": service, "team": TEAMS[number % len(TEAMS)]},
                    link="https://grafana.example/d/errors",
                )
                group = intake.ingest_webhook(
                    session, integration=integration, alert=alert, now=opened
                )
                assert group is not None
                later = min(now, opened + timedelta(minutes=int(rng.integers(2, 90))))
                state = number % 50
                if state < 2:  # 4 % firing: nothing more
                    continue
                if state < 4:
                    alerting_service.acknowledge(
                        session, group_id=group.id, actor="alex", now=later
                    )
                elif state < 5:
                    alerting_service.silence(
                        session,
                        group_id=group.id,
                        until=now + timedelta(hours=4),
                        actor="alex",
                        now=later,
                    )
                else:
                    if state % 3 == 0:
                        alerting_service.acknowledge(
                            session, group_id=group.id, actor="alex", now=later
                        )
                    alerting_service.resolve(session, group_id=group.id, actor="alex", now=later)
        _say(f"  alert groups: {min(start + 500, count):,}")


def seed_incidents(engine: Engine, count: int, slo_keys: list[str], now: datetime) -> None:
    """``count`` incidents over a year: 98 % resolved, the rest open in every status, each
    with a timeline (declared, commander, acknowledged, status changes, a note, resolved)."""
    session_factory = make_session_factory(engine)
    rng = np.random.default_rng(9)
    offsets = np.sort(rng.uniform(3_600, 365 * 86_400, size=count))[::-1]
    for start in range(0, count, 250):
        with session_scope(session_factory) as session:
            for number in range(start, min(start + 250, count)):
                declared = now - timedelta(seconds=float(offsets[number]))
                key = slo_keys[number % len(slo_keys)]
                service = key.split("/")[0]
                incident = declaration.declare(
                    session,
                    title=f"{service} degraded ({number})",
                    severity=SEVERITIES[min(3, int(rng.integers(0, 8)) // 2)],
                    actor="alex",
                    now=declared,
                    service=service,
                    summary="Customers see errors on the main path.",
                    commander="alex",
                    slo_keys=[key] if number % 4 == 0 else [],
                )
                step = timedelta(minutes=int(rng.integers(3, 40)))
                at = declared + step
                incident_service.acknowledge(session, incident_id=incident.id, actor="sam", now=at)
                open_state = number % 50 == 0
                if open_state and number % 150 == 0:
                    continue
                at += step
                incident_service.set_status(
                    session, incident_id=incident.id, status="identified", actor="sam", now=at
                )
                incident_service.add_note(
                    session,
                    incident_id=incident.id,
                    text="Rolled back the last deploy; error rate falling.",
                    actor="sam",
                    now=at,
                )
                if open_state and number % 100 == 0:
                    continue
                at += step
                incident_service.set_status(
                    session, incident_id=incident.id, status="monitoring", actor="sam", now=at
                )
                if open_state:
                    continue
                incident_service.resolve(
                    session, incident_id=incident.id, actor="sam", now=min(now, at + step)
                )
        _say(f"  incidents: {min(start + 250, count):,}")


def seed(engine: Engine, sizes: Sizes, now: datetime) -> Seeded:
    """Store the whole world; returns what the benchmark requests."""
    began = time.perf_counter()
    # On a step boundary, so the tick's 5-minute window holds the last stored step.
    now = datetime.fromtimestamp(int(now.timestamp()) // STEP * STEP, UTC)
    _say(f"seeding {sizes.slos:,} SLOs ...")
    keys, rows = seed_slos(engine, sizes, now)
    services = sorted({key.split("/")[0] for key in keys})
    _say(f"seeding {sizes.alert_groups:,} alert groups ...")
    seed_alert_groups(engine, sizes.alert_groups, services, now)
    _say(f"seeding {sizes.incidents:,} incidents ...")
    seed_incidents(engine, sizes.incidents, keys, now)
    _say(f"seeded in {time.perf_counter() - began:.0f} s")
    return Seeded(now, keys, rows, sizes.alert_groups, sizes.incidents)


def stored(engine: Engine) -> Seeded:
    """What an earlier run seeded (``--reuse``)."""
    with session_scope(make_session_factory(engine)) as session:
        present = {r.key for r in slo_service.list_slos(session)}
        # In the order they were built: the first is the one burning now.
        keys = [slo.key for slo in build_slos(len(present)) if slo.key in present]
        rows = session.scalar(select(func.count()).select_from(SLOHistory)) or 0
        newest = session.scalar(select(func.max(SLOHistory.at)))
        groups = session.scalar(select(func.count()).select_from(AlertGroup)) or 0
        incidents = session.scalar(select(func.count()).select_from(IncidentRecord)) or 0
    return Seeded(newest or datetime.now(UTC), keys, rows, groups, incidents)
