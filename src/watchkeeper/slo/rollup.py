"""The hourly rollup of SLO history: what long-range charts read instead of every row.

Per SLO and UTC hour it keeps the number of history rows, the last evaluation's time,
budget and SLI, and each burn-rate window's peak of the hour, the figures the chart keeps
per bucket, so a chart of whole-hour buckets drawn from it equals one drawn from the rows.
The tick maintains it with each history write; paths that write history in bulk
(backfill, the demo's seeded past, the migration that introduced it) rebuild it here.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from watchkeeper.core.duration import format_duration
from watchkeeper.core.slo import SLO
from watchkeeper.core.windows import alert_windows
from watchkeeper.slo import rollup_repository


def window_labels(slo: SLO, at: datetime) -> list[str]:
    """The SLO's burn-rate windows as the chart names them: each once, in the alerts' order
    (long, then short)."""
    windows = alert_windows(slo, at)
    return list(dict.fromkeys(format_duration(w) for a in windows for w in (a.long, a.short)))


def rebuild(session: Session, *, slo_id: int, slo: SLO, start: datetime, end: datetime) -> int:
    """Recompute the rollup of SLO ``slo_id`` (stored as ``slo``) for every hour touching
    ``[start, end)`` from its history rows; how many hour rows it holds there now."""
    return rollup_repository.rebuild(
        session,
        slo_id,
        start=start,
        end=end,
        windows=window_labels(slo, end),
        objective=slo.objective,
    )
