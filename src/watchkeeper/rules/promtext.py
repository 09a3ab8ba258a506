"""Prometheus text forms shared by both rule generators: durations, numbers, names, filters.

Sloth renders numbers with Go's ``%g`` (shortest digits, exponent below 1e-4 and from 1e6 on)
and windows with Prometheus' own duration format (``28d`` is ``4w``); compat mode reproduces
both so record names and thresholds are identical text.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import timedelta
from decimal import Decimal

from watchkeeper.specs.promql import WINDOW_PLACEHOLDER

LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
METRIC_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")

_MS_UNITS = (
    ("y", 365 * 24 * 3_600_000, True),
    ("w", 7 * 24 * 3_600_000, True),
    ("d", 24 * 3_600_000, False),
    ("h", 3_600_000, False),
    ("m", 60_000, False),
    ("s", 1_000, False),
    ("ms", 1, False),
)


def prometheus_duration(value: timedelta) -> str:
    """A duration as Prometheus prints it: years and weeks only when exact (``28d`` is ``4w``)."""
    remaining = round(value.total_seconds() * 1000)
    if remaining == 0:
        return "0s"
    text = ""
    for unit, size, exact in _MS_UNITS:
        if exact and remaining % size:
            continue
        count = remaining // size
        if count > 0:
            text += f"{count}{unit}"
            remaining -= count * size
    return text


def go_float(value: float) -> str:
    """A float as Go's ``%g``/``%v`` writes it: shortest round-trip digits, ``1e-05`` style
    exponents when the decimal exponent is below -4 or at least 6."""
    if value == 0:
        return "0"
    number = Decimal(repr(value))
    sign, digits, exponent = number.as_tuple()
    assert isinstance(exponent, int)
    significant = list(digits)
    while len(significant) > 1 and significant[-1] == 0:
        significant.pop()
        exponent += 1
    decimal_exponent = len(significant) + exponent - 1
    prefix = "-" if sign else ""
    if decimal_exponent < -4 or decimal_exponent >= 6:
        mantissa = str(significant[0])
        if len(significant) > 1:
            mantissa += "." + "".join(map(str, significant[1:]))
        marker = "-" if decimal_exponent < 0 else "+"
        return f"{prefix}{mantissa}e{marker}{abs(decimal_exponent):02d}"
    return prefix + format(number.copy_abs().normalize(), "f")


def exact_float(value: float) -> str:
    """A float written so Prometheus parses back the same binary value (Python's repr)."""
    return repr(float(value))


def percent_of(objective: float) -> float:
    """The percent a ratio objective was written as (``0.999`` -> ``99.9``), as Sloth holds it."""
    return float(Decimal(repr(objective)) * 100)


def plain_number(value: float) -> str:
    """Shortest digits without an exponent (Go's ``FormatFloat(v, 'f', -1, 64)``)."""
    return format(Decimal(repr(value)).normalize(), "f")


def fill_window(query: str, window: str) -> str:
    """A query with every ``{{.window}}`` replaced by ``window``."""
    return WINDOW_PLACEHOLDER.sub(window, query)


def escape_label_value(value: str) -> str:
    """A label value inside double quotes in PromQL."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def label_filter(labels: Mapping[str, str]) -> str:
    """``{a="1", b="2"}`` with the labels sorted by name, as Sloth writes its filters."""
    inner = ", ".join(f'{name}="{escape_label_value(labels[name])}"' for name in sorted(labels))
    return "{" + inner + "}"
