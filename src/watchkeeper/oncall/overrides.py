"""Overrides added to a stored schedule one at a time (the dashboard's "add override").

A schedule's YAML can list overrides too; one added here is stored in the schedule's document
like those, so re-applying YAML that lacks it replaces it (the YAML is the whole schedule).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from watchkeeper.auth import people
from watchkeeper.core.schedule import Override
from watchkeeper.errors import InvalidInput
from watchkeeper.oncall import service
from watchkeeper.oncall.documents import calendar_origin, stored_schedule

# Longer stretches are rotations, not overrides: a year is far past any holiday swap.
MAX_OVERRIDE = timedelta(days=366)


def add_override(
    session: Session,
    *,
    schedule: str,
    user: str,
    start: datetime,
    end: datetime,
    now: datetime,
) -> Override:
    """Put ``user`` on call in ``schedule`` for [start, end), whatever its layers say."""
    if start.tzinfo is None or end.tzinfo is None:
        raise InvalidInput("start: override times need a UTC offset")
    if end <= start:
        raise InvalidInput("end: must be after start")
    if end <= now:
        raise InvalidInput("end: the override would already be over")
    if end - start > MAX_OVERRIDE:
        raise InvalidInput(f"end: an override lasts at most {MAX_OVERRIDE.days} days")
    service.span_end(end, timedelta(0), field_name="end")
    people.get_user(session, name=user)
    record = service.schedule_record(session, name=schedule)
    current = stored_schedule(record.spec, record.name)
    override = Override(user, start, end)
    updated = replace(current, overrides=(*current.overrides, override))
    service.store_schedule(
        session,
        schedule=updated,
        source=record.source,
        now=now,
        origin=calendar_origin(record.spec),
    )
    session.flush()
    return override
