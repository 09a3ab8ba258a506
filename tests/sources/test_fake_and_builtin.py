"""The fake source and the event-store source answer the MetricsSource contract alike."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from sqlalchemy.orm import Session

from watchkeeper.core.series import EventSeries
from watchkeeper.core.slo import SLO
from watchkeeper.events import service as events_service
from watchkeeper.flows import specs as spec_flows
from watchkeeper.sources.base import MetricsSource
from watchkeeper.sources.builtin import EventStoreSource
from watchkeeper.sources.exceptions import SourceUnreachable
from watchkeeper.sources.fake import FakeSource
from watchkeeper.specs import load_text

AT = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
SPEC = """\
apiVersion: watchkeeper/v1
kind: SLO
service: shop
name: checkout
objective: 0.99
window: 1h
sli: {name: shop-requests}
alerting: {windows: [{severity: page, long: 1h, short: 5m, factor: 14.4}]}
"""
# One event a minute for the last 30 minutes: 9 good of 10, and every 10th minute 0 of 10.
MINUTES = list(range(1, 31))


def good_of(minute: int) -> int:
    return 0 if minute % 10 == 0 else 9


def check(source: MetricsSource, slo: SLO) -> None:
    end = AT.timestamp()
    counts = source.window_counts(slo, [(end - 600, end), (end - 3600, end), (end, end)])
    assert counts[0] == (float(sum(good_of(m) for m in range(1, 11))), 100.0)
    assert counts[1] == (float(sum(good_of(m) for m in MINUTES)), 300.0)
    assert counts[2] == (0.0, 0.0)
    history = source.history(
        slo,
        start=AT - timedelta(hours=1),
        end=AT,
        step=timedelta(minutes=10),
    )
    # Three 10-minute buckets with events, each at its start; the empty ones are left out.
    assert history.times.tolist() == [end - 1800, end - 1200, end - 600]
    good, total = history.sums(history.times, history.times + 600)
    assert total.tolist() == [100.0, 100.0, 100.0]
    assert good.tolist() == [81.0, 81.0, 81.0]


def test_the_event_store_source(session: Session) -> None:
    spec_flows.apply(session, spec_set=load_text(SPEC), now=AT - timedelta(days=1))
    rows = [
        {"time": AT.timestamp() - 60 * m, "sli": "shop-requests", "good": good_of(m), "total": 10}
        for m in MINUTES
    ]
    events_service.ingest(session, rows, now=AT)
    (slo,) = load_text(SPEC).slos
    check(EventStoreSource(session), slo)


def test_the_fake_source_and_its_failure() -> None:
    (slo,) = load_text(SPEC).slos
    times = np.array([AT.timestamp() - 60 * m for m in MINUTES], dtype=np.float64)
    series = EventSeries.from_counts(
        times, np.array([good_of(m) for m in MINUTES], dtype=np.float64), np.full(30, 10.0)
    )
    fake = FakeSource({slo.key: series})
    check(fake, slo)
    assert fake.asked[0] == (AT.timestamp() - 600, AT.timestamp())
    fake.failure = SourceUnreachable("source unreachable: down")
    with pytest.raises(SourceUnreachable):
        fake.window_counts(slo, [(0.0, 1.0)])
