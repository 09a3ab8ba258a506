"""Prometheus-style durations (``5m``, ``1h30m``, ``30d``, ``2w``) as used by OpenSLO and Sloth.

Written here rather than taken from a general parser because the spec formats accept exactly
Prometheus' grammar (units y w d h m s ms, largest first, integers only) and general parsers
accept forms these formats reject (``1.5 hours``, ``1:30``).
"""

from __future__ import annotations

import functools
import re
from datetime import timedelta

_UNITS: tuple[tuple[str, timedelta], ...] = (
    ("y", timedelta(days=365)),
    ("w", timedelta(weeks=1)),
    ("d", timedelta(days=1)),
    ("h", timedelta(hours=1)),
    ("m", timedelta(minutes=1)),
    ("s", timedelta(seconds=1)),
    ("ms", timedelta(milliseconds=1)),
)
# ASCII digits only, as in Prometheus (\d would also take other scripts' digits).
_PATTERN = re.compile(
    r"^(?:([0-9]+)y)?(?:([0-9]+)w)?(?:([0-9]+)d)?(?:([0-9]+)h)?(?:([0-9]+)m)?(?:([0-9]+)s)?"
    r"(?:([0-9]+)ms)?$"
)
_MS_PER_UNIT = tuple(unit // timedelta(milliseconds=1) for _, unit in _UNITS)
# The longest duration accepted: the whole days a timedelta holds (about 2.7 million years).
MAX_DURATION = timedelta(days=timedelta.max.days)
MAX_DURATION_MS = MAX_DURATION // timedelta(milliseconds=1)
# More digits than this in one amount is beyond MAX_DURATION_MS whatever the unit; checked
# before converting so a hostile amount of thousands of digits is never turned into an int.
_MAX_AMOUNT_DIGITS = len(str(MAX_DURATION_MS))


def parse_duration(text: str) -> timedelta:
    """Parse a Prometheus duration such as ``30d`` or ``1h30m``; raise ValueError otherwise."""
    cleaned = text.strip()
    match = _PATTERN.match(cleaned)
    if not cleaned or match is None or not any(match.groups()):
        raise ValueError(f"{text!r} is not a duration (use forms like 5m, 1h30m, 30d, 4w)")
    total_ms = 0
    for unit_ms, amount in zip(_MS_PER_UNIT, match.groups(), strict=True):
        if amount:
            if len(amount.lstrip("0")) > _MAX_AMOUNT_DIGITS:
                total_ms = MAX_DURATION_MS + 1
                break
            total_ms += unit_ms * int(amount)
    if total_ms > MAX_DURATION_MS:
        raise ValueError(
            f"{_preview(text)} is too long to be a duration "
            f"(the longest is {format_duration(MAX_DURATION)})"
        )
    if total_ms <= 0:
        raise ValueError(f"{text!r} must be a positive duration")
    return timedelta(milliseconds=total_ms)


def _preview(text: str) -> str:
    return repr(text if len(text) <= 40 else f"{text[:20]}...{text[-10:]}")


@functools.lru_cache(maxsize=4096)
def format_duration(value: timedelta) -> str:
    """Render a timedelta in the shortest Prometheus form: ``1h30m``, ``30d``, ``5m``."""
    # Cached: status documents name the same few windows thousands of times per request.
    # Whole milliseconds, half up, in integer arithmetic (a float loses them past 285 years).
    remaining_ms, rest = divmod(value, timedelta(milliseconds=1))
    if rest * 2 >= timedelta(milliseconds=1):
        remaining_ms += 1
    if remaining_ms <= 0:
        raise ValueError("only positive durations can be formatted")
    parts: list[str] = []
    # Weeks and years are skipped so 14d stays "14d" (how SLO windows are usually written).
    for name, unit in _UNITS:
        if name in ("y", "w"):
            continue
        count, remaining_ms = divmod(remaining_ms, unit // timedelta(milliseconds=1))
        if count:
            parts.append(f"{count}{name}")
    return "".join(parts)
