"""Tables of alert intake: integrations, alert groups, their alerts and log, silences,
maintenance windows, routing rules and change events."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, validates

from watchkeeper.db import Base, UTCDateTime

_BIG_ID = BigInteger().with_variant(Integer, "sqlite")


def _clipped(table: Any, key: str, value: str | None) -> str | None:
    """``value`` cut to its column's length: derived text (a label, a PagerDuty source) may be
    longer than the column, and a sender must not get a 500 it retries forever for it."""
    length = table.c[key].type.length
    if value is None or length is None or len(value) <= length:
        return value
    return value[: length - 1] + "\N{HORIZONTAL ELLIPSIS}"


class Integration(Base):
    """A source of alerts, authenticated by its key (kept so its URL can be shown again)."""

    __tablename__ = "integration"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    type: Mapped[str] = mapped_column(String(20))
    key: Mapped[str] = mapped_column(String(32), unique=True)
    escalation_policy: Mapped[str | None] = mapped_column(String(200), nullable=True)
    default_urgency: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class AlertGroup(Base):
    """Alerts folded under one dedup key of one integration; drives paging.

    ``open_key`` holds the dedup key while the group is not resolved and is NULL afterwards:
    its unique index allows one open group per (integration, dedup key) while resolved groups
    of the same key pile up as history.
    """

    __tablename__ = "alert_group"
    __table_args__ = (
        UniqueConstraint("integration_id", "open_key"),
        Index("ix_alert_group_integration_id_dedup_key", "integration_id", "dedup_key"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    integration_id: Mapped[int] = mapped_column(ForeignKey("integration.id", ondelete="CASCADE"))
    dedup_key: Mapped[str] = mapped_column(String(400))
    open_key: Mapped[str | None] = mapped_column(String(400), nullable=True)
    status: Mapped[str] = mapped_column(String(20), index=True)
    title: Mapped[str] = mapped_column(Text)
    service: Mapped[str | None] = mapped_column(String(200), nullable=True, index=True)
    severity: Mapped[str | None] = mapped_column(String(40), nullable=True)
    urgency: Mapped[str] = mapped_column(String(10))
    labels: Mapped[dict[str, Any]] = mapped_column(JSON)
    annotations: Mapped[dict[str, Any]] = mapped_column(JSON)
    source: Mapped[str] = mapped_column(String(20))
    slo_key: Mapped[str | None] = mapped_column(String(400), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    last_event_at: Mapped[datetime] = mapped_column(UTCDateTime)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    acknowledged_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    resolved_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    resolved_how: Mapped[str | None] = mapped_column(String(10), nullable=True)
    silenced_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    silence_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    truncated_alerts: Mapped[int] = mapped_column(Integer)
    last_event_digest: Mapped[str | None] = mapped_column(String(64), nullable=True)
    escalation_policy: Mapped[str | None] = mapped_column(String(200), nullable=True)
    escalation_snapshot: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    escalation_round: Mapped[int] = mapped_column(Integer)
    escalation_step: Mapped[int] = mapped_column(Integer)
    escalation_due_at: Mapped[datetime | None] = mapped_column(
        UTCDateTime, nullable=True, index=True
    )
    # Auto-declare: the severity a routing rule's ``incident`` field asked for, and the
    # incident declared for the group (no foreign key: alerting does not know incidents).
    incident_severity: Mapped[str | None] = mapped_column(String(50), nullable=True)
    incident_id: Mapped[int | None] = mapped_column(Integer, nullable=True)

    @validates("service", "severity", "acknowledged_by", "resolved_by")
    def _clip(self, key: str, value: str | None) -> str | None:
        return _clipped(self.__table__, key, value)


class Alert(Base):
    """One alert of a group, tracked by fingerprint where the source gives one."""

    __tablename__ = "alert"
    __table_args__ = (UniqueConstraint("group_id", "fingerprint"),)

    id: Mapped[int] = mapped_column(_BIG_ID, primary_key=True)
    group_id: Mapped[int] = mapped_column(
        ForeignKey("alert_group.id", ondelete="CASCADE"), index=True
    )
    fingerprint: Mapped[str | None] = mapped_column(String(200), nullable=True)
    status: Mapped[str] = mapped_column(String(20))
    labels: Mapped[dict[str, Any]] = mapped_column(JSON)
    annotations: Mapped[dict[str, Any]] = mapped_column(JSON)
    starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    generator_url: Mapped[str | None] = mapped_column(Text, nullable=True)
    last_changed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AlertGroupLog(Base):
    """One entry of an alert group's history: state changes, notifications, escalations."""

    __tablename__ = "alert_group_log"
    __table_args__ = (Index("ix_alert_group_log_group_id_at", "group_id", "at"),)

    id: Mapped[int] = mapped_column(_BIG_ID, primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("alert_group.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    kind: Mapped[str] = mapped_column(String(30))
    message: Mapped[str] = mapped_column(Text)
    actor: Mapped[str | None] = mapped_column(String(200), nullable=True)
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)

    @validates("actor")
    def _clip(self, key: str, value: str | None) -> str | None:
        return _clipped(self.__table__, key, value)


class Silence(Base):
    """Alerts whose labels match every matcher are silenced between starts_at and ends_at."""

    __tablename__ = "silence"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    matchers: Mapped[list[str]] = mapped_column(JSON)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    comment: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # A maintenance window is a silence with a reason and, usually, a service matcher.
    kind: Mapped[str] = mapped_column(String(20))
    silenced_count: Mapped[int] = mapped_column(Integer)
    # When the silence was applied to the groups open as it started (NULL: not yet started).
    applied_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class RoutingRule(Base):
    """One global routing rule: the first whose matchers all match picks policy and urgency."""

    __tablename__ = "alert_routing_rule"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    position: Mapped[int] = mapped_column(Integer, unique=True)
    name: Mapped[str] = mapped_column(String(200))
    matchers: Mapped[list[str]] = mapped_column(JSON)
    integration: Mapped[str | None] = mapped_column(String(200), nullable=True)
    escalation_policy: Mapped[str | None] = mapped_column(String(200), nullable=True)
    urgency: Mapped[str | None] = mapped_column(String(10), nullable=True)
    incident: Mapped[str | None] = mapped_column(String(50), nullable=True)


class ChangeEvent(Base):
    """A change (deploy, config push) on the change timeline, from PagerDuty change events."""

    __tablename__ = "change_event"
    __table_args__ = (Index("ix_change_event_service_at", "service", "at"),)

    id: Mapped[int] = mapped_column(_BIG_ID, primary_key=True)
    integration_id: Mapped[int] = mapped_column(ForeignKey("integration.id", ondelete="CASCADE"))
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    summary: Mapped[str] = mapped_column(Text)
    source: Mapped[str | None] = mapped_column(String(400), nullable=True)
    service: Mapped[str | None] = mapped_column(String(200), nullable=True)
    custom_details: Mapped[dict[str, Any]] = mapped_column(JSON)
    links: Mapped[list[Any]] = mapped_column(JSON)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)

    @validates("source", "service")
    def _clip(self, key: str, value: str | None) -> str | None:
        return _clipped(self.__table__, key, value)


class AlertingSecret(Base):
    """Secrets generated once and kept in the database (the action-link signing key)."""

    __tablename__ = "alerting_secret"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
