"""SLI ratios and error budgets from summed counts (SRE Workbook ch. 2, "Implementing SLOs").

The error budget is ``1 - objective``: the fraction of events allowed to be bad. The budget
remaining over the SLO window is ``1 - (bad / total) / (1 - objective)``, from counts summed
over the whole window, so it is weighted by traffic and never an average of per-bucket
ratios. It goes negative once the budget is overspent and is never clamped.

Every formula takes floats or NumPy arrays and works elementwise with broadcasting (one call
evaluates 10,000 SLOs); a window without events (``total <= 0``) has no ratio and yields
NaN. The ``*_value`` wrappers take plain floats and return ``None`` for no data, never 0 or 1.
Formulas take the count they are defined with: ``good`` for the SLI, ``bad`` for budgets.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
Numeric = float | NDArray[Any]


def _float_array(values: Numeric) -> FloatArray:
    return np.asarray(values, dtype=np.float64)


def _ratio(numerator: Numeric, denominator: Numeric) -> FloatArray:
    top, bottom = np.broadcast_arrays(_float_array(numerator), _float_array(denominator))
    result = np.full(top.shape, np.nan, dtype=np.float64)
    # ``where`` skips the empty windows entirely, so no 0/0 warning is ever raised.
    np.divide(top, bottom, out=result, where=bottom > 0)
    return result


def optional_float(value: Numeric) -> float | None:
    """A one-element result as a float, with NaN (no data) turned into None."""
    number = float(np.asarray(value, dtype=np.float64))
    return None if np.isnan(number) else number


def error_budget(objective: Numeric) -> FloatArray:
    """The allowed fraction of bad events, ``1 - objective``; objectives must lie in (0, 1)."""
    objectives = _float_array(objective)
    if not np.all((objectives > 0.0) & (objectives < 1.0)):
        raise ValueError("an objective must lie strictly between 0 and 1")
    return 1.0 - objectives


def sli_ratio(good: Numeric, total: Numeric) -> FloatArray:
    """The SLI ``good / total``; NaN where there are no events."""
    return _ratio(good, total)


def error_ratio(bad: Numeric, total: Numeric) -> FloatArray:
    """The error ratio ``bad / total``; NaN where there are no events."""
    return _ratio(bad, total)


def budget_consumed(bad: Numeric, total: Numeric, objective: Numeric) -> FloatArray:
    """Share of the error budget spent, ``(bad / total) / (1 - objective)``; NaN for no data."""
    return error_ratio(bad, total) / error_budget(objective)


def budget_remaining(bad: Numeric, total: Numeric, objective: Numeric) -> FloatArray:
    """Share of the error budget left, ``1 - consumed``; below 0 when overspent, NaN for no data."""
    return 1.0 - budget_consumed(bad, total, objective)


def sli_value(good: float, total: float) -> float | None:
    """The SLI of one window, or None when it has no events."""
    return optional_float(sli_ratio(good, total))


def budget_remaining_value(bad: float, total: float, objective: float) -> float | None:
    """The budget remaining of one window, or None when it has no events."""
    return optional_float(budget_remaining(bad, total, objective))
