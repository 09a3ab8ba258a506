"""Incidents: the lifecycle rules and the response metrics (MTTA, MTTR, MTBF, target breaches).

Definitions (see docs/incidents.md for worked numbers):

- **MTTA** (mean time to acknowledge): mean of ``acknowledged_at - declared_at`` over the
  acknowledged incidents. It measures the response, so it starts when Watchkeeper knew of
  the incident, not at the (possibly back-dated) impact start.
- **MTTR** (mean time to recovery, "time to restore service" in DORA's four key metrics):
  mean of ``resolved_at - started_at`` over resolved incidents, from impact start.
- **MTBF** (mean time between failures), as the ITIL 4 glossary defines it: "the average time
  that a service can perform its agreed function without interruption, measured from when it
  starts working until it next fails". Per service, incidents are merged into outages
  (overlapping incidents are one outage) and MTBF is the mean of the gaps between one
  outage's end and the next one's start. The failure-to-failure interval (ITIL's MTBSI) is
  MTBF + MTTR. Incidents of different services are never paired.
- **Breaches**: an incident breaches its severity's response target when it was acknowledged
  later than the target after being declared, or is still unacknowledged past it at ``now``;
  its resolution target likewise from ``started_at`` to ``resolved_at`` (or ``now``).
- **Budget burned** during an incident: ``(bad / total) / (1 - objective) x interval /
  window``, the burn rate over the incident times the share of the SLO window it lasted:
  the fraction of the window's whole error budget the incident spent, assuming the incident
  saw the window's average traffic.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TypeVar

K = TypeVar("K", bound=Hashable)


class IncidentStatus(StrEnum):
    """Where an incident stands; the first three are open."""

    INVESTIGATING = "investigating"
    IDENTIFIED = "identified"
    MONITORING = "monitoring"
    RESOLVED = "resolved"


class IncidentRole(StrEnum):
    """Roles people hold in an incident; all but responder are held by one person at a time."""

    COMMANDER = "commander"
    COMMUNICATIONS = "communications"
    SCRIBE = "scribe"
    RESPONDER = "responder"


class TimelineKind(StrEnum):
    """What a timeline entry records."""

    DECLARED = "declared"
    STATUS = "status"
    SEVERITY = "severity"
    ROLE = "role"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"
    NOTE = "note"
    ALERT = "alert"
    NOTIFICATION = "notification"
    CHANGE = "change"
    SLO = "slo"


OPEN_STATUSES = (IncidentStatus.INVESTIGATING, IncidentStatus.IDENTIFIED, IncidentStatus.MONITORING)
SINGLE_HOLDER_ROLES = (IncidentRole.COMMANDER, IncidentRole.COMMUNICATIONS, IncidentRole.SCRIBE)


def transition_problem(current: IncidentStatus, target: IncidentStatus) -> str | None:
    """Why an incident cannot move from ``current`` to ``target``, or None when it may.

    Open statuses may move to any other open status (forward, or back when a fix did not
    hold) and to resolved. A resolved incident only moves by being reopened.
    """
    if current is target:
        return f"the incident is already {current.value}"
    if current is IncidentStatus.RESOLVED:
        return "the incident is resolved; reopen it first"
    return None


@dataclass(frozen=True)
class SeverityTargets:
    """A severity's response (acknowledge) and resolution targets; None means no target."""

    name: str
    rank: int
    response: timedelta | None = None
    resolution: timedelta | None = None


@dataclass(frozen=True)
class IncidentTimes:
    """The timestamps of one incident the metrics are computed from."""

    service: str | None
    severity: str
    declared_at: datetime
    started_at: datetime
    acknowledged_at: datetime | None = None
    resolved_at: datetime | None = None

    @property
    def is_open(self) -> bool:
        """True until the incident is resolved."""
        return self.resolved_at is None


@dataclass(frozen=True)
class IncidentMetrics:
    """Response figures of a group of incidents (None where nothing was measured)."""

    count: int
    open: int
    acknowledged: int
    resolved: int
    mtta: timedelta | None
    mttr: timedelta | None
    mtbf: timedelta | None
    response_breaches: int
    resolution_breaches: int
    resolved_unacknowledged: int = 0  # resolved without anyone acknowledging: not in MTTA


def _mean(values: Sequence[timedelta]) -> timedelta | None:
    if not values:
        return None
    return sum(values, timedelta()) / len(values)


def response_breached(incident: IncidentTimes, target: timedelta | None, now: datetime) -> bool:
    """True when the incident was (or still is not) acknowledged later than ``target``;
    resolving counts as the response for an incident nobody acknowledged."""
    if target is None:
        return False
    acknowledged = incident.acknowledged_at or incident.resolved_at or now
    return acknowledged - incident.declared_at > target


def resolution_breached(incident: IncidentTimes, target: timedelta | None, now: datetime) -> bool:
    """True when the incident was (or still is not) resolved later than ``target``."""
    if target is None:
        return False
    resolved = incident.resolved_at or now
    return resolved - incident.started_at > target


def uptime_gaps(incidents: Iterable[IncidentTimes], now: datetime) -> list[timedelta]:
    """Gaps between consecutive outages of one service (overlapping incidents merged)."""
    outages: list[tuple[datetime, datetime]] = []
    for incident in sorted(incidents, key=lambda i: i.started_at):
        end = incident.resolved_at or now
        if outages and incident.started_at <= outages[-1][1]:
            outages[-1] = (outages[-1][0], max(outages[-1][1], end))
        else:
            outages.append((incident.started_at, end))
    return [nxt[0] - prev[1] for prev, nxt in itertools.pairwise(outages)]


def summarize(
    incidents: Sequence[IncidentTimes],
    targets: Mapping[str, SeverityTargets],
    *,
    now: datetime,
) -> IncidentMetrics:
    """MTTA, MTTR, MTBF, counts and target breaches of ``incidents`` as of ``now``."""
    by_service: dict[str, list[IncidentTimes]] = {}
    for incident in incidents:
        # Incidents without a service are unrelated outages: no "time between" them.
        if incident.service is not None:
            by_service.setdefault(incident.service, []).append(incident)
    gaps = [gap for group in by_service.values() for gap in uptime_gaps(group, now)]
    acknowledged = [i for i in incidents if i.acknowledged_at is not None]
    resolved = [i for i in incidents if i.resolved_at is not None]
    response_breaches = resolution_breaches = 0
    for incident in incidents:
        target = targets.get(incident.severity)
        if target is None:
            continue
        response_breaches += response_breached(incident, target.response, now)
        resolution_breaches += resolution_breached(incident, target.resolution, now)
    return IncidentMetrics(
        count=len(incidents),
        open=sum(1 for i in incidents if i.is_open),
        acknowledged=len(acknowledged),
        resolved=len(resolved),
        mtta=_mean([i.acknowledged_at - i.declared_at for i in acknowledged if i.acknowledged_at]),
        mttr=_mean([i.resolved_at - i.started_at for i in resolved if i.resolved_at]),
        mtbf=_mean(gaps),
        response_breaches=response_breaches,
        resolution_breaches=resolution_breaches,
        resolved_unacknowledged=sum(
            1 for i in resolved if i.acknowledged_at is None and i.resolved_at is not None
        ),
    )


def in_period(
    incidents: Iterable[IncidentTimes], *, since: datetime, until: datetime
) -> list[IncidentTimes]:
    """Incidents whose impact started in ``[since, until)``."""
    return [i for i in incidents if since <= i.started_at < until]


def grouped(
    incidents: Sequence[IncidentTimes],
    targets: Mapping[str, SeverityTargets],
    *,
    key: Callable[[IncidentTimes], K],
    now: datetime,
) -> dict[K, IncidentMetrics]:
    """:func:`summarize` per group of ``key`` (e.g. service, severity, or both)."""
    groups: dict[K, list[IncidentTimes]] = {}
    for incident in incidents:
        groups.setdefault(key(incident), []).append(incident)
    return {k: summarize(v, targets, now=now) for k, v in groups.items()}


def burn_rate(*, bad: float, total: float, objective: float) -> float | None:
    """How fast events spent budget: the bad share over the allowed share; None without events."""
    if total <= 0:
        return None
    return (bad / total) / (1.0 - objective)


def budget_burned(*, bad: float, window_total: float, objective: float) -> float | None:
    """Share of an SLO window's error budget that ``bad`` events spent; None without events.

    ``bad / (window_total x (1 - objective))``: the window's budget is the number of bad
    events its whole traffic (``window_total``, the events of the window ending with the
    incident) allows, so a quiet-hour incident is not scaled up to the window's average.
    """
    if window_total <= 0:
        return None
    return bad / (window_total * (1.0 - objective))
