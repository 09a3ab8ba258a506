"""Tables of the on-call domain: schedules and escalation policies, stored as documents.

Each row keeps its definition as the normalised JSON document :mod:`watchkeeper.oncall.documents`
reads and writes (the YAML format without ``kind``), so what is stored is exactly what was
validated and can be exported back.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from watchkeeper.db import Base, UTCDateTime


class ScheduleRecord(Base):
    """An on-call schedule; ``source`` is ``yaml`` or ``ical`` (imported)."""

    __tablename__ = "oncall_schedule"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    time_zone: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(10))
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The owning team (auth's ``team`` table); a team gives these up before it is deleted.
    owner_team_id: Mapped[int | None] = mapped_column(ForeignKey("team.id"), nullable=True)


class EscalationPolicyRecord(Base):
    """An escalation policy; ``spec`` is ``core.escalation.EscalationPolicy.to_json()``."""

    __tablename__ = "escalation_policy"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The owning team (auth's ``team`` table); a team gives these up before it is deleted.
    owner_team_id: Mapped[int | None] = mapped_column(ForeignKey("team.id"), nullable=True)
