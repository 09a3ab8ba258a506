"""What the on-call domain hands out: recipients for escalation, and API documents."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel


@dataclass(frozen=True)
class Recipient:
    """Notify ``address`` by ``kind`` after ``delay``; ``user`` is None for a channel."""

    user: str | None
    kind: str
    address: str
    delay: timedelta


class ShiftRead(BaseModel):
    """A stretch of the final schedule."""

    users: list[str]
    start: datetime
    end: datetime
    layer: str


class GapRead(BaseModel):
    """A stretch when nobody is on call."""

    start: datetime
    end: datetime


class ImportedRead(BaseModel):
    """Where an imported schedule's calendar came from and when its shifts run out."""

    source: str
    covered_until: datetime
    ended: bool


class ScheduleRead(BaseModel):
    """A schedule: its definition, and (when asked) its final schedule and gaps.

    ``imported`` is null for a schedule applied from YAML."""

    name: str
    time_zone: str
    source: str
    updated_at: datetime
    imported: ImportedRead | None = None
    definition: dict[str, Any]
    oncall_now: list[str]
    shifts: list[ShiftRead] | None = None
    gaps: list[GapRead] | None = None


class WhoRead(BaseModel):
    """Who is on call in a schedule at an instant (an empty list in a gap)."""

    schedule: str
    at: str
    oncall: list[str]


class PolicyRead(BaseModel):
    """An escalation policy snapshot."""

    name: str
    repeat: int
    steps: list[dict[str, Any]]
