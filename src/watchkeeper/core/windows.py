"""Alert windows and SLO periods.

Default multiwindow multi-burn-rate alerts follow the SRE Workbook (ch. 5, Table 5-8) and
Sloth's 30d/28d catalogs: page when 2 % of the budget burns in 1 h (checked against 5 m) or
5 % in 6 h (30 m); ticket when 10 % burns in 1 d (2 h) or 10 % in 3 d (6 h). The factor for
a period P is ``budget_percent / 100 * P / long``, so the same percents give 14.4/6/3/1 for
30d and 13.44/5.6/2.8/0.9333... for 28d.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from watchkeeper.core.slo import (
    SLO,
    AlertWindow,
    CalendarUnit,
    CalendarWindow,
    RollingWindow,
    Severity,
    Window,
)


@dataclass(frozen=True)
class BudgetWindowSpec:
    """An alert window described by the share of budget it catches, before the period is known."""

    severity: Severity
    long: timedelta
    short: timedelta
    budget_percent: float


DEFAULT_WINDOW_SPECS: tuple[BudgetWindowSpec, ...] = (
    BudgetWindowSpec(Severity.PAGE, timedelta(hours=1), timedelta(minutes=5), 2.0),
    BudgetWindowSpec(Severity.PAGE, timedelta(hours=6), timedelta(minutes=30), 5.0),
    BudgetWindowSpec(Severity.TICKET, timedelta(days=1), timedelta(hours=2), 10.0),
    BudgetWindowSpec(Severity.TICKET, timedelta(days=3), timedelta(hours=6), 10.0),
)

# The windows Watchkeeper evaluates (docs/specs.md, "Limits"). Rolling SLO windows run from an
# hour to the 400 days hour buckets are kept by default; calendar windows span at most a year;
# a timeslice is at most a day.
MIN_ROLLING_WINDOW = timedelta(hours=1)
MAX_ROLLING_WINDOW = timedelta(days=400)
MAX_CALENDAR_COUNT: dict[CalendarUnit, int] = {
    CalendarUnit.WEEK: 52,
    CalendarUnit.MONTH: 12,
    CalendarUnit.QUARTER: 4,
}
MAX_SLICE = timedelta(days=1)

# Windows whose burn rate is always reported (the JSON contract's burn_rates keys).
REPORTED_BURN_WINDOWS: tuple[timedelta, ...] = (
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=1),
    timedelta(hours=2),
    timedelta(hours=6),
    timedelta(days=1),
    timedelta(days=3),
)


def factor_for(budget_percent: float, period: timedelta, long: timedelta) -> float:
    """Burn-rate factor that spends ``budget_percent`` of the budget within ``long``.

    Computed in Sloth's order (seconds to spend the share, divided by the window) so the
    unrounded factors match Sloth's to the last bit.
    """
    seconds_to_spend_share = budget_percent * period.total_seconds() / 100.0
    return seconds_to_spend_share / long.total_seconds()


def default_alert_windows(period: timedelta) -> tuple[AlertWindow, ...]:
    """The four default alert windows for an SLO period, factors scaled to the period."""
    return tuple(
        AlertWindow(
            spec.severity, spec.long, spec.short, factor_for(spec.budget_percent, period, spec.long)
        )
        for spec in DEFAULT_WINDOW_SPECS
    )


def alert_windows(slo: SLO, at: datetime | None = None) -> tuple[AlertWindow, ...]:
    """The alert windows in force for ``slo``: its custom ones, else the period defaults."""
    if slo.alerting.windows is not None:
        return slo.alerting.windows
    return default_alert_windows(nominal_period(slo.window, at))


def window_start(window: Window, at: datetime) -> datetime:
    """Start of the SLO window ending at ``at`` (exclusive end): rolling or calendar-aligned."""
    if isinstance(window, RollingWindow):
        return at - window.duration
    return calendar_period_bounds(window, at)[0]


def nominal_period(window: Window, at: datetime | None = None) -> timedelta:
    """Length of the SLO period: the rolling duration, or the calendar period containing ``at``.

    Without ``at`` a calendar window has its typical length (7 d, 30 d, 91 d per unit).
    """
    if isinstance(window, RollingWindow):
        return window.duration
    if at is None:
        typical = {CalendarUnit.WEEK: 7, CalendarUnit.MONTH: 30, CalendarUnit.QUARTER: 91}
        return timedelta(days=typical[window.unit] * window.count)
    start, end = calendar_period_bounds(window, at)
    return end - start


def calendar_period_bounds(window: CalendarWindow, at: datetime) -> tuple[datetime, datetime]:
    """The UTC start and end of the calendar period (in the window's zone) that contains ``at``."""
    zone = ZoneInfo(window.timezone)
    local = at.astimezone(zone)
    if window.unit is CalendarUnit.WEEK:
        monday = local.date() - timedelta(days=local.weekday())
        start_local = datetime(monday.year, monday.month, monday.day, tzinfo=zone)
        end_date = monday + timedelta(weeks=window.count)
        end_local = datetime(end_date.year, end_date.month, end_date.day, tzinfo=zone)
    else:
        months = 1 if window.unit is CalendarUnit.MONTH else 3
        first_month = ((local.month - 1) // months) * months + 1
        start_local = datetime(local.year, first_month, 1, tzinfo=zone)
        end_local = _add_months(start_local, months * window.count)
    return start_local.astimezone(UTC), end_local.astimezone(UTC)


def _add_months(start: datetime, months: int) -> datetime:
    index = start.month - 1 + months
    year, month = start.year + index // 12, index % 12 + 1
    day = min(start.day, calendar.monthrange(year, month)[1])
    return start.replace(year=year, month=month, day=day)


def longest_alert_window(windows: tuple[AlertWindow, ...]) -> timedelta:
    """The longest window any alert looks at (0 when there are no alerts)."""
    return max((w.long for w in windows), default=timedelta())
