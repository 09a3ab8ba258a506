"""API and CLI shapes of reports (docs/reports.md defines each figure)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class MonthTrendRead(BaseModel):
    """One calendar month's figures (the current month so far has ``partial`` set)."""

    month: str = Field(description="YYYY-MM in the report's time zone")
    start: datetime
    end: datetime
    partial: bool = Field(description="the current month: figures so far")
    slos_with_data: int = Field(description="SLOs with events in the month")
    slos_met: int = Field(description="of which the month's SLI met the objective")
    compliance: float | None = Field(description="slos_met / slos_with_data; null without data")
    budget_consumed_median: float | None = Field(
        description="median over SLOs of the month's bad share / (1 - objective)"
    )
    budget_consumed_worst: float | None
    worst_slo: str | None = Field(description="the SLO that consumed the most")
    incidents: dict[str, int] = Field(description="incidents declared in the month by severity")
    incidents_total: int
    mtta_seconds: float | None = Field(description="mean acknowledged_at - declared_at")
    mttr_seconds: float | None = Field(description="mean resolved_at - started_at")
    pages: int = Field(description="pages sent to responders")
    pages_out_of_hours: int = Field(
        description="of which outside business hours in the responder's zone (off or sleep)"
    )


class TrendsRead(BaseModel):
    """Leadership trends: one entry per calendar month, oldest first."""

    at: datetime
    zone: str
    months: list[MonthTrendRead]
