"""Tables of incidents, their severities, roles, timeline and links."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from watchkeeper.db import Base, UTCDateTime


class SeverityRecord(Base):
    """A configurable incident severity; rank 1 is the worst."""

    __tablename__ = "incident_severity"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(50), unique=True)
    rank: Mapped[int] = mapped_column(Integer)
    description: Mapped[str] = mapped_column(Text, default="")
    response_target_seconds: Mapped[int | None] = mapped_column(Integer, nullable=True)
    resolution_target_seconds: Mapped[int | None] = mapped_column(Integer, nullable=True)


class IncidentRecord(Base):
    """An incident: what is wrong, how bad, where it stands and when each step happened."""

    __tablename__ = "incident"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    service: Mapped[str | None] = mapped_column(String(200), nullable=True, index=True)
    severity: Mapped[str] = mapped_column(String(50))
    status: Mapped[str] = mapped_column(String(20), index=True)
    summary: Mapped[str | None] = mapped_column(Text, nullable=True)
    declared_at: Mapped[datetime] = mapped_column(UTCDateTime)
    declared_by: Mapped[str] = mapped_column(String(200))
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    acknowledged_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    identified_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    monitoring_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    resolved_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    # The incident list's order (newest declared first): a page is a walk of this index.
    __table_args__ = (Index("ix_incident_declared_at_id", "declared_at", "id"),)


class RoleRecord(Base):
    """A person holding a role in an incident (user names until users exist)."""

    __tablename__ = "incident_role"
    __table_args__ = (UniqueConstraint("incident_id", "role", "user_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incident.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[str] = mapped_column(String(20))
    user_name: Mapped[str] = mapped_column(String(200))
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime)


class TimelineRecord(Base):
    """One entry of an incident's timeline."""

    __tablename__ = "incident_timeline"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True
    )
    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incident.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    kind: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(Text)
    actor: Mapped[str | None] = mapped_column(String(200), nullable=True)
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)


class AlertGroupLink(Base):
    """An alert group linked to an incident.

    ``resolved_noted`` is set on every link of an incident once the worker has noted that all
    its groups resolved; a link added later is unset, so the incident is noted again then.
    """

    __tablename__ = "incident_alert_group"

    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incident.id", ondelete="CASCADE"), primary_key=True
    )
    alert_group_id: Mapped[int] = mapped_column(
        ForeignKey("alert_group.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    linked_at: Mapped[datetime] = mapped_column(UTCDateTime)
    resolved_noted: Mapped[bool] = mapped_column(Boolean, default=False)


class SLOLink(Base):
    """An SLO (by key) linked to an incident."""

    __tablename__ = "incident_slo"

    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incident.id", ondelete="CASCADE"), primary_key=True
    )
    slo_key: Mapped[str] = mapped_column(String(400), primary_key=True)
    linked_at: Mapped[datetime] = mapped_column(UTCDateTime)
