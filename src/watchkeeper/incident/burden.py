"""The burden alerts put on responders: alert noise per service and pages per responder by
business / off / sleep hours (:mod:`watchkeeper.core.hours`), from the alert groups and the
notification outbox; nothing is stored."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, tzinfo
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from watchkeeper.alerting import incident_feed
from watchkeeper.auth import people
from watchkeeper.core.hours import Hours, hours_of
from watchkeeper.errors import InvalidInput
from watchkeeper.notify import service as notify_service


@dataclass(frozen=True)
class Noise:
    """Alert groups of one service opened in a period: how many, how many resolved by their
    source without anyone acknowledging them, how many never acknowledged (open ones too)."""

    service: str
    groups: int
    auto_resolved_unacknowledged: int
    never_acknowledged: int

    @property
    def auto_resolved_ratio(self) -> float | None:
        """Share of groups that auto-resolved unacknowledged (None without groups)."""
        return self.auto_resolved_unacknowledged / self.groups if self.groups else None

    @property
    def never_acknowledged_ratio(self) -> float | None:
        """Share of groups nobody acknowledged (None without groups)."""
        return self.never_acknowledged / self.groups if self.groups else None


@dataclass(frozen=True)
class Pages:
    """Pages one responder got in a period, by the kind of hours in their own time zone."""

    responder: str
    time_zone: str
    business: int
    off: int
    sleep: int

    @property
    def total(self) -> int:
        """All pages of the responder."""
        return self.business + self.off + self.sleep


def _check(since: datetime, until: datetime) -> None:
    if since >= until:
        raise InvalidInput("since: must be before until")


def alert_noise(session: Session, *, since: datetime, until: datetime) -> list[Noise]:
    """Alert noise per service (groups without a service under ``""``) over ``[since, until)``.

    "Acknowledged" means acknowledged now: a group acknowledged and then unacknowledged
    counts as never acknowledged.
    """
    _check(since, until)
    totals: Counter[str] = Counter()
    auto: Counter[str] = Counter()
    unacked: Counter[str] = Counter()
    for group in incident_feed.groups_created_between(session, since=since, until=until):
        service = group.service or ""
        totals[service] += 1
        if group.acknowledged_at is None:
            unacked[service] += 1
            if group.resolved_at is not None and group.resolved_how == "source":
                auto[service] += 1
    return [
        Noise(
            service=service,
            groups=totals[service],
            auto_resolved_unacknowledged=auto[service],
            never_acknowledged=unacked[service],
        )
        for service in sorted(totals)
    ]


def _zone(name: str) -> tzinfo:
    try:
        return ZoneInfo(name)
    except (ValueError, OSError):  # a zone that vanished from the tz database: count in UTC
        return ZoneInfo("UTC")


def pages_by_hours(session: Session, *, since: datetime, until: datetime) -> list[Pages]:
    """Pages per responder over ``[since, until)``, classified in the responder's own time
    zone (UTC for a recipient who is no longer a user)."""
    _check(since, until)
    sent = notify_service.pages_sent(session, since=since, until=until)
    zones = {p.user.name: p.user.time_zone for p in people.list_users(session)}
    counts: dict[str, Counter[Hours]] = {}
    for responder, at in sent:
        zone = _zone(zones.get(responder, "UTC"))
        counts.setdefault(responder, Counter())[hours_of(at, zone)] += 1
    return [
        Pages(
            responder=responder,
            time_zone=zones.get(responder, "UTC"),
            business=counts[responder][Hours.BUSINESS],
            off=counts[responder][Hours.OFF],
            sleep=counts[responder][Hours.SLEEP],
        )
        for responder in sorted(counts)
    ]
