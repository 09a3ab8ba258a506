"""Who covers every schedule over a span: final schedules, gaps and overrides in one read."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from watchkeeper.core.schedule import Override, Shift, final_schedule, gaps_between, oncall_at
from watchkeeper.core.schedule_text import ScheduleError
from watchkeeper.oncall import service
from watchkeeper.oncall.documents import stored_schedule
from watchkeeper.specs.problems import SpecError


@dataclass(frozen=True)
class Coverage:
    """One schedule over a span; ``error`` says why a stored schedule could not be read."""

    name: str
    time_zone: str
    source: str
    oncall_now: tuple[str, ...] = ()
    shifts: list[Shift] = field(default_factory=list)
    gaps: list[tuple[datetime, datetime]] = field(default_factory=list)
    overrides: tuple[Override, ...] = ()
    error: str | None = None


def coverage(
    session: Session,
    *,
    start: datetime,
    end: datetime,
    now: datetime,
    offset: int = 0,
    limit: int | None = None,
) -> tuple[int, list[Coverage]]:
    """How many schedules there are, and for those in [offset, offset + limit) by name: the
    final schedule and gaps of [start, end), who is on call at ``now`` and the overrides."""
    service.span_end(end, timedelta(0), field_name="end")
    records = service.list_schedules(session)
    chosen = records[offset : None if limit is None else offset + limit]
    found: list[Coverage] = []
    for record in chosen:
        base = Coverage(record.name, record.time_zone, record.source)
        try:
            resolved = stored_schedule(record.spec, record.name)
            shifts = final_schedule(resolved, start, end)
            found.append(
                Coverage(
                    record.name,
                    record.time_zone,
                    record.source,
                    oncall_now=oncall_at(resolved, now),
                    shifts=shifts,
                    gaps=gaps_between(shifts, start, end),
                    overrides=resolved.overrides,
                )
            )
        except SpecError as exc:  # one unreadable schedule is shown failing; the rest carry on
            found.append(_failing(base, exc.detail))
        except ScheduleError as exc:
            found.append(_failing(base, str(exc)))
    return len(records), found


def _failing(base: Coverage, message: str) -> Coverage:
    return Coverage(base.name, base.time_zone, base.source, error=message)
