"""Prometheus-style durations (``5m``, ``1h30m``, ``30d``, ``2w``) as used by OpenSLO and Sloth.

Written here rather than taken from a general parser because the spec formats accept exactly
Prometheus' grammar (units y w d h m s ms, largest first, integers only) and general parsers
accept forms these formats reject (``1.5 hours``, ``1:30``).
"""

from __future__ import annotations

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
_PATTERN = re.compile(
    r"^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$"
)


def parse_duration(text: str) -> timedelta:
    """Parse a Prometheus duration such as ``30d`` or ``1h30m``; raise ValueError otherwise."""
    cleaned = text.strip()
    match = _PATTERN.match(cleaned)
    if not cleaned or match is None or not any(match.groups()):
        raise ValueError(f"{text!r} is not a duration (use forms like 5m, 1h30m, 30d, 4w)")
    total = timedelta()
    for (_, unit), amount in zip(_UNITS, match.groups(), strict=True):
        if amount:
            total += unit * int(amount)
    if total <= timedelta():
        raise ValueError(f"{text!r} must be a positive duration")
    return total


def format_duration(value: timedelta) -> str:
    """Render a timedelta in the shortest Prometheus form: ``1h30m``, ``30d``, ``5m``."""
    remaining_ms = round(value.total_seconds() * 1000)
    if remaining_ms <= 0:
        raise ValueError("only positive durations can be formatted")
    parts: list[str] = []
    # Weeks and years are skipped so 14d stays "14d" (how SLO windows are usually written).
    for name, unit in _UNITS:
        if name in ("y", "w"):
            continue
        unit_ms = round(unit.total_seconds() * 1000)
        count, remaining_ms = divmod(remaining_ms, unit_ms)
        if count:
            parts.append(f"{count}{name}")
    return "".join(parts)
