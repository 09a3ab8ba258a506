"""Pydantic I/O of alert intake (Alertmanager v4, PagerDuty Events v2, generic webhook) and
of the alert-group API."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

_LABELS: Any = Field(default_factory=dict, max_length=200)
# Largest count a database INTEGER column holds on SQLite and PostgreSQL alike.
_MAX_INTEGER = 2**31 - 1


def _in_utc(value: datetime) -> datetime:
    """A sender's time in UTC (no zone means UTC); refused when UTC cannot hold it."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError("time out of range") from None


Timestamp = Annotated[datetime, AfterValidator(_in_utc)]


class IntegrationCreate(BaseModel):
    """POST /api/v1/integrations."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    type: str = Field(description="alertmanager, pagerduty or webhook")
    escalation_policy: str | None = Field(default=None, max_length=200)
    default_urgency: Literal["high", "low"] = "high"


class IntegrationRead(BaseModel):
    """An integration with its intake URL."""

    name: str
    type: str
    key: str
    url: str
    escalation_policy: str | None
    default_urgency: str
    created_at: datetime
    disabled_at: datetime | None


class AlertmanagerAlert(BaseModel):
    """One alert of an Alertmanager webhook (v4)."""

    model_config = ConfigDict(extra="ignore")

    status: Literal["firing", "resolved"]
    labels: dict[str, str] = _LABELS
    annotations: dict[str, str] = _LABELS
    startsAt: Timestamp | None = None
    endsAt: Timestamp | None = None
    generatorURL: str | None = Field(default=None, max_length=4000)
    fingerprint: str | None = Field(default=None, max_length=200)


class AlertmanagerMessage(BaseModel):
    """Alertmanager's webhook body, version 4."""

    model_config = ConfigDict(extra="ignore")

    version: str = "4"
    groupKey: str = Field(min_length=1, max_length=1000)
    truncatedAlerts: int = Field(default=0, ge=0, le=_MAX_INTEGER)
    status: Literal["firing", "resolved"]
    receiver: str = ""
    groupLabels: dict[str, str] = _LABELS
    commonLabels: dict[str, str] = _LABELS
    commonAnnotations: dict[str, str] = _LABELS
    externalURL: str = ""
    alerts: list[AlertmanagerAlert] = Field(max_length=10_000)

    @model_validator(mode="after")
    def _fingerprints_unique(self) -> AlertmanagerMessage:
        """One alert per fingerprint: Alertmanager never repeats one in a notification."""
        seen: set[str] = set()
        for index, alert in enumerate(self.alerts):
            if alert.fingerprint is None:
                continue
            if alert.fingerprint in seen:
                raise ValueError(
                    f"alerts.{index}.fingerprint: {alert.fingerprint!r} repeats an earlier alert"
                )
            seen.add(alert.fingerprint)
        return self


class PagerDutyPayload(BaseModel):
    """``payload`` of a PagerDuty trigger event."""

    model_config = ConfigDict(extra="ignore")

    summary: str = Field(min_length=1, max_length=1024)
    source: str = Field(min_length=1, max_length=1024)
    severity: Literal["critical", "error", "warning", "info"]
    timestamp: Timestamp | None = None
    component: str | None = Field(default=None, max_length=1024)
    group: str | None = Field(default=None, max_length=1024)
    class_: str | None = Field(default=None, alias="class", max_length=1024)
    custom_details: Any = None


class PagerDutyEvent(BaseModel):
    """A PagerDuty Events API v2 event."""

    model_config = ConfigDict(extra="ignore")

    routing_key: str | None = Field(default=None, max_length=32)
    event_action: Literal["trigger", "acknowledge", "resolve"]
    dedup_key: str | None = Field(default=None, min_length=1, max_length=255)
    payload: PagerDutyPayload | None = None
    images: list[Any] = Field(default_factory=list, max_length=100)
    links: list[Any] = Field(default_factory=list, max_length=100)
    client: str | None = Field(default=None, max_length=1024)
    client_url: str | None = Field(default=None, max_length=4000)

    @model_validator(mode="after")
    def _required_by_action(self) -> PagerDutyEvent:
        """A trigger needs a payload; acknowledge and resolve need the dedup key."""
        if self.event_action == "trigger" and self.payload is None:
            raise ValueError("'payload' is missing; a trigger event needs one")
        if self.event_action != "trigger" and self.dedup_key is None:
            raise ValueError(f"'dedup_key' is missing; an {self.event_action} event needs one")
        return self


class ChangePayload(BaseModel):
    """``payload`` of a PagerDuty change event."""

    model_config = ConfigDict(extra="ignore")

    summary: str = Field(min_length=1, max_length=1024)
    timestamp: Timestamp | None = None
    source: str | None = Field(default=None, max_length=1024)
    custom_details: dict[str, Any] = Field(default_factory=dict)


class ChangeEventIn(BaseModel):
    """A PagerDuty change event."""

    model_config = ConfigDict(extra="ignore")

    routing_key: str = Field(max_length=32)
    payload: ChangePayload
    links: list[Any] = Field(default_factory=list, max_length=100)


class WebhookAlert(BaseModel):
    """The generic webhook's alert."""

    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=1024)
    message: str = Field(default="", max_length=65_536)
    dedup_key: str | None = Field(default=None, min_length=1, max_length=255)
    state: Literal["firing", "resolved"] = "firing"
    severity: str | None = Field(default=None, max_length=40)
    labels: dict[str, str] = _LABELS
    link: str | None = Field(default=None, max_length=4000)


class SilenceCreate(BaseModel):
    """POST /api/v1/silences (and maintenance windows, with ``kind``)."""

    model_config = ConfigDict(extra="forbid")

    matchers: list[str] = Field(min_length=1, max_length=50)
    starts_at: Timestamp | None = None
    ends_at: Timestamp | None = None
    duration: str | None = Field(default=None, description="e.g. 2h, instead of ends_at")
    comment: str = Field(default="", max_length=4000)
    kind: Literal["silence", "maintenance"] = "silence"


class SilenceAction(BaseModel):
    """POST /api/v1/alert-groups/{id}/silence."""

    model_config = ConfigDict(extra="forbid")

    duration: str = Field(description="e.g. 2h")


class RoutesApply(BaseModel):
    """PUT /api/v1/alert-routes: the whole ordered list of routing rules."""

    model_config = ConfigDict(extra="forbid")

    routes: list[dict[str, Any]] = Field(max_length=1000)
