"""Simulated checkout traffic: a week of healthy history, then live events with a fault.

Rows go through the event store's ingest service, exactly as API batches do.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from watchkeeper.db import session_scope, utcnow
from watchkeeper.events import service as events_service

log = logging.getLogger("watchkeeper.demo")

REQUESTS_SLI = "checkout-requests"
LATENCY_SLI = "checkout-latency"


@dataclass(frozen=True)
class Profile:
    """Traffic shape: requests per second and how often they fail or are slow."""

    requests_per_second: int = 40
    error_ratio: float = 0.0004
    slow_ratio: float = 0.004
    fault_error_ratio: float = 0.35
    fault_slow_ratio: float = 0.30


def backfill(session: Session, *, now: datetime, days: int, profile: Profile, seed: int = 7) -> int:
    """Import ``days`` of healthy per-minute counts before ``now``; returns buckets written.

    History arrives as pre-aggregated counts (as when importing from another system); live
    traffic sends individual rows and raw latency values.
    """
    rng = random.Random(seed)
    first = int((now - timedelta(days=days)).timestamp()) // 60 * 60
    last = int(now.timestamp()) // 60 * 60
    per_minute = profile.requests_per_second * 60
    counts: list[tuple[str, int, int, int]] = []
    for start in range(first, last, 60):
        bad = _binomial(rng, per_minute, profile.error_ratio)
        slow = _binomial(rng, per_minute, profile.slow_ratio)
        counts.append((REQUESTS_SLI, start, per_minute - bad, per_minute))
        counts.append((LATENCY_SLI, start, per_minute - slow, per_minute))
    return events_service.import_counts(session, counts, now=now)


def _binomial(rng: random.Random, trials: int, probability: float) -> int:
    mean = trials * probability
    return max(0, min(trials, round(rng.gauss(mean, max(mean, 1e-9) ** 0.5))))


class Simulator:
    """Sends one second of checkout traffic per tick; the fault starts after ``fault_after``."""

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        *,
        profile: Profile = Profile(),
        fault_after: timedelta = timedelta(minutes=1),
        clock: Callable[[], datetime] = utcnow,
        seed: int = 11,
    ) -> None:
        self.session_factory = session_factory
        self.profile = profile
        self.clock = clock
        self.started = clock()
        self.fault_at = self.started + fault_after
        self.rng = random.Random(seed)
        self.fault_announced = False

    def faulty(self, now: datetime) -> bool:
        """Whether the injected fault is active at ``now``."""
        return now >= self.fault_at

    def send_second(self, now: datetime) -> int:
        """Ingest one second of requests and latency observations; returns rows sent."""
        p = self.profile
        faulty = self.faulty(now)
        if faulty and not self.fault_announced:
            log.warning("demo: fault injected: %.0f%% of checkouts fail", p.fault_error_ratio * 100)
            self.fault_announced = True
        error_ratio = p.fault_error_ratio if faulty else p.error_ratio
        slow_ratio = p.fault_slow_ratio if faulty else p.slow_ratio
        stamp = now.timestamp()
        total = p.requests_per_second
        bad = sum(1 for _ in range(total) if self.rng.random() < error_ratio)
        rows: list[dict[str, Any]] = [
            {"time": stamp, "sli": REQUESTS_SLI, "good": total - bad, "total": total}
        ]
        for _ in range(total):
            slow = self.rng.random() < slow_ratio
            value = self.rng.uniform(0.35, 1.5) if slow else self.rng.uniform(0.03, 0.25)
            rows.append({"time": stamp, "sli": LATENCY_SLI, "value": value})
        with session_scope(self.session_factory) as session:
            events_service.ingest(session, rows, now=now)
        return len(rows)

    def run(self, stop: threading.Event) -> None:
        """Send a second of traffic every second until ``stop`` is set."""
        while not stop.is_set():
            try:
                self.send_second(self.clock())
            except Exception:  # the demo keeps going; the error is shown
                log.exception("demo simulator failed to send events")
            stop.wait(1.0)
