"""A metrics source for tests: counts from an in-memory series, or a chosen failure."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

import numpy as np

from watchkeeper.core.series import EventSeries, to_unix_seconds
from watchkeeper.core.slo import SLO
from watchkeeper.errors import WatchkeeperError
from watchkeeper.sources.base import Counts, Span


class FakeSource:
    """Answers from an EventSeries per SLO key (or one for all); ``failure`` is raised instead
    when set. Records every window asked for in ``asked``."""

    def __init__(
        self,
        series: EventSeries | Mapping[str, EventSeries],
        *,
        name: str = "fake",
        failure: WatchkeeperError | None = None,
    ) -> None:
        self.name = name
        self._series = series
        self.failure = failure
        self.asked: list[Span] = []

    def _of(self, slo: SLO) -> EventSeries:
        if isinstance(self._series, EventSeries):
            return self._series
        return self._series.get(slo.key, EventSeries.empty())

    def window_counts(self, slo: SLO, windows: Sequence[Span]) -> list[Counts]:
        """Sums of the SLO's series over each window."""
        if self.failure is not None:
            raise self.failure
        self.asked.extend(windows)
        starts = np.array([w[0] for w in windows], dtype=np.float64)
        ends = np.array([w[1] for w in windows], dtype=np.float64)
        good, total = self._of(slo).sums(starts, ends)
        return list(zip(good.tolist(), total.tolist(), strict=True))

    def history(self, slo: SLO, *, start: datetime, end: datetime, step: timedelta) -> EventSeries:
        """The series summed into ``step`` buckets; empty buckets left out."""
        if self.failure is not None:
            raise self.failure
        return bucketed(self._of(slo), start=start, end=end, step=step)


def bucketed(
    series: EventSeries, *, start: datetime, end: datetime, step: timedelta
) -> EventSeries:
    """``series`` summed into ``step`` buckets over ``[start, end)``; empty buckets left out."""
    first, seconds = to_unix_seconds(start), step.total_seconds()
    count = int((to_unix_seconds(end) - first) // seconds)
    if count <= 0:
        return EventSeries.empty()
    starts = first + seconds * np.arange(count, dtype=np.float64)
    good, total = series.sums(starts, starts + seconds)
    keep = total > 0
    return EventSeries.from_counts(starts[keep], good[keep], total[keep])
