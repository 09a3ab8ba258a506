"""Silences and maintenance windows: alerts whose labels match every matcher do not page
between start and end. A maintenance window is a silence of kind ``maintenance`` (usually a
``service=`` matcher and a reason), counted apart."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from watchkeeper.alerting import grouping, repository, service
from watchkeeper.alerting.exceptions import InvalidSilence, SilenceNotFound
from watchkeeper.alerting.grouping import SILENCED
from watchkeeper.alerting.models import Silence
from watchkeeper.core.duration import format_duration
from watchkeeper.core.matchers import parse_matchers


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def ends_after(starts_at: datetime, duration: timedelta, *, field: str) -> datetime:
    """``starts_at`` plus ``duration``; an end past what a datetime holds is refused naming
    ``field``."""
    try:
        return starts_at + duration
    except OverflowError:
        raise InvalidSilence(
            f"{field}: {format_duration(duration)} ends after the year 9999"
        ) from None


def create(
    session: Session,
    *,
    matchers: Sequence[str],
    starts_at: datetime,
    ends_at: datetime,
    comment: str,
    created_by: str,
    now: datetime,
    kind: str = "silence",
) -> Silence:
    """Create a silence (or maintenance window); matching firing groups are silenced now."""
    if not matchers:
        raise InvalidSilence("matchers: give at least one matcher, e.g. service=checkout")
    try:
        parsed = parse_matchers(matchers)
    except ValueError as exc:
        raise InvalidSilence(f"matchers: {exc}") from None
    if ends_at <= starts_at:
        raise InvalidSilence("ends_at: must be after starts_at")
    if ends_at <= now:
        raise InvalidSilence("ends_at: must be in the future")
    row = Silence(
        matchers=[str(m) for m in parsed],
        starts_at=starts_at,
        ends_at=ends_at,
        comment=comment,
        created_by=created_by,
        created_at=now,
        kind=kind,
        silenced_count=0,
    )
    repository.add(session, row)
    if starts_at <= now:
        grouping.apply_silence(session, row, now=now)
    session.flush()
    return row


def list_silences(
    session: Session, *, now: datetime, include_expired: bool = False
) -> list[Silence]:
    """Silences and maintenance windows, newest first."""
    return repository.silences(session, include_expired=include_expired, now=now)


def expire(session: Session, *, silence_id: int, now: datetime) -> Silence:
    """End a silence now; its groups fire again at once."""
    row = repository.silence(session, silence_id)
    if row is None:
        raise SilenceNotFound(f"no silence {silence_id}")
    if row.ends_at > now:
        row.ends_at = max(now, row.starts_at)
        for group in repository.unresolved_groups(session):
            if group.silence_id == row.id and group.status == SILENCED:
                group.silenced_until = row.ends_at
    service.expire_silences(session, now=now)
    return row


def document(row: Silence, *, now: datetime) -> dict[str, Any]:
    """A silence as the API and CLI show it."""
    state = "expired" if row.ends_at <= now else ("active" if row.starts_at <= now else "pending")
    return {
        "id": row.id,
        "kind": row.kind,
        "matchers": row.matchers,
        "starts_at": _iso(row.starts_at),
        "ends_at": _iso(row.ends_at),
        "comment": row.comment,
        "created_by": row.created_by,
        "state": state,
        "silenced_count": row.silenced_count,
    }
