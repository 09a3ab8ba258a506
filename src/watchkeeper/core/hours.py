"""Which kind of hours a moment falls in, in a person's own time zone: business hours
(Monday to Friday, 09:00 to 18:00), sleep hours (22:00 to 07:00, every day) or off hours (the
rest: weekday evenings and early mornings, weekend days). Used to count pages by how much
they disturb the responder.

The classification uses the wall-clock time in the zone, so it follows DST changes: 23:30
local is sleep whether the offset is +01:00 or +02:00.
"""

from __future__ import annotations

from datetime import datetime, time, tzinfo
from enum import StrEnum

BUSINESS_START = time(9, 0)
BUSINESS_END = time(18, 0)
SLEEP_START = time(22, 0)
SLEEP_END = time(7, 0)
# Monday is 0 in datetime.weekday().
BUSINESS_DAYS = frozenset(range(5))


class Hours(StrEnum):
    """The kind of hours of a moment."""

    BUSINESS = "business"
    OFF = "off"
    SLEEP = "sleep"


def hours_of(at: datetime, zone: tzinfo) -> Hours:
    """Business, off or sleep hours for an aware ``at`` in the person's ``zone``."""
    if at.tzinfo is None:
        raise ValueError("at: must be timezone-aware")
    local = at.astimezone(zone)
    clock = local.time()
    if clock >= SLEEP_START or clock < SLEEP_END:
        return Hours.SLEEP
    if local.weekday() in BUSINESS_DAYS and BUSINESS_START <= clock < BUSINESS_END:
        return Hours.BUSINESS
    return Hours.OFF
