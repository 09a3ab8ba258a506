"""Business / off / sleep hours in the responder's zone, across DST changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from watchkeeper.core.hours import Hours, hours_of

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")


@pytest.mark.parametrize(
    ("name", "at", "zone", "expected"),
    [
        (
            "weekday morning, business starts",
            datetime(2026, 11, 23, 9, 0, tzinfo=UTC),
            UTC,
            Hours.BUSINESS,
        ),
        ("weekday 08:59 is off", datetime(2026, 11, 23, 8, 59, tzinfo=UTC), UTC, Hours.OFF),
        ("weekday 18:00 is off", datetime(2026, 11, 23, 18, 0, tzinfo=UTC), UTC, Hours.OFF),
        ("weekday 22:00 is sleep", datetime(2026, 11, 23, 22, 0, tzinfo=UTC), UTC, Hours.SLEEP),
        ("06:59 is sleep", datetime(2026, 11, 24, 6, 59, tzinfo=UTC), UTC, Hours.SLEEP),
        ("07:00 is off", datetime(2026, 11, 24, 7, 0, tzinfo=UTC), UTC, Hours.OFF),
        ("saturday noon is off", datetime(2026, 11, 28, 12, 0, tzinfo=UTC), UTC, Hours.OFF),
        ("sunday 23:00 is sleep", datetime(2026, 11, 29, 23, 0, tzinfo=UTC), UTC, Hours.SLEEP),
        # 08:30 UTC on a Monday in winter is 09:30 in Berlin (+01:00): business there.
        (
            "zone shifts into business",
            datetime(2026, 11, 23, 8, 30, tzinfo=UTC),
            BERLIN,
            Hours.BUSINESS,
        ),
        # 03:00 UTC Monday is Sunday 22:00 in New York (-05:00): sleep, on a weekend night.
        ("zone shifts the day", datetime(2026, 11, 23, 3, 0, tzinfo=UTC), NEW_YORK, Hours.SLEEP),
        # Berlin summer time (+02:00): 20:30 UTC is 22:30 local, sleep; in winter it is 21:30, off.
        ("summer time", datetime(2026, 7, 1, 20, 30, tzinfo=UTC), BERLIN, Hours.SLEEP),
        ("winter time", datetime(2026, 12, 1, 20, 30, tzinfo=UTC), BERLIN, Hours.OFF),
        # The night clocks go forward (29 March 2026, 02:00 → 03:00): 05:00 UTC is 07:00 local.
        ("after spring forward", datetime(2026, 3, 29, 5, 0, tzinfo=UTC), BERLIN, Hours.OFF),
        ("before spring forward", datetime(2026, 3, 29, 4, 59, tzinfo=UTC), BERLIN, Hours.SLEEP),
        # The night clocks go back (25 October 2026, 03:00 → 02:00): 06:00 UTC is 07:00 local.
        ("after fall back", datetime(2026, 10, 25, 6, 0, tzinfo=UTC), BERLIN, Hours.OFF),
        ("before fall back", datetime(2026, 10, 25, 5, 59, tzinfo=UTC), BERLIN, Hours.SLEEP),
    ],
)
def test_hours(name: str, at: datetime, zone: ZoneInfo, expected: Hours) -> None:
    assert hours_of(at, zone) is expected, name


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        hours_of(datetime(2026, 1, 1, 12, 0), UTC)


@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2060, 1, 1)))
def test_each_week_has_45_business_hours(start: datetime) -> None:
    """Any 168 consecutive hours hold 45 business hours and 63 sleep hours (naive recount,
    on the hour, in UTC where every day has 24 hours)."""
    first = start.replace(minute=0, second=0, microsecond=0, tzinfo=UTC)
    kinds = [hours_of(first + timedelta(hours=h), UTC) for h in range(168)]
    assert kinds.count(Hours.BUSINESS) == 45
    assert kinds.count(Hours.SLEEP) == 63


@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2060, 1, 1)))
def test_same_wall_clock_same_hours(moment: datetime) -> None:
    """The classification depends only on the local wall clock, whatever the DST offset."""
    aware = moment.replace(tzinfo=UTC)
    local = aware.astimezone(BERLIN)
    as_if_utc = local.replace(tzinfo=UTC)
    assert hours_of(aware, BERLIN) is hours_of(as_if_utc, UTC)
