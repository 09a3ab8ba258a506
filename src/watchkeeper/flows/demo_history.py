"""The demo's past: months of checkout traffic with its outages, the incidents they caused
(acknowledged and resolved), the pages they sent, and the last days of SLO evaluations, so
the leadership trends and the SLO chart have something to show at once.

Everything written here is marked as demo history: incident titles and page titles carry
HISTORY_MARK. Old months are hourly counts; the simulator's minute backfill covers the
last days, and outages there are added to its minutes.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from watchkeeper.demo.simulator import LATENCY_SLI, REQUESTS_SLI, Profile
from watchkeeper.events import service as events_service
from watchkeeper.incident import declaration
from watchkeeper.incident import service as incident_service
from watchkeeper.notify import service as notify_service
from watchkeeper.notify.message import Message
from watchkeeper.slo import backfill as slo_backfill

HISTORY_MARK = "[demo history]"
SLO_KEYS = ("checkout/availability", "checkout/latency")
HOUR = 3600
MINUTE = 60


@dataclass(frozen=True)
class PastIncident:
    """One outage of the demo's past: when, how bad, and how the response went."""

    days_ago: float
    severity: str
    title: str
    minutes: int  # of impact, resolved at its end
    acknowledged_after: int | None  # minutes after declaring; None: nobody acknowledged
    error_ratio: float


# Spread over six months; the third month back has the long outage that misses the SLO.
PAST_INCIDENTS = (
    PastIncident(170, "SEV3", "Card tokenizer timeouts", 50, 6, 0.04),
    PastIncident(158, "SEV4", "Slow receipts e-mail", 90, 25, 0.0),
    PastIncident(131, "SEV2", "Checkout errors after config push", 40, 4, 0.2),
    PastIncident(117, "SEV4", "Retry storm on the cart service", 30, None, 0.01),
    PastIncident(96, "SEV1", "Payment provider outage", 200, 2, 0.35),
    PastIncident(88, "SEV3", "Elevated latency in eu-west", 120, 12, 0.01),
    PastIncident(64, "SEV2", "Database failover", 35, 3, 0.25),
    PastIncident(41, "SEV3", "Coupon service errors", 45, 9, 0.05),
    PastIncident(22, "SEV4", "Flaky health checks", 25, 30, 0.0),
    PastIncident(9, "SEV2", "Bad deploy of checkout v2.14", 25, 5, 0.3),
    PastIncident(1.3, "SEV3", "Inventory lookups failing", 30, 7, 0.08),
)
# Pages that led to no incident (short blips), as days ago.
OTHER_PAGES = (150.4, 122.9, 101.1, 75.6, 52.2, 33.95, 15.3, 4.1)


@dataclass(frozen=True)
class SeededHistory:
    """What was seeded: incidents (ids 1..incidents in a fresh database) and pages."""

    incidents: int
    pages: int
    history_points: int


def _outages(now: datetime, past: tuple[PastIncident, ...]) -> list[tuple[float, float, float]]:
    """(start, end, error ratio) of the past outages in Unix seconds."""
    return [
        (
            (now - timedelta(days=p.days_ago)).timestamp(),
            (now - timedelta(days=p.days_ago) + timedelta(minutes=p.minutes)).timestamp(),
            p.error_ratio,
        )
        for p in past
    ]


def _bad(rng: random.Random, total: int, ratio: float) -> int:
    mean = total * ratio
    return max(0, min(total, round(rng.gauss(mean, max(mean, 1e-9) ** 0.5))))


def _overlap(start: int, length: int, outage: tuple[float, float, float]) -> float:
    return max(0.0, min(start + length, outage[1]) - max(start, outage[0])) / length


def _traffic(
    session: Session,
    *,
    now: datetime,
    since: datetime,
    minutes_from: datetime,
    past: tuple[PastIncident, ...],
    seed: int,
) -> None:
    """Hourly counts over ``[since, minutes_from)`` and the outages' extra bad minutes after
    it (the simulator's backfill holds the healthy minutes there)."""
    rng = random.Random(seed)
    profile = Profile()
    per_hour = profile.requests_per_second * HOUR
    outages = _outages(now, past)
    counts: list[tuple[str, float, int, int]] = []
    first, last = (
        int(since.timestamp()) // HOUR * HOUR,
        int(minutes_from.timestamp()) // HOUR * HOUR,
    )
    for start in range(first, last, HOUR):
        hit = [(_overlap(start, HOUR, o), o[2]) for o in outages]
        ratio = profile.error_ratio + sum(share * r for share, r in hit)
        slow = profile.slow_ratio + sum(share * r for share, r in hit)
        counts.append((REQUESTS_SLI, start, per_hour - _bad(rng, per_hour, ratio), per_hour))
        counts.append((LATENCY_SLI, start, per_hour - _bad(rng, per_hour, slow), per_hour))
    events_service.import_counts(session, counts, now=now, resolution=HOUR)
    per_minute = profile.requests_per_second * MINUTE
    minutes: list[tuple[str, float, int, int]] = []
    for begin, end, ratio in outages:
        for start in range(max(int(begin) // MINUTE * MINUTE, last), int(end), MINUTE):
            # Imports add to the healthy minute stored already: twice the traffic, and the
            # outage's errors in the added half.
            bad = _bad(rng, per_minute, 2 * ratio)
            minutes.append((REQUESTS_SLI, start, per_minute - bad, per_minute))
            minutes.append((LATENCY_SLI, start, per_minute - bad, per_minute))
    events_service.import_counts(session, minutes, now=now, resolution=MINUTE)


def _incidents(
    session: Session, *, now: datetime, responder: str, seeded: tuple[PastIncident, ...]
) -> list[tuple[int, datetime]]:
    """Declare, acknowledge and resolve the past incidents; (id, declared at) of each."""
    made = []
    for past in seeded:
        started = now - timedelta(days=past.days_ago)
        # Declared a few minutes into the impact, as when a page comes first.
        declared = started + timedelta(minutes=min(4, past.minutes // 4))
        incident = declaration.declare(
            session,
            title=f"{HISTORY_MARK} {past.title}",
            severity=past.severity,
            actor=responder,
            now=declared,
            service="checkout",
            commander=responder,
            slo_keys=SLO_KEYS[:1],
            started_at=started,
        )
        if past.acknowledged_after is not None:
            incident_service.acknowledge(
                session,
                incident_id=incident.id,
                actor=responder,
                now=declared + timedelta(minutes=past.acknowledged_after),
            )
        incident_service.resolve(
            session,
            incident_id=incident.id,
            actor=responder,
            now=started + timedelta(minutes=past.minutes),
            note="demo history",
        )
        made.append((incident.id, declared))
    return made


def _pages(
    session: Session,
    *,
    now: datetime,
    months: int,
    responder: str,
    incidents: list[tuple[int, datetime]],
) -> int:
    """Delivered pages to ``responder``: one per past incident, and a few blips."""
    sent: list[tuple[int | None, datetime]] = [
        (i, at - timedelta(minutes=1)) for i, at in incidents
    ]
    sent += [(None, now - timedelta(days=days)) for days in OTHER_PAGES if days < months * 31]
    items = [
        (
            notify_service.Outgoing(
                channel="console",
                address=responder,
                recipient=responder,
                message=Message(
                    kind="page",
                    title=f"{HISTORY_MARK} checkout/availability is burning its error budget",
                    summary="A past page, seeded by the demo.",
                    incident_id=incident_id,
                ),
                idempotency_key=f"demo-history-page-{at.timestamp():.0f}",
            ),
            at,
        )
        for incident_id, at in sent
    ]
    notify_service.record_delivered(session, items)
    return len(items)


def seed(
    session: Session,
    *,
    now: datetime,
    months: int,
    minutes_from: datetime,
    chart_days: float,
    interval: timedelta,
    responder: str,
    seed: int = 5,
) -> SeededHistory:
    """Seed ``months`` of history before ``now`` (hourly counts up to ``minutes_from``, where
    the minute backfill starts), the past incidents and pages, and ``chart_days`` of SLO
    evaluations at ``interval``. Run on the demo's fresh database, after its specs."""
    since = now - timedelta(days=31 * months)
    past = tuple(p for p in PAST_INCIDENTS if now - timedelta(days=p.days_ago) > since)
    _traffic(session, now=now, since=since, minutes_from=minutes_from, past=past, seed=seed)
    incidents = _incidents(session, now=now, responder=responder, seeded=past)
    pages = _pages(session, now=now, months=months, responder=responder, incidents=incidents)
    points = 0
    for key in SLO_KEYS:
        result = slo_backfill.backfill(
            session, key=key, now=now, interval=interval, start=now - timedelta(days=chart_days)
        )
        points += result.points
    return SeededHistory(incidents=len(incidents), pages=pages, history_points=points)
