"""The MetricsSource protocol: where an SLO's good and total counts come from.

A source answers two questions about one SLO: the counts summed over given half-open windows
``[start, end)`` (what an evaluation needs, :meth:`MetricsSource.window_counts`), and the
counts per step bucket over a span (history: backfill and backtests, :meth:`history`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Protocol

from watchkeeper.core.series import EventSeries
from watchkeeper.core.slo import SLO

# A window as Unix seconds, half-open: [start, end).
Span = tuple[float, float]
# Good and total counts summed over one window.
Counts = tuple[float, float]


class MetricsSource(Protocol):
    """Anything that can give an SLO's good/total counts over windows and as history."""

    name: str

    def window_counts(self, slo: SLO, windows: Sequence[Span]) -> list[Counts]:
        """(good, total) summed over each ``[start, end)``; (0, 0) for a window without data.

        Raises SourceUnreachable when the source cannot be reached, QueryFailed when it
        refuses a query.
        """
        ...

    def history(self, slo: SLO, *, start: datetime, end: datetime, step: timedelta) -> EventSeries:
        """Good/total counts per ``step`` bucket over ``[start, end)``, each bucket an event at
        its start; buckets without data are left out (never counted as good or bad)."""
        ...
