"""Figures as the CLI shows them. Display only: every comparison uses the unrounded values.

Ratios shown as percentages are rounded *down* at the digit shown, so a figure never looks
better than it is (an SLI of 99.8999 % against a 99.9 % objective shows as 99.899 %, not
99.900 %). Float noise far below the shown digits (``1 - 0.9`` is ``0.09999999999999998``)
is removed first, so it cannot push an exact value down a digit.
"""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_FLOOR, ROUND_HALF_EVEN, Decimal

NO_DATA = "no data"
_NOISE = Decimal("1e-12")  # far below any digit shown, far above float rounding error


def _decimal(value: float) -> Decimal:
    """``value`` as a decimal, without the float's representation noise."""
    return Decimal(repr(value)).quantize(_NOISE, rounding=ROUND_HALF_EVEN)


def count(value: float | None) -> str:
    """An event (or slice) count in full with thousands separators: ``24,192,100``."""
    if value is None:
        return "-"
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.15g}"


def objective_percent(objective: float) -> str:
    """An objective with the digits it was written with: ``99.9%``, ``99.95%``, ``99%``."""
    shown = (_decimal(objective) * 100).normalize()
    return f"{shown:f}%"


def objective_decimals(objective: float) -> int:
    """How many decimals the objective has as a percentage (99.95 % has 2)."""
    exponent = (_decimal(objective) * 100).normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def percent(value: float | None, digits: int) -> str:
    """A ratio as a percentage with ``digits`` decimals, rounded down; 'no data' for None."""
    if value is None:
        return NO_DATA
    shown = (_decimal(value) * 100).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_FLOOR)
    return f"{shown:,f}%"


def sli_percent(value: float | None, objective: float) -> str:
    """An SLI with two more decimals than its objective (at least three): ``99.950%``."""
    return percent(value, max(3, objective_decimals(objective) + 2))


def significant(value: float | None, digits: int = 3) -> str:
    """A rate with ``digits`` significant digits, never in exponent form: ``14.4``, ``1,230``."""
    if value is None:
        return "-"
    exact = _decimal(value)
    if exact.is_zero():
        return "0"
    rounded = exact.quantize(Decimal(1).scaleb(exact.adjusted() - digits + 1), ROUND_HALF_EVEN)
    if rounded.adjusted() != exact.adjusted():  # 9.996 became 10.00: one digit too many
        rounded = rounded.quantize(Decimal(1).scaleb(rounded.adjusted() - digits + 1))
    return f"{rounded:,f}"


def forecast(exhaustion_at: datetime | None, at: datetime | None) -> str:
    """When the budget runs out at the current burn rate, in words."""
    if exhaustion_at is None:
        return "not at the current rate"
    if at is not None and exhaustion_at <= at:
        return "exhausted already"
    return f"would exhaust at {exhaustion_at:%Y-%m-%d %H:%M} UTC"
