"""API and CLI shapes of SLOs and their status (one status document for every adapter)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from watchkeeper.core.backtest import Backtest
from watchkeeper.core.duration import format_duration
from watchkeeper.core.evaluation import SLOStatus
from watchkeeper.core.slo import SLO, CalendarWindow, Window


class AlertRead(BaseModel):
    """One multiwindow burn-rate alert and whether it fires."""

    severity: str
    long: str
    short: str
    factor: float
    firing: bool
    long_burn_rate: float | None = None
    short_burn_rate: float | None = None
    since: datetime | None = None


class ForecastRead(BaseModel):
    """Budget exhaustion forecast at the burn rate of one basis window."""

    basis: str
    burn_rate: float | None
    exhaustion_at: datetime | None
    budget_remaining_at_window_end: float | None


class SLOStatusRead(BaseModel):
    """An SLO's figures at one instant. Values are unrounded; null where there is no data.

    A failing SLO (its stored definition cannot be evaluated) has ``error`` set and no figures.
    """

    service: str
    name: str
    key: str
    objective: float
    window: str
    window_start: datetime | None = None
    at: datetime | None = None
    sli_name: str
    good: float | None = None
    total: float | None = None
    sli: float | None = None
    error_budget_remaining: float | None = None
    burn_rates: dict[str, float | None] = Field(default_factory=dict)
    slis: dict[str, float | None] = Field(
        default_factory=dict, description="The SLI over each burn-rate window."
    )
    alerts: list[AlertRead] = Field(default_factory=list)
    exhaustion_at: datetime | None = None
    forecasts: list[ForecastRead] = Field(default_factory=list)
    error: str | None = Field(
        default=None,
        description=(
            "Set when the SLO cannot be evaluated (why, e.g. a stored spec that no longer "
            "parses); the figures are then null."
        ),
    )


class SLORead(BaseModel):
    """An applied SLO with its spec and latest status."""

    key: str
    service: str
    name: str
    source_format: str
    spec: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    status: SLOStatusRead | None = None


class ApplyResultRead(BaseModel):
    """What applying specs changed."""

    created: list[str]
    updated: list[str]
    unchanged: list[str]
    policies_created: list[str]
    policies_updated: list[str]
    policies_unchanged: list[str]


class HistoryPoint(BaseModel):
    """One stored evaluation."""

    at: datetime
    good: float
    total: float
    sli: float | None
    error_budget_remaining: float | None
    burn_rates: dict[str, float | None]
    slis: dict[str, float | None] = Field(default_factory=dict)


def describe_window(window: Window) -> str:
    """``30d`` for rolling windows, ``month (Europe/Berlin)`` for calendar ones."""
    if isinstance(window, CalendarWindow):
        unit = window.unit.value if window.count == 1 else f"{window.count} {window.unit.value}s"
        return f"{unit} ({window.timezone})"
    return format_duration(window.duration)


def window_slis_of(status: SLOStatus) -> dict[str, float | None]:
    """The SLI over each burn-rate window of an evaluation (None without events)."""
    return {
        format_duration(window): (counts.good / counts.total if counts.total > 0 else None)
        for window, counts in sorted(status.window_counts.items())
    }


def slo_identity(slo: SLO) -> dict[str, Any]:
    """The fields that name an SLO in every status document."""
    return {
        "service": slo.service,
        "name": slo.name,
        "key": slo.key,
        "objective": slo.objective,
        "window": describe_window(slo.window),
        "sli_name": slo.sli.name,
    }


def status_read(slo: SLO, status: SLOStatus) -> SLOStatusRead:
    """The status document of a fresh evaluation."""
    return SLOStatusRead(
        **slo_identity(slo),
        window_start=status.window_start,
        at=status.at,
        good=status.good,
        total=status.total,
        sli=status.sli,
        error_budget_remaining=status.error_budget_remaining,
        burn_rates={format_duration(w): v for w, v in status.burn_rates.items()},
        slis=window_slis_of(status),
        alerts=[
            AlertRead(
                severity=a.severity.value,
                long=format_duration(a.long),
                short=format_duration(a.short),
                factor=a.factor,
                firing=a.firing,
                long_burn_rate=a.long_burn_rate,
                short_burn_rate=a.short_burn_rate,
            )
            for a in status.alerts
        ],
        exhaustion_at=status.exhaustion_at,
        forecasts=[
            ForecastRead(
                basis=format_duration(f.basis),
                burn_rate=f.burn_rate,
                exhaustion_at=f.exhaustion_at,
                budget_remaining_at_window_end=f.budget_remaining_at_window_end,
            )
            for f in status.forecasts
        ],
    )


# -- backtests (slo/backtest.py) ---------------------------------------------------------------


class BacktestWindowRead(BaseModel):
    """One alert window replayed by a backtest (its factor as in force at the range's end)."""

    severity: str
    long: str
    short: str
    factor: float


class BacktestAlertRead(BaseModel):
    """When one severity's alert would have fired and cleared, and what the burn cost."""

    severity: str
    fired_at: datetime
    cleared_at: datetime | None = Field(description="null: still firing at `to`")
    duration_seconds: float = Field(description="cleared_at (or `to`) minus fired_at")
    firing_at_start: bool = Field(description="already firing at `from`: it may start earlier")
    peak_burn_rate: float = Field(
        description="highest long-window burn rate of the severity's firing windows"
    )
    bad: float = Field(description="bad events from fired_at to cleared_at (or `to`)")
    budget_consumed: float | None = Field(
        description="bad / (events of the SLO window ending with the alert x (1 - objective))"
    )


class BacktestSeverityRead(BaseModel):
    """How often and how long one severity fired over the range."""

    alerts: int
    firing_seconds: float


class BacktestSummaryRead(BaseModel):
    """Counts per severity and the budget consumed over the whole range."""

    page: BacktestSeverityRead
    ticket: BacktestSeverityRead
    bad: float = Field(description="bad events in [from, to)")
    total: float = Field(description="all events in [from, to)")
    budget_consumed: float | None = Field(
        description="bad / (events of the SLO window ending at `to` x (1 - objective))"
    )


class BacktestRead(BaseModel):
    """A replay of an SLO's burn-rate alerts over a past range (docs/backtest.md)."""

    model_config = ConfigDict(populate_by_name=True)

    slo: str
    from_: datetime = Field(alias="from")
    to: datetime
    step_seconds: float
    steps: int
    windows_source: str = Field(description="slo (the SLO's own windows) or the file given")
    windows: list[BacktestWindowRead]
    min_events: int
    alerts: list[BacktestAlertRead]
    summary: BacktestSummaryRead


def backtest_read(result: Backtest, *, windows_source: str) -> BacktestRead:
    """The JSON document of a backtest (the CLI's --json and the API answer)."""
    severities = {
        severity.value: BacktestSeverityRead(
            alerts=summary.alerts, firing_seconds=summary.firing.total_seconds()
        )
        for severity, summary in result.summary.items()
    }
    return BacktestRead(
        slo=result.slo_key,
        from_=result.start,
        to=result.end,
        step_seconds=result.step.total_seconds(),
        steps=result.steps,
        windows_source=windows_source,
        windows=[
            BacktestWindowRead(
                severity=w.severity.value,
                long=format_duration(w.long),
                short=format_duration(w.short),
                factor=w.factor,
            )
            for w in result.windows
        ],
        min_events=result.min_events,
        alerts=[
            BacktestAlertRead(
                severity=e.severity.value,
                fired_at=e.fired_at,
                cleared_at=e.cleared_at,
                duration_seconds=e.duration.total_seconds(),
                firing_at_start=e.firing_at_start,
                peak_burn_rate=e.peak_burn_rate,
                bad=e.bad,
                budget_consumed=e.budget_consumed,
            )
            for e in result.episodes
        ],
        summary=BacktestSummaryRead(
            page=severities["page"],
            ticket=severities["ticket"],
            bad=result.bad,
            total=result.total,
            budget_consumed=result.budget_consumed,
        ),
    )


# -- charts (slo/chart.py; markers gathered by flows/charts.py) -----------------------------


class ChartAlertRead(BaseModel):
    """A burn-rate alert drawn as a constant: both its windows must burn above ``factor``."""

    severity: str
    long: str
    short: str
    factor: float


class ChartSeriesRead(BaseModel):
    """Values parallel to ``times``; null where there is no data (never 0)."""

    error_budget_remaining: list[float | None]
    sli: list[float | None]
    burn_rates: dict[str, list[float | None]] = Field(
        description="Highest burn rate in each bucket, per alert window (long and short)."
    )


class ChartMarkerRead(BaseModel):
    """Something that happened on the chart's time axis."""

    at: int = Field(description="Unix seconds")
    kind: str = Field(
        description="change, alert_opened, alert_resolved, incident_declared, incident_resolved"
    )
    label: str
    id: int | None = Field(default=None, description="the change, alert group or incident id")


class SLOChartRead(BaseModel):
    """An SLO's stored evaluations downsampled on one time axis, with markers (docs/api.md)."""

    model_config = ConfigDict(populate_by_name=True)

    slo: str
    service: str
    name: str
    objective: float
    window: str
    from_: datetime = Field(alias="from")
    to: datetime
    bucket_seconds: int = Field(description="Width of each bucket; times are bucket starts")
    times: list[int] = Field(description="Unix seconds, ascending")
    series: ChartSeriesRead
    alerts: list[ChartAlertRead]
    markers: list[ChartMarkerRead]
    exhaustion_at: int | None = Field(
        description="Forecast budget exhaustion (Unix seconds) from the latest status, if any"
    )
