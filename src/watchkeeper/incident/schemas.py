"""API and CLI shapes of incidents, severities and incident metrics."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, BaseModel, Field

from watchkeeper.core.duration import format_duration
from watchkeeper.core.incident import IncidentMetrics
from watchkeeper.db import MAX_ROW_ID
from watchkeeper.incident.figures import BudgetBurned, MetricsReport
from watchkeeper.incident.models import IncidentRecord, RoleRecord, TimelineRecord
from watchkeeper.incident.severities import Severity


def _distinct(values: list[Any]) -> list[Any]:
    # Linking twice changes nothing, so a repeated id or key is checked and linked once.
    return list(dict.fromkeys(values))


# An id the id column cannot hold is refused naming the field, not sent to the driver.
AlertGroupIds = Annotated[
    list[Annotated[int, Field(ge=1, le=MAX_ROW_ID)]],
    Field(max_length=1000),
    AfterValidator(_distinct),
]
SLOKeys = Annotated[list[str], Field(max_length=100), AfterValidator(_distinct)]


class IncidentCreate(BaseModel):
    """A new incident."""

    title: str = Field(min_length=1, max_length=300)
    severity: str = Field(min_length=1, max_length=50, examples=["SEV2"])
    service: str | None = Field(default=None, min_length=1, max_length=200)
    summary: str | None = Field(default=None, max_length=10_000)
    commander: str | None = Field(default=None, min_length=1, max_length=200)
    alert_group_ids: AlertGroupIds = Field(default_factory=list)
    slo_keys: SLOKeys = Field(default_factory=list)
    started_at: AwareDatetime | None = Field(
        default=None, description="Impact start (RFC 3339 with offset); default: now."
    )


class AlertGroupIncidentCreate(BaseModel):
    """Declare an incident from an alert group: title, service, start and SLO come from it."""

    severity: str = Field(min_length=1, max_length=50, examples=["SEV2"])
    title: str | None = Field(default=None, min_length=1, max_length=300)
    summary: str | None = Field(default=None, max_length=10_000)
    commander: str | None = Field(default=None, min_length=1, max_length=200)


class StatusUpdate(BaseModel):
    """Move an incident to another status."""

    status: str = Field(examples=["identified"])
    note: str | None = Field(default=None, max_length=10_000)


class ResolveBody(BaseModel):
    """Resolve an incident, optionally with a note."""

    note: str | None = Field(default=None, max_length=10_000)


class SeverityUpdate(BaseModel):
    """Change an incident's severity."""

    severity: str = Field(min_length=1, max_length=50)


class RoleAssign(BaseModel):
    """Give a person a role."""

    role: str = Field(examples=["commander"])
    user: str = Field(min_length=1, max_length=200)


class NoteCreate(BaseModel):
    """A timeline note."""

    text: str = Field(min_length=1, max_length=10_000)


class LinkCreate(BaseModel):
    """Link alert groups and/or SLOs to an incident."""

    alert_group_ids: AlertGroupIds = Field(default_factory=list)
    slo_keys: SLOKeys = Field(default_factory=list)


class RoleRead(BaseModel):
    """A person in a role."""

    role: str
    user: str
    assigned_at: datetime


class TimelineRead(BaseModel):
    """One timeline entry."""

    at: datetime
    kind: str
    text: str
    actor: str | None
    details: dict[str, Any] | None
    source: str = Field(
        default="incident",
        description="incident (stored), alert_group (a linked group's log) or change "
        "(a change event of the service), merged at read time",
    )


class BudgetRead(BaseModel):
    """Error budget of a linked SLO burned during the incident (``burned``: share of the
    SLO window's budget; null with ``problem`` when it cannot be computed)."""

    slo: str
    start: datetime
    end: datetime
    objective: float | None
    window: str | None
    good: float | None
    total: float | None
    window_total: float | None = Field(
        default=None, description="Events of the SLO window ending with the incident."
    )
    burn_rate: float | None
    burned: float | None
    problem: str | None


class IncidentRead(BaseModel):
    """An incident's fields."""

    id: int
    title: str
    service: str | None
    severity: str
    status: str
    summary: str | None
    declared_at: datetime
    declared_by: str
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    identified_at: datetime | None
    monitoring_at: datetime | None
    resolved_at: datetime | None
    resolved_by: str | None
    started_at: datetime
    updated_at: datetime


class IncidentDetail(IncidentRead):
    """An incident with its roles, timeline, links and the budget it burned."""

    roles: list[RoleRead]
    timeline: list[TimelineRead]
    alert_group_ids: list[int]
    slo_keys: list[str]
    budgets: list[BudgetRead]


class SeverityRead(BaseModel):
    """A configured severity; targets as durations (``5m``) and seconds, null when none."""

    name: str
    rank: int
    description: str
    response_target: str | None
    response_target_seconds: float | None
    resolution_target: str | None
    resolution_target_seconds: float | None


class MetricsRead(BaseModel):
    """Response metrics of a group of incidents; durations in seconds, null when unmeasured."""

    count: int
    open: int
    acknowledged: int
    resolved: int
    mtta_seconds: float | None
    mttr_seconds: float | None
    mtbf_seconds: float | None
    response_breaches: int
    resolution_breaches: int
    resolved_unacknowledged: int = Field(
        default=0, description="Resolved without an acknowledgement (left out of MTTA)."
    )


class GroupMetricsRead(MetricsRead):
    """Metrics of one service and/or severity (``service`` null: incidents without one)."""

    service: str | None = None
    severity: str | None = None


class NoiseRead(BaseModel):
    """Alert noise of one service: groups opened in the period, those that auto-resolved
    (by their source) without an acknowledgement, and those never acknowledged."""

    service: str
    groups: int
    auto_resolved_unacknowledged: int
    never_acknowledged: int
    auto_resolved_ratio: float | None
    never_acknowledged_ratio: float | None


class PagesRead(BaseModel):
    """Pages one responder got, by business / off / sleep hours in their time zone."""

    responder: str
    time_zone: str
    business: int
    off: int
    sleep: int
    total: int


class MetricsReportRead(BaseModel):
    """Metrics of the incidents whose impact started in ``[since, until)``, the alert noise
    of the groups opened then and the pages sent then."""

    since: datetime
    until: datetime
    at: datetime
    open_now: int
    overall: MetricsRead
    by_service: list[GroupMetricsRead]
    by_severity: list[GroupMetricsRead]
    by_service_severity: list[GroupMetricsRead]
    alert_noise: list[NoiseRead] = Field(default_factory=list)
    pages: list[PagesRead] = Field(default_factory=list)


def incident_read(incident: IncidentRecord) -> IncidentRead:
    """The JSON document of an incident."""
    return IncidentRead.model_validate(incident, from_attributes=True)


def incident_detail(
    incident: IncidentRecord,
    *,
    roles: list[RoleRecord],
    timeline: list[TimelineRecord],
    alert_group_ids: list[int],
    slo_keys: list[str],
    budgets: list[BudgetBurned],
    merged: Sequence[TimelineRead] = (),
) -> IncidentDetail:
    """The JSON document of an incident with everything attached to it (``merged``: entries
    from linked alert groups and changes, sorted in by time)."""
    own = [
        TimelineRead(at=t.at, kind=t.kind, text=t.text, actor=t.actor, details=t.details)
        for t in timeline
    ]
    return IncidentDetail(
        **incident_read(incident).model_dump(),
        roles=[RoleRead(role=r.role, user=r.user_name, assigned_at=r.assigned_at) for r in roles],
        timeline=sorted([*own, *merged], key=lambda entry: entry.at),
        alert_group_ids=alert_group_ids,
        slo_keys=slo_keys,
        budgets=[BudgetRead(**b.__dict__) for b in budgets],
    )


def _duration(value: timedelta | None) -> str | None:
    return None if value is None else format_duration(value)


def _seconds(value: timedelta | None) -> float | None:
    return None if value is None else value.total_seconds()


def severity_read(severity: Severity) -> SeverityRead:
    """The JSON document of a severity."""
    return SeverityRead(
        name=severity.name,
        rank=severity.rank,
        description=severity.description,
        response_target=_duration(severity.response),
        response_target_seconds=_seconds(severity.response),
        resolution_target=_duration(severity.resolution),
        resolution_target_seconds=_seconds(severity.resolution),
    )


def _metrics(metrics: IncidentMetrics) -> dict[str, Any]:
    return {
        "count": metrics.count,
        "open": metrics.open,
        "acknowledged": metrics.acknowledged,
        "resolved": metrics.resolved,
        "mtta_seconds": _seconds(metrics.mtta),
        "mttr_seconds": _seconds(metrics.mttr),
        "mtbf_seconds": _seconds(metrics.mtbf),
        "response_breaches": metrics.response_breaches,
        "resolved_unacknowledged": metrics.resolved_unacknowledged,
        "resolution_breaches": metrics.resolution_breaches,
    }


def metrics_read(report: MetricsReport) -> MetricsReportRead:
    """The JSON document of a metrics report (groups sorted by name, no service last)."""

    def order(name: str | None) -> tuple[bool, str]:
        return (name is None, name or "")

    return MetricsReportRead(
        since=report.since,
        until=report.until,
        at=report.at,
        open_now=report.open_now,
        overall=MetricsRead(**_metrics(report.overall)),
        by_service=[
            GroupMetricsRead(service=k, **_metrics(v))
            for k, v in sorted(report.by_service.items(), key=lambda kv: order(kv[0]))
        ],
        by_severity=[
            GroupMetricsRead(severity=k, **_metrics(v))
            for k, v in sorted(report.by_severity.items())
        ],
        by_service_severity=[
            GroupMetricsRead(service=k[0], severity=k[1], **_metrics(v))
            for k, v in sorted(
                report.by_service_severity.items(), key=lambda kv: (*order(kv[0][0]), kv[0][1])
            )
        ],
        alert_noise=[
            NoiseRead(
                service=n.service,
                groups=n.groups,
                auto_resolved_unacknowledged=n.auto_resolved_unacknowledged,
                never_acknowledged=n.never_acknowledged,
                auto_resolved_ratio=n.auto_resolved_ratio,
                never_acknowledged_ratio=n.never_acknowledged_ratio,
            )
            for n in report.alert_noise
        ],
        pages=[
            PagesRead(
                responder=p.responder,
                time_zone=p.time_zone,
                business=p.business,
                off=p.off,
                sleep=p.sleep,
                total=p.total,
            )
            for p in report.pages
        ],
    )
