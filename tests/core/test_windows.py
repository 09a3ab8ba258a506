"""Alert windows, factors and SLO periods, including calendar periods across DST."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from watchkeeper.core.slo import (
    SLI,
    SLO,
    Alerting,
    AlertWindow,
    CalendarUnit,
    CalendarWindow,
    RollingWindow,
    Severity,
)
from watchkeeper.core.windows import (
    DEFAULT_WINDOW_SPECS,
    REPORTED_BURN_WINDOWS,
    alert_windows,
    calendar_period_bounds,
    default_alert_windows,
    factor_for,
    longest_alert_window,
    nominal_period,
    window_start,
)

MINUTE, HOUR, DAY = timedelta(minutes=1), timedelta(hours=1), timedelta(days=1)


def test_thirty_day_factors_are_exact() -> None:
    # SRE Workbook Table 5-8: 2 % in 1 h, 5 % in 6 h, 10 % in 1 d, 10 % in 3 d of 720 h:
    # 0.02 * 720 = 14.4, 0.05 * 720 / 6 = 6, 0.1 * 720 / 24 = 3, 0.1 * 720 / 72 = 1.
    windows = default_alert_windows(timedelta(days=30))
    assert [w.factor for w in windows] == [14.4, 6.0, 3.0, 1.0]
    assert [(w.severity, w.long, w.short) for w in windows] == [
        (Severity.PAGE, HOUR, 5 * MINUTE),
        (Severity.PAGE, 6 * HOUR, 30 * MINUTE),
        (Severity.TICKET, DAY, 2 * HOUR),
        (Severity.TICKET, 3 * DAY, 6 * HOUR),
    ]


def test_twenty_eight_day_factors() -> None:
    # Same budget percents over 672 h: 13.44, 5.6, 2.8, 0.9333... computed in Sloth's order
    # (seconds to spend the share, then divided by the window's seconds).
    period = 28 * 86_400.0
    expected = [
        2.0 * period / 100.0 / 3_600.0,
        5.0 * period / 100.0 / 21_600.0,
        10.0 * period / 100.0 / 86_400.0,
        10.0 * period / 100.0 / 259_200.0,
    ]
    factors = [w.factor for w in default_alert_windows(timedelta(days=28))]
    assert factors == expected
    # Every step divides exact integers, so each is the double nearest the true value.
    assert factors == [13.44, 5.6, 2.8, 14 / 15]


@pytest.mark.parametrize(
    ("budget_percent", "period", "long", "factor"),
    [
        (2.0, timedelta(days=30), HOUR, 14.4),
        (100.0, timedelta(days=30), timedelta(days=30), 1.0),
        (10.0, timedelta(days=7), DAY, 0.7),
    ],
)
def test_factor_for(
    budget_percent: float, period: timedelta, long: timedelta, factor: float
) -> None:
    assert factor_for(budget_percent, period, long) == factor


def test_reported_burn_windows() -> None:
    assert REPORTED_BURN_WINDOWS == (
        5 * MINUTE,
        30 * MINUTE,
        HOUR,
        2 * HOUR,
        6 * HOUR,
        DAY,
        3 * DAY,
    )
    assert len(DEFAULT_WINDOW_SPECS) == 4


def _slo(window: RollingWindow | CalendarWindow, alerting: Alerting | None = None) -> SLO:
    return SLO("svc", "avail", SLI("req"), 0.999, window, alerting or Alerting())


def test_alert_windows_custom_or_default() -> None:
    custom = (AlertWindow(Severity.PAGE, 2 * HOUR, 10 * MINUTE, 7.0),)
    assert alert_windows(_slo(RollingWindow(30 * DAY), Alerting(windows=custom))) == custom
    assert alert_windows(_slo(RollingWindow(30 * DAY))) == default_alert_windows(30 * DAY)
    # A calendar window's factors follow the length of the period containing ``at``:
    # February 2024 has 29 days, so the page factor is 0.02 * 696 = 13.92.
    february = datetime(2024, 2, 10, tzinfo=UTC)
    month = _slo(CalendarWindow(CalendarUnit.MONTH))
    assert alert_windows(month, february)[0].factor == 13.92
    # Without ``at`` the typical 30-day month is used.
    assert alert_windows(month)[0].factor == 14.4


@pytest.mark.parametrize(
    ("window", "period"),
    [
        (RollingWindow(timedelta(days=28)), timedelta(days=28)),
        (CalendarWindow(CalendarUnit.WEEK), timedelta(days=7)),
        (CalendarWindow(CalendarUnit.MONTH), timedelta(days=30)),
        (CalendarWindow(CalendarUnit.QUARTER), timedelta(days=91)),
        (CalendarWindow(CalendarUnit.WEEK, count=2), timedelta(days=14)),
    ],
)
def test_typical_nominal_period(window: RollingWindow | CalendarWindow, period: timedelta) -> None:
    assert nominal_period(window) == period


BERLIN = "Europe/Berlin"


def _utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("name", "window", "at", "start", "end"),
    [
        # Berlin is UTC+1 in winter (CET) and UTC+2 in summer (CEST); DST starts on the last
        # Sunday of March at 02:00 local, ends on the last Sunday of October at 03:00 local.
        (
            "March 2024: midnight CET to midnight CEST (31 d - 1 h)",
            CalendarWindow(CalendarUnit.MONTH, BERLIN),
            _utc(2024, 3, 15, 12),
            _utc(2024, 2, 29, 23),
            _utc(2024, 3, 31, 22),
        ),
        (
            "October 2024: midnight CEST to midnight CET (31 d + 1 h)",
            CalendarWindow(CalendarUnit.MONTH, BERLIN),
            _utc(2024, 10, 31, 12),
            _utc(2024, 9, 30, 22),
            _utc(2024, 10, 31, 23),
        ),
        (
            "New Year's Eve 23:30 UTC is already January in Berlin",
            CalendarWindow(CalendarUnit.MONTH, BERLIN),
            datetime(2024, 12, 31, 23, 30, tzinfo=UTC),
            _utc(2024, 12, 31, 23),
            _utc(2025, 1, 31, 23),
        ),
        (
            "22:59 UTC on Dec 31 is still December in Berlin",
            CalendarWindow(CalendarUnit.MONTH, BERLIN),
            datetime(2024, 12, 31, 22, 59, tzinfo=UTC),
            _utc(2024, 11, 30, 23),
            _utc(2024, 12, 31, 23),
        ),
        (
            "Q4 2024 runs from CEST into CET and across the year end",
            CalendarWindow(CalendarUnit.QUARTER, BERLIN),
            _utc(2024, 11, 15),
            _utc(2024, 9, 30, 22),
            _utc(2024, 12, 31, 23),
        ),
        (
            "Q1 2025 spans the March DST change",
            CalendarWindow(CalendarUnit.QUARTER, BERLIN),
            _utc(2025, 3, 31, 12),
            _utc(2024, 12, 31, 23),
            _utc(2025, 3, 31, 22),
        ),
        (
            "the week of the October 2024 DST change (7 d + 1 h)",
            CalendarWindow(CalendarUnit.WEEK, BERLIN),
            _utc(2024, 10, 27, 12),  # a Sunday
            _utc(2024, 10, 20, 22),  # Monday 21 00:00 CEST
            _utc(2024, 10, 27, 23),  # Monday 28 00:00 CET
        ),
        (
            "the week across the 2024/2025 year end",
            CalendarWindow(CalendarUnit.WEEK, BERLIN),
            _utc(2025, 1, 1, 12),  # a Wednesday
            _utc(2024, 12, 29, 23),  # Monday 30 Dec 00:00 CET
            _utc(2025, 1, 5, 23),  # Monday 6 Jan 00:00 CET
        ),
        (
            "Sunday 23:30 UTC is Monday in Berlin: the next week",
            CalendarWindow(CalendarUnit.WEEK, BERLIN),
            datetime(2025, 1, 5, 23, 30, tzinfo=UTC),
            _utc(2025, 1, 5, 23),
            _utc(2025, 1, 12, 23),
        ),
        (
            "two-week window",
            CalendarWindow(CalendarUnit.WEEK, "UTC", count=2),
            _utc(2024, 1, 3),
            _utc(2024, 1, 1),
            _utc(2024, 1, 15),
        ),
        (
            "two-month window across the year end",
            CalendarWindow(CalendarUnit.MONTH, "UTC", count=2),
            _utc(2024, 12, 5),
            _utc(2024, 12, 1),
            _utc(2025, 2, 1),
        ),
        (
            "leap February in UTC",
            CalendarWindow(CalendarUnit.MONTH),
            _utc(2024, 2, 29, 23, 59),
            _utc(2024, 2, 1),
            _utc(2024, 3, 1),
        ),
    ],
)
def test_calendar_period_bounds(
    name: str, window: CalendarWindow, at: datetime, start: datetime, end: datetime
) -> None:
    assert calendar_period_bounds(window, at) == (start, end), name
    assert window_start(window, at) == start
    assert nominal_period(window, at) == end - start


def test_dst_changes_the_period_length() -> None:
    march = CalendarWindow(CalendarUnit.MONTH, BERLIN)
    assert nominal_period(march, _utc(2024, 3, 10)) == timedelta(days=31) - HOUR
    assert nominal_period(march, _utc(2024, 10, 10)) == timedelta(days=31) + HOUR


def test_rolling_window_start() -> None:
    at = _utc(2024, 3, 1)
    assert window_start(RollingWindow(timedelta(days=30)), at) == _utc(2024, 1, 31)


def test_longest_alert_window() -> None:
    assert longest_alert_window(default_alert_windows(timedelta(days=30))) == 3 * DAY
    assert longest_alert_window(()) == timedelta(0)
