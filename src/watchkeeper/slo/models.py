"""Tables of the SLO domain: applied SLOs, their latest status, history and alert states."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from watchkeeper.db import Base, UTCDateTime


class SLORecord(Base):
    """An applied SLO. ``spec`` is the native single-SLO document (specs.native.slo_to_dict)."""

    __tablename__ = "slo"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(400), unique=True)
    service: Mapped[str] = mapped_column(String(200), index=True)
    name: Mapped[str] = mapped_column(String(200))
    sli_name: Mapped[str] = mapped_column(String(200))
    source_format: Mapped[str] = mapped_column(String(20))
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class SLOStatusRecord(Base):
    """The latest evaluation of one SLO (one row per SLO, overwritten every tick).

    ``window_counts`` holds the good and total counts of every burn-rate window
    (``{"5m": [good, total], ...}``) and ``objective`` the objective they were judged by: the
    burn rates and per-window SLIs are computed from them when read. Rows written before
    0005 hold ``burn_rates`` and ``window_slis`` instead. A failing SLO (its stored definition
    cannot be evaluated) has ``error`` set and no figures.
    """

    __tablename__ = "slo_status"

    slo_id: Mapped[int] = mapped_column(ForeignKey("slo.id", ondelete="CASCADE"), primary_key=True)
    evaluated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    good: Mapped[float | None] = mapped_column(Float, nullable=True)
    total: Mapped[float | None] = mapped_column(Float, nullable=True)
    sli: Mapped[float | None] = mapped_column(Float, nullable=True)
    budget_remaining: Mapped[float | None] = mapped_column(Float, nullable=True)
    burn_rates: Mapped[dict[str, float | None] | None] = mapped_column(JSON, nullable=True)
    window_slis: Mapped[dict[str, float | None] | None] = mapped_column(JSON, nullable=True)
    exhaustion_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    objective: Mapped[float | None] = mapped_column(Float, nullable=True)
    window_counts: Mapped[dict[str, list[int]] | None] = mapped_column(JSON, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)


class SLOHistory(Base):
    """Evaluations kept at a coarser cadence so SLIs, budgets and burn rates can be charted.

    Window figures are stored as in SLOStatusRecord: counts and objective since 0005,
    ``burn_rates`` and ``window_slis`` before.
    """

    __tablename__ = "slo_history"
    __table_args__ = (Index("ix_slo_history_slo_id_at", "slo_id", "at"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    slo_id: Mapped[int] = mapped_column(ForeignKey("slo.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    good: Mapped[float] = mapped_column(Float)
    total: Mapped[float] = mapped_column(Float)
    sli: Mapped[float | None] = mapped_column(Float, nullable=True)
    budget_remaining: Mapped[float | None] = mapped_column(Float, nullable=True)
    burn_rates: Mapped[dict[str, float | None] | None] = mapped_column(JSON, nullable=True)
    window_slis: Mapped[dict[str, float | None] | None] = mapped_column(JSON, nullable=True)
    objective: Mapped[float | None] = mapped_column(Float, nullable=True)
    window_counts: Mapped[dict[str, list[int]] | None] = mapped_column(JSON, nullable=True)


class SLOHistoryHourly(Base):
    """Per SLO and UTC hour, a summary of its history rows, so long-range charts read one row
    per hour instead of one per evaluation (kept by ``slo.rollup``).

    ``last_at``, ``budget_remaining`` and ``sli`` are the hour's last evaluation's;
    ``peak_burn_rates`` holds each window's highest burn rate of the hour
    (``{"5m": 20.0, "30m": null}``, null when no evaluation of the hour had events).
    """

    __tablename__ = "slo_history_hourly"

    slo_id: Mapped[int] = mapped_column(ForeignKey("slo.id", ondelete="CASCADE"), primary_key=True)
    hour: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    row_count: Mapped[int] = mapped_column(Integer)
    last_at: Mapped[datetime] = mapped_column(UTCDateTime)
    budget_remaining: Mapped[float | None] = mapped_column(Float, nullable=True)
    sli: Mapped[float | None] = mapped_column(Float, nullable=True)
    peak_burn_rates: Mapped[dict[str, float | None]] = mapped_column(JSON)


class AlertState(Base):
    """Current state of one burn-rate alert of one SLO, and since when it holds."""

    __tablename__ = "slo_alert_state"
    __table_args__ = (UniqueConstraint("slo_id", "severity", "long_seconds", "short_seconds"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slo_id: Mapped[int] = mapped_column(ForeignKey("slo.id", ondelete="CASCADE"), index=True)
    severity: Mapped[str] = mapped_column(String(10))
    long_seconds: Mapped[int] = mapped_column(Integer)
    short_seconds: Mapped[int] = mapped_column(Integer)
    factor: Mapped[float] = mapped_column(Float)
    firing: Mapped[bool] = mapped_column(Boolean)
    since: Mapped[datetime] = mapped_column(UTCDateTime)
    long_burn_rate: Mapped[float | None] = mapped_column(Float, nullable=True)
    short_burn_rate: Mapped[float | None] = mapped_column(Float, nullable=True)


class AlertTransition(Base):
    """A burn-rate alert starting or stopping to fire (feeds incident response)."""

    __tablename__ = "slo_alert_transition"
    __table_args__ = (Index("ix_slo_alert_transition_slo_id_at", "slo_id", "at"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    slo_id: Mapped[int] = mapped_column(ForeignKey("slo.id", ondelete="CASCADE"))
    severity: Mapped[str] = mapped_column(String(10))
    long_seconds: Mapped[int] = mapped_column(Integer)
    short_seconds: Mapped[int] = mapped_column(Integer)
    factor: Mapped[float] = mapped_column(Float)
    firing: Mapped[bool] = mapped_column(Boolean)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    long_burn_rate: Mapped[float | None] = mapped_column(Float, nullable=True)
    short_burn_rate: Mapped[float | None] = mapped_column(Float, nullable=True)
