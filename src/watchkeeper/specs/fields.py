"""Readers for the parts of an SLO in Watchkeeper's own vocabulary.

The native format is made of these; the OpenSLO reader reuses them for what OpenSLO has no
field for (annotations carrying owner, maintenance and alert targets).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from types import MappingProxyType
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from watchkeeper.core.duration import format_duration
from watchkeeper.core.slo import (
    MAX_SLI_NAME,
    SLO,
    Alerting,
    AlertTarget,
    AlertWindow,
    CalendarUnit,
    CalendarWindow,
    MaintenanceWindow,
    RollingWindow,
    Severity,
    Window,
)
from watchkeeper.core.windows import (
    MAX_CALENDAR_COUNT,
    MAX_ROLLING_WINDOW,
    MAX_SLICE,
    MIN_ROLLING_WINDOW,
    default_alert_windows,
    factor_for,
    longest_alert_window,
    nominal_period,
)
from watchkeeper.messages import shown
from watchkeeper.specs.cursor import Cursor
from watchkeeper.specs.problems import did_you_mean
from watchkeeper.specs.promql import query_problem

# Services, SLOs and policies: at most 128 characters, so service/name keys fit what is stored.
MAX_NAME = 128
NAME_PATTERN = re.compile(rf"[a-z0-9][a-z0-9\-_.]{{0,{MAX_NAME - 1}}}")
NAME_RULE = (
    f"1 to {MAX_NAME} lowercase letters, digits, '-', '_' and '.', starting with a letter or digit"
)

WINDOW_PLACEHOLDER = re.compile(r"\{\{\s*\.window\s*\}\}")
ONE_MINUTE = timedelta(minutes=1)

WINDOW_FIELDS = ("calendar", "timezone", "count")
ALERTING_FIELDS = ("name", "page", "ticket", "windows", "min_events")
TARGET_FIELDS = ("enabled", "labels", "annotations", "runbook_url", "name")
ALERT_WINDOW_FIELDS = ("severity", "long", "short", "budget_percent", "factor")
MAINTENANCE_FIELDS = ("start", "end", "reason")


@dataclass(frozen=True)
class ParsedSLO:
    """An SLO read from a spec, with the place that names it (for duplicate reports)."""

    slo: SLO
    name_at: Cursor


# -- names and scalars -----------------------------------------------------------------------


def read_name(cursor: Cursor) -> str | None:
    """A service, SLO or policy name."""
    return cursor.name(NAME_PATTERN, NAME_RULE)


def read_sli_name(cursor: Cursor) -> str | None:
    """An SLI name (the event-store key): any text without spaces."""
    value = cursor.text()
    if value is not None and (
        not value
        or len(value) > MAX_SLI_NAME
        or any(char.isspace() for char in value)
        or not value.isprintable()
    ):
        cursor.error(
            f"{shown(value)} is not a valid SLI name "
            f"(1 to {MAX_SLI_NAME} printable characters, no spaces)"
        )
        return None
    return value


def read_tier(cursor: Cursor) -> str | None:
    """A tier: text, or a whole number turned into text."""
    if isinstance(cursor.value, int) and not isinstance(cursor.value, bool):
        return str(cursor.value)
    return cursor.text()


def read_labels(cursor: Cursor) -> dict[str, str] | None:
    """Labels: a mapping of text to text."""
    return cursor.string_map()


def ratio_from_percent(percent: float) -> float:
    """``99.9`` -> ``0.999`` without binary noise (99.9 / 100 is 0.9990000000000001)."""
    return float(Decimal(repr(percent)) / 100)


def format_ratio_hint(value: float) -> str:
    """``"; did you mean 0.999?"`` for an objective given as a percent."""
    if 1 < value < 100:
        return f"; did you mean {ratio_from_percent(value)!r}?"
    return ""


def read_objective(cursor: Cursor) -> float | None:
    """An objective as a ratio, 0 < x < 1; a percent gets a "did you mean" hint."""
    value = cursor.number()
    if value is None:
        return None
    if 0 < value < 1:
        return value
    if value == 1:
        cursor.error("an objective of 1 leaves no error budget; it must be below 1 (e.g. 0.999)")
    else:
        cursor.error(
            "must be a ratio between 0 and 1 (exclusive), "
            f"not {cursor.value!r}{format_ratio_hint(value)}"
        )
    return None


@functools.cache
def _zone_names() -> frozenset[str]:
    return frozenset(available_timezones())


def read_timezone(cursor: Cursor) -> str | None:
    """An IANA time zone name such as Europe/Berlin."""
    value = cursor.text()
    if value is None:
        return None
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        cursor.error(f"{value!r} is not an IANA time zone{did_you_mean(value, _zone_names())}")
        return None
    return value


def read_slice(cursor: Cursor) -> timedelta | None:
    """A timeslice length: a whole number of minutes, at most a day."""
    value = cursor.duration()
    if value is None or not check_slice_range(cursor, value):
        return None
    return value


def check_slice_range(cursor: Cursor, value: timedelta) -> bool:
    """Report a timeslice that is not a whole number of minutes up to a day; True when fine."""
    if value % ONE_MINUTE:
        cursor.error(f"must be a whole number of minutes, not {format_duration(value)}")
        return False
    if value > MAX_SLICE:
        cursor.error(
            f"a timeslice is at most {format_duration(MAX_SLICE)}, not {format_duration(value)}"
        )
        return False
    return True


def read_slice_target(cursor: Cursor) -> float | None:
    """The share of good events that makes a slice good: 0 < x <= 1."""
    value = cursor.number()
    if value is not None and not 0 < value <= 1:
        cursor.error(f"must be a ratio above 0 and at most 1, not {cursor.value!r}")
        return None
    return value


def check_window_placeholder(cursor: Cursor, query: str) -> None:
    """Report PromQL for counts that lacks the ``{{.window}}`` range placeholder."""
    if not WINDOW_PLACEHOLDER.search(query):
        cursor.error(
            "PromQL must contain {{.window}} where the range goes, "
            "e.g. sum(rate(http_requests_total[{{.window}}]))"
        )


def check_query(cursor: Cursor, query: str) -> bool:
    """Report PromQL that does not parse (placeholders filled); True when it parses."""
    problem = query_problem(query)
    if problem is not None:
        cursor.error(problem)
    return problem is None


# -- windows ---------------------------------------------------------------------------------


def read_window(cursor: Cursor) -> Window | None:
    """A rolling duration (``30d``) or ``{calendar: month, timezone: ..., count: 1}``."""
    if isinstance(cursor.value, str):
        duration = cursor.duration()
        if duration is None or not check_window_range(cursor, RollingWindow(duration)):
            return None
        return RollingWindow(duration)
    if not isinstance(cursor.value, Mapping):
        cursor.error("must be a duration such as 30d, or a mapping such as {calendar: month}")
        return None
    mark = cursor.mark()
    cursor.fields(WINDOW_FIELDS)
    unit = cursor.read("calendar", lambda c: c.choice(CalendarUnit), required=True)
    timezone = cursor.read("timezone", read_timezone)
    count = cursor.read("count", Cursor.integer)
    if count is not None and count < 1:
        cursor.error_at("count", "must be at least 1")
    if unit is None or not cursor.clean_since(mark):
        return None
    window = CalendarWindow(unit, timezone or "UTC", count or 1)
    return window if check_window_range(cursor, window) else None


def check_window_range(cursor: Cursor, window: Window, *, what: str = "the SLO window") -> bool:
    """Report an SLO window outside what Watchkeeper evaluates; True when it is inside.

    Rolling windows run from MIN_ROLLING_WINDOW (1h) to MAX_ROLLING_WINDOW (400d, how long
    hour buckets are kept by default); calendar windows span at most a year (52 weeks, 12
    months or 4 quarters). ``cursor`` is where the window was given (a calendar window's
    mapping, whose ``count`` is blamed).
    """
    if isinstance(window, CalendarWindow):
        most = MAX_CALENDAR_COUNT[window.unit]
        if window.count <= most:
            return True
        message = (
            f"{what} spans at most a year: at most {most} for calendar {window.unit.value}, "
            f"not {window.count}"
        )
        if isinstance(cursor.value, Mapping) and "count" in cursor.value:
            cursor.error_at("count", message)
        else:
            cursor.error(message)
        return False
    duration = window.duration
    if MIN_ROLLING_WINDOW <= duration <= MAX_ROLLING_WINDOW:
        return True
    written = cursor.value if isinstance(cursor.value, str) else format_duration(duration)
    cursor.error(
        f"{what} must be from {format_duration(MIN_ROLLING_WINDOW)} to "
        f"{format_duration(MAX_ROLLING_WINDOW)} (how long hour buckets are kept by default), "
        f"not {written}"
    )
    return False


def check_alerts_fit(
    cursor: Cursor, window: Window, windows: tuple[AlertWindow, ...] | None
) -> None:
    """Report an SLO window shorter than the longest window its alerts look at."""
    period = nominal_period(window)
    longest = longest_alert_window(
        windows if windows is not None else default_alert_windows(period)
    )
    if period < longest:
        which = "alert window" if windows is not None else "default alert window"
        cursor.error(
            f"the SLO window ({format_duration(period)}) is shorter than the longest {which} "
            f"({format_duration(longest)}); lengthen it or set alerting.windows"
        )


# -- alerting --------------------------------------------------------------------------------


def read_target(cursor: Cursor) -> AlertTarget | None:
    """Where one severity of alert goes: enabled, labels, annotations, runbook URL, name."""
    mark = cursor.mark()
    if not cursor.fields(TARGET_FIELDS):
        return None
    enabled = cursor.read("enabled", Cursor.boolean)
    labels = cursor.read("labels", read_labels) or {}
    annotations = cursor.read("annotations", read_labels) or {}
    runbook_url = cursor.read("runbook_url", Cursor.text)
    if runbook_url is not None and not runbook_url.startswith(("http://", "https://")):
        cursor.error_at("runbook_url", "must be an http:// or https:// URL")
    name = cursor.read("name", Cursor.text)
    if not cursor.clean_since(mark):
        return None
    return AlertTarget(
        enabled=enabled if enabled is not None else True,
        labels=MappingProxyType(labels),
        annotations=MappingProxyType(annotations),
        runbook_url=runbook_url,
        name=name,
    )


def read_alert_window(cursor: Cursor, period: timedelta | None) -> AlertWindow | None:
    """One burn-rate alert window, its factor given directly or as a budget percent."""
    mark = cursor.mark()
    if not cursor.fields(ALERT_WINDOW_FIELDS):
        return None
    severity = cursor.read("severity", lambda c: c.choice(Severity), required=True)
    long = cursor.read("long", Cursor.duration, required=True)
    short = cursor.read("short", Cursor.duration, required=True)
    if long is not None and short is not None and short >= long:
        cursor.error_at("short", f"must be shorter than long ({format_duration(long)})")
    budget_percent = cursor.read("budget_percent", Cursor.number)
    factor = cursor.read("factor", Cursor.number)
    if cursor.has("budget_percent") and cursor.has("factor"):
        cursor.error_at("factor", "give budget_percent or factor, not both")
    elif not cursor.has("budget_percent") and not cursor.has("factor"):
        cursor.error_at("budget_percent", "is required (or factor)")
    if budget_percent is not None and not 0 < budget_percent <= 100:
        cursor.error_at("budget_percent", "must be above 0 and at most 100")
    if factor is not None and factor <= 0:
        cursor.error_at("factor", "must be above 0")
    if not cursor.clean_since(mark) or severity is None or long is None or short is None:
        return None
    if budget_percent is not None:
        if period is None:
            return None  # the SLO window is invalid and already reported
        factor = factor_for(budget_percent, period, long)
    assert factor is not None
    return AlertWindow(severity, long, short, factor)


def read_alerting(
    cursor: Cursor, period: timedelta | None, *, allow_windows: bool = True
) -> Alerting | None:
    """The alerting block: page and ticket targets, windows, min_events, name."""
    mark = cursor.mark()
    allowed = (
        ALERTING_FIELDS if allow_windows else tuple(f for f in ALERTING_FIELDS if f != "windows")
    )
    if not cursor.fields(allowed):
        return None
    page = cursor.read("page", read_target)
    ticket = cursor.read("ticket", read_target)
    windows: tuple[AlertWindow, ...] | None = None
    windows_cursor = cursor.get("windows") if allow_windows else None
    if windows_cursor is not None:
        items = windows_cursor.items()
        if items == []:
            windows_cursor.error(
                "must list at least one window; leave it out for the defaults, or switch "
                "alerts off with page.enabled / ticket.enabled: false"
            )
        parsed = [read_alert_window(item, period) for item in items or []]
        windows = tuple(w for w in parsed if w is not None)
    min_events = cursor.read("min_events", Cursor.integer)
    if min_events is not None and min_events < 0:
        cursor.error_at("min_events", "must be 0 or more")
    name = cursor.read("name", Cursor.text)
    if not cursor.clean_since(mark):
        return None
    if windows_cursor is not None and period is None:
        return None
    return Alerting(
        page=page or AlertTarget(),
        ticket=ticket or AlertTarget(),
        windows=windows,
        min_events=min_events or 0,
        name=name,
    )


# -- maintenance -----------------------------------------------------------------------------


def read_maintenance(cursor: Cursor) -> tuple[MaintenanceWindow, ...] | None:
    """Maintenance windows: ``[{start, end, reason}]`` with UTC offsets, end after start."""
    items = cursor.items()
    if items is None:
        return None
    mark = cursor.mark()
    result: list[MaintenanceWindow] = []
    for item in items:
        if not item.fields(MAINTENANCE_FIELDS):
            continue
        start = item.read("start", Cursor.timestamp, required=True)
        end = item.read("end", Cursor.timestamp, required=True)
        reason = item.read("reason", Cursor.text) or ""
        if start is not None and end is not None:
            if end <= start:
                item.error_at("end", "must be after start")
            else:
                result.append(MaintenanceWindow(start, end, reason))
    return tuple(result) if cursor.clean_since(mark) else None
