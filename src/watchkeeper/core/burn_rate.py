"""Burn rates and multiwindow multi-burn-rate alerts (SRE Workbook ch. 5, "Alerting on SLOs").

The burn rate over a window ``w`` is how fast the error budget is being spent relative to
spending it exactly over the SLO period: ``(bad_w / total_w) / (1 - objective)``. A rate of 1
empties the budget at the end of the period; 14.4 over 1 h spends 2 % of a 30-day budget.

An alert fires when the long AND the short window both burn strictly faster than the
factor (``>`` on unrounded floats, so a rate of exactly 14.4 does not fire at factor 14.4),
and, when ``min_events`` is above 0, the long window holds at least that many events. A
window without events has no burn rate and never fires.

The array forms work elementwise (with broadcasting) over any number of SLOs and windows;
the scalar forms return ``None`` for no data.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from watchkeeper.core.budget import FloatArray, Numeric, budget_consumed, optional_float


def burn_rate(bad: Numeric, total: Numeric, objective: Numeric) -> FloatArray:
    """Burn rate ``(bad / total) / (1 - objective)`` elementwise; NaN where there are no events."""
    # Over a window, the burn rate is the share of the budget that window's error ratio uses.
    return budget_consumed(bad, total, objective)


def burn_rate_value(bad: float, total: float, objective: float) -> float | None:
    """The burn rate of one window, or None when it has no events."""
    return optional_float(burn_rate(bad, total, objective))


def alert_firing(
    long_burn_rate: Numeric,
    short_burn_rate: Numeric,
    factor: Numeric,
    long_total: Numeric,
    min_events: Numeric = 0,
) -> NDArray[np.bool_]:
    """Elementwise alert state: both burn rates ``> factor`` and enough events in the long window.

    NaN burn rates (no data) compare false, so a window without events never fires.
    ``min_events <= 0`` switches the event minimum off.
    """
    long_rates = np.asarray(long_burn_rate, dtype=np.float64)
    short_rates = np.asarray(short_burn_rate, dtype=np.float64)
    factors = np.asarray(factor, dtype=np.float64)
    minimums = np.asarray(min_events, dtype=np.float64)
    enough_events = (minimums <= 0) | (np.asarray(long_total, dtype=np.float64) >= minimums)
    result: NDArray[np.bool_] = (long_rates > factors) & (short_rates > factors) & enough_events
    return result


def is_firing(
    long_burn_rate: float | None,
    short_burn_rate: float | None,
    factor: float,
    long_total: float,
    min_events: int = 0,
) -> bool:
    """Whether one alert fires; a missing (None) burn rate in either window means it does not."""
    if long_burn_rate is None or short_burn_rate is None:
        return False
    return bool(alert_firing(long_burn_rate, short_burn_rate, factor, long_total, min_events))
