"""The built-in SLI event store as a metrics source (events/ behind the MetricsSource protocol).

Counts come from the stored buckets (1-minute, and 1-hour past compaction): a window sums
the buckets that start inside it, so windows are exact to the bucket.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

import numpy as np
from sqlalchemy.orm import Session

from watchkeeper.core.series import EventSeries
from watchkeeper.core.slo import SLO
from watchkeeper.events import service as events_service
from watchkeeper.sources.base import Counts, Span
from watchkeeper.sources.fake import bucketed

BUILTIN_SOURCE = "watchkeeper"


class EventStoreSource:
    """The event store of one session's database."""

    name = BUILTIN_SOURCE

    def __init__(self, session: Session) -> None:
        self._session = session

    def _stored(self, slo: SLO, start: float, end: float) -> EventSeries:
        ids = events_service.sli_ids_by_name(self._session, [slo.sli.store_key])
        sli_id = ids.get(slo.sli.store_key)
        if sli_id is None or end <= start:
            return EventSeries.empty()
        stored = events_service.read_buckets(self._session, [sli_id], start=start, end=end)
        found = stored.get(sli_id)
        return EventSeries.empty() if found is None else EventSeries.from_counts(*found)

    def window_counts(self, slo: SLO, windows: Sequence[Span]) -> list[Counts]:
        """Stored buckets summed over each window."""
        if not windows:
            return []
        series = self._stored(slo, min(w[0] for w in windows), max(w[1] for w in windows))
        starts = np.array([w[0] for w in windows], dtype=np.float64)
        ends = np.array([w[1] for w in windows], dtype=np.float64)
        good, total = series.sums(starts, ends)
        return list(zip(good.tolist(), total.tolist(), strict=True))

    def history(self, slo: SLO, *, start: datetime, end: datetime, step: timedelta) -> EventSeries:
        """Stored buckets summed per ``step`` over ``[start, end)``; empty steps left out."""
        series = self._stored(slo, start.timestamp(), end.timestamp())
        return bucketed(series, start=start, end=end, step=step)
