"""Backtesting burn-rate alerts: hand-worked scenarios, then the vectorised replay against a
naive one that calls ``core.evaluation.evaluate`` at every step.

The outage scenario, worked by hand. Objective 0.999 (budget 0.001), 30 d rolling window, the
default windows (page 1h/5m > 14.4 and 6h/30m > 6; ticket 1d/2h > 3 and 3d/6h > 1). Traffic:
100 events a minute in one bucket per minute, from NOON - 4 d to NOON + 12 h, all good except
the ten buckets 12:00 ... 12:09, which are all bad (1,000 bad events). A window [t - w, t)
holding k outage buckets has burn rate (100 k / (100 x minutes of w)) / 0.001:

* page 1h/5m: long 16.67 k, short 200 k: both > 14.4 once k >= 1 in each. First at 12:01
  (12:00's bucket is not in [11:00, 12:00)); the short window is empty again from 12:15.
* page 6h/30m: long 2.78 k > 6 needs k >= 3: from 12:03; short 33.3 k until 12:40, when
  [12:10, 12:40) holds no outage bucket.
  So the page fires 12:01 and clears 12:40: 39 minutes. Its peak long-window burn rate is the
  1h window's with all ten buckets, (1,000 / 6,000) / 0.001 = 166.67 (12:10 ... 12:14).
* ticket 1d/2h: long 0.694 k > 3 needs k >= 5: from 12:05; short until 12:10 + 2 h = 14:10.
* ticket 3d/6h: long 0.2315 k > 1 needs k >= 5: from 12:05; short until 12:10 + 6 h = 18:10.
  So the ticket fires 12:05 and clears 18:10: 6 h 5 m; peak (1,000 / 144,000) / 0.001 = 6.94.

Budget consumed = bad events during the alert / (events of the 30 d window ending with the
alert x 0.001). The window holds all traffic since NOON - 4 d:

* page [12:01, 12:40): 9 bad buckets = 900 bad; window 4 d + 40 m = 5,800 buckets = 580,000
  events, budget 580: 900 / 580 = 1.5517.
* ticket [12:05, 18:10): 5 bad buckets = 500; window 4 d + 6 h 10 m = 6,130 buckets =
  613,000 events, budget 613: 500 / 613 = 0.8157.
* range [11:00, 20:00): 1,000 bad; window 4 d + 8 h = 6,240 buckets, budget 624: 1.6026.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from watchkeeper.core import backtest as backtest_module
from watchkeeper.core.backtest import (
    Backtest,
    backtest,
    evaluation_times,
    firing_series,
    with_alerting,
)
from watchkeeper.core.burn_rate import burn_rate
from watchkeeper.core.evaluation import evaluate
from watchkeeper.core.incident import budget_burned
from watchkeeper.core.series import CountSource, EventSeries, FloatArray, to_unix_seconds
from watchkeeper.core.slo import (
    SLI,
    SLO,
    Alerting,
    AlertWindow,
    CalendarUnit,
    CalendarWindow,
    MaintenanceWindow,
    RollingWindow,
    Severity,
    SLIKind,
    Window,
)
from watchkeeper.core.windows import alert_windows, nominal_period

MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
NOON = datetime(2026, 11, 2, 12, tzinfo=UTC)
PAGE, TICKET = Severity.PAGE, Severity.TICKET


def _slo(
    objective: float = 0.999,
    window: Window | None = None,
    alerting: Alerting | None = None,
    sli: SLI | None = None,
    maintenance: tuple[MaintenanceWindow, ...] = (),
) -> SLO:
    return SLO(
        "shop",
        "availability",
        sli or SLI("shop-requests"),
        objective,
        window or RollingWindow(timedelta(days=30)),
        alerting=alerting or Alerting(),
        maintenance=maintenance,
    )


def _outage_series(outage_minutes: int = 10, per_minute: float = 100.0) -> EventSeries:
    """100 events a minute from NOON - 4 d to NOON + 12 h; all bad from NOON for a while."""
    first = NOON - 4 * DAY
    minutes = np.arange(int((4 * DAY + 12 * HOUR) / MINUTE))
    times = to_unix_seconds(first) + minutes * 60.0
    total = np.full(minutes.size, per_minute)
    good = total.copy()
    start = to_unix_seconds(NOON)
    good[(times >= start) & (times < start + outage_minutes * 60)] = 0.0
    return EventSeries.from_counts(times, good, total)


def _summary(result: Backtest) -> list[tuple[Severity, datetime, datetime | None]]:
    return [(e.severity, e.fired_at, e.cleared_at) for e in result.episodes]


# -- hand-worked scenarios -------------------------------------------------------------------


def test_a_ten_minute_outage_pages_and_tickets_when_worked_out_by_hand() -> None:
    result = backtest(_slo(), _outage_series(), start=NOON - HOUR, end=NOON + 8 * HOUR)
    assert _summary(result) == [
        (PAGE, NOON + MINUTE, NOON + 40 * MINUTE),
        (TICKET, NOON + 5 * MINUTE, NOON + 6 * HOUR + 10 * MINUTE),
    ]
    page, ticket = result.episodes
    assert page.duration == 39 * MINUTE
    assert ticket.duration == 6 * HOUR + 5 * MINUTE
    assert page.peak_burn_rate == pytest.approx((1000 / 6000) / 0.001)
    assert ticket.peak_burn_rate == pytest.approx((1000 / 144_000) / 0.001)
    assert (page.bad, page.window_total) == (900.0, 580_000.0)
    assert page.budget_consumed == pytest.approx(900 / 580)
    assert (ticket.bad, ticket.window_total) == (500.0, 613_000.0)
    assert ticket.budget_consumed == pytest.approx(500 / 613)
    assert not page.firing_at_start and not ticket.firing_at_start
    assert result.summary[PAGE].alerts == 1
    assert result.summary[PAGE].firing == 39 * MINUTE
    assert result.summary[TICKET].firing == 6 * HOUR + 5 * MINUTE
    assert (result.bad, result.window_total) == (1000.0, 624_000.0)
    assert result.budget_consumed == pytest.approx(1000 / 624)
    assert result.steps == 9 * 60 + 1  # 11:00 ... 20:00 inclusive
    assert [w.factor for w in result.windows] == pytest.approx([14.4, 6, 3, 1])


def test_an_alert_still_firing_at_the_end_has_no_clear_time_and_lasts_until_the_end() -> None:
    end = NOON + 30 * MINUTE
    result = backtest(_slo(), _outage_series(), start=NOON - HOUR, end=end)
    page, ticket = result.episodes
    assert (page.cleared_at, page.duration) == (None, 29 * MINUTE)
    assert (ticket.cleared_at, ticket.duration) == (None, 25 * MINUTE)
    # Bad events up to the end of the range: the buckets 12:01 ... 12:09.
    assert page.bad == 900.0


def test_an_alert_already_firing_at_the_start_is_marked() -> None:
    result = backtest(_slo(), _outage_series(), start=NOON + 20 * MINUTE, end=NOON + 10 * HOUR)
    page, ticket = result.episodes
    assert (page.fired_at, page.cleared_at) == (NOON + 20 * MINUTE, NOON + 40 * MINUTE)
    assert page.firing_at_start and ticket.firing_at_start
    # Nothing bad happened during the range's part of the alert.
    assert page.bad == 0.0
    assert page.budget_consumed == 0.0


def test_zero_traffic_never_fires_and_has_no_budget_figure() -> None:
    result = backtest(_slo(), EventSeries.empty(), start=NOON - HOUR, end=NOON + HOUR)
    assert result.episodes == ()
    assert result.summary[PAGE].alerts == result.summary[TICKET].alerts == 0
    assert result.summary[PAGE].firing == timedelta()
    assert result.budget_consumed is None


def test_windows_without_events_do_not_fire_even_after_an_outage() -> None:
    # Only bad events, then nothing: once the short window is empty it has no burn rate.
    times = [to_unix_seconds(NOON + i * MINUTE) for i in range(3)]
    series = EventSeries.from_counts(times, [0, 0, 0], [10, 10, 10])
    windows = (AlertWindow(PAGE, timedelta(minutes=10), timedelta(minutes=1), 1.0),)
    result = backtest(_slo(), series, start=NOON, end=NOON + HOUR, windows=windows)
    assert _summary(result) == [(PAGE, NOON + MINUTE, NOON + 4 * MINUTE)]


def test_overriding_windows_replays_those_windows_instead() -> None:
    # A 10m/1m page at factor 50: the 10 m window burns 100 k (k outage buckets of 10),
    # the 1 m window 1,000 while it holds an outage bucket: 12:01 until 12:11.
    windows = (AlertWindow(PAGE, timedelta(minutes=10), MINUTE, 50.0),)
    result = backtest(
        _slo(), _outage_series(), start=NOON - HOUR, end=NOON + 8 * HOUR, windows=windows
    )
    assert _summary(result) == [(PAGE, NOON + MINUTE, NOON + 11 * MINUTE)]
    assert result.windows == windows
    assert result.episodes[0].peak_burn_rate == pytest.approx(1000.0)
    assert result.summary[TICKET].alerts == 0


def test_the_factor_is_strict_and_unrounded() -> None:
    # One outage bucket of 100 in the 1h window burns (100 / 6000) / (1 - 0.999) = 16.67,
    # computed as every burn rate is; a factor of exactly that does not fire.
    rate = float(burn_rate(100.0, 6000.0, 0.999))
    at = (AlertWindow(PAGE, HOUR, timedelta(minutes=5), rate),)
    below = (AlertWindow(PAGE, HOUR, timedelta(minutes=5), math.nextafter(rate, 0)),)
    series = _outage_series(outage_minutes=1)
    kwargs = {"start": NOON - HOUR, "end": NOON + 2 * HOUR}
    assert backtest(_slo(), series, windows=at, **kwargs).episodes == ()  # type: ignore[arg-type]
    fired = backtest(_slo(), series, windows=below, **kwargs)  # type: ignore[arg-type]
    assert _summary(fired) == [(PAGE, NOON + MINUTE, NOON + 6 * MINUTE)]


def test_the_minimum_event_count_guards_the_long_window() -> None:
    # The 1h window holds 6,000 events: a minimum of 6,000 lets it fire, 6,001 does not.
    series = _outage_series()
    kwargs = {"start": NOON - HOUR, "end": NOON + 8 * HOUR}
    allowed = backtest(_slo(), series, min_events=6000, **kwargs)  # type: ignore[arg-type]
    assert [e.severity for e in allowed.episodes] == [PAGE, TICKET]
    blocked = backtest(_slo(), series, min_events=432_001, **kwargs)  # type: ignore[arg-type]
    assert blocked.episodes == ()
    assert blocked.min_events == 432_001


def test_maintenance_windows_are_left_out_of_every_window() -> None:
    maintenance = (MaintenanceWindow(NOON, NOON + 10 * MINUTE, "failover drill"),)
    result = backtest(
        _slo(maintenance=maintenance), _outage_series(), start=NOON - HOUR, end=NOON + 8 * HOUR
    )
    assert result.episodes == ()
    assert result.bad == 0.0


def test_a_calendar_window_scales_default_factors_per_period() -> None:
    # Default windows of a calendar month: 14.4 x 31/30 in January, 14.4 x 28/30 in February.
    slo = _slo(window=CalendarWindow(CalendarUnit.MONTH))
    start = datetime(2027, 1, 31, 23, tzinfo=UTC)
    times = evaluation_times(start, start + 2 * HOUR, MINUTE)
    windows, factors = backtest_module._factor_table(slo, times)
    january = [w.factor for w in alert_windows(slo, start)]
    february = [w.factor for w in alert_windows(slo, start + 2 * HOUR)]
    assert january[0] == pytest.approx(14.4 * 31 / 30)
    assert february[0] == pytest.approx(14.4 * 28 / 30)
    assert factors[:, 0].tolist() == january
    assert factors[:, 59].tolist() == january  # 23:59
    assert factors[:, 60].tolist() == february  # 00:00 on 1 February
    assert factors[:, -1].tolist() == february
    assert [w.factor for w in windows] == february


def test_evaluation_times_include_the_end_when_it_falls_on_a_step() -> None:
    assert evaluation_times(NOON, NOON + 3 * MINUTE, MINUTE).size == 4
    assert evaluation_times(NOON, NOON + 150 * timedelta(seconds=1), MINUTE).size == 3
    assert evaluation_times(NOON, NOON, MINUTE).tolist() == [to_unix_seconds(NOON)]
    with pytest.raises(ValueError, match="step"):
        evaluation_times(NOON, NOON + HOUR, timedelta())
    with pytest.raises(ValueError, match="before"):
        evaluation_times(NOON, NOON - HOUR, MINUTE)
    with pytest.raises(ValueError, match="time zone"):
        backtest(_slo(), EventSeries.empty(), start=NOON.replace(tzinfo=None), end=NOON)


def test_long_ranges_are_replayed_in_chunks_with_the_same_result(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    kwargs = {"start": NOON - HOUR, "end": NOON + 8 * HOUR}
    whole = backtest(_slo(), _outage_series(), **kwargs)  # type: ignore[arg-type]
    monkeypatch.setattr(backtest_module, "CHUNK_STEPS", 7)
    chunked = backtest(_slo(), _outage_series(), **kwargs)  # type: ignore[arg-type]
    assert chunked == whole


class CountingSource:
    """Counts ``sums`` calls: a chunk of evaluation times must cost one call."""

    def __init__(self, inner: CountSource) -> None:
        self.inner = inner
        self.calls = 0

    def sums(self, starts: FloatArray, ends: FloatArray) -> tuple[FloatArray, FloatArray]:
        self.calls += 1
        return self.inner.sums(starts, ends)


def test_no_evaluation_times_ask_nothing_of_the_source() -> None:
    source = CountingSource(_outage_series())
    replayed = firing_series(_slo(), source, np.empty(0))
    assert replayed.firing[PAGE].size == replayed.peak[TICKET].size == 0
    assert source.calls == 0


def test_every_window_at_every_time_is_summed_in_one_call() -> None:
    source = CountingSource(_outage_series())
    times = evaluation_times(NOON - HOUR, NOON + 8 * HOUR, MINUTE)
    firing_series(_slo(), source, times)
    assert source.calls == 1


# -- against a naive replay --------------------------------------------------------------------


@dataclass(frozen=True)
class NaiveEpisode:
    severity: Severity
    fired_at: datetime
    cleared_at: datetime | None
    peak: float
    bad: float
    window_total: float


def _naive_sum(
    events: Sequence[tuple[float, float, float]],
    start: float,
    end: float,
    maintenance: Sequence[MaintenanceWindow] = (),
) -> tuple[float, float]:
    """(good, total) of events in [start, end), outside maintenance: a plain loop."""
    good = total = 0.0
    for time, event_good, event_total in events:
        inside = start <= time < end
        held = any(to_unix_seconds(m.start) <= time < to_unix_seconds(m.end) for m in maintenance)
        if inside and not held:
            good += event_good
            total += event_total
    return good, total


def _naive(
    slo: SLO, source: EventSeries, start: datetime, end: datetime, step: timedelta
) -> list[NaiveEpisode]:
    """Evaluate at each step with ``core.evaluation.evaluate``; cut runs into episodes."""
    moments = []
    moment = start
    while moment <= end:
        moments.append(moment)
        moment += step
    states = []
    for moment in moments:
        status = evaluate(slo, source, moment)
        states.append(
            {
                severity: [
                    a.long_burn_rate
                    for a in status.alerts
                    if a.severity is severity and a.firing and a.long_burn_rate is not None
                ]
                for severity in (PAGE, TICKET)
            }
        )
    episodes: list[NaiveEpisode] = []
    for severity in (PAGE, TICKET):
        index = 0
        while index < len(moments):
            if not states[index][severity]:
                index += 1
                continue
            first = index
            peak = -math.inf
            while index < len(moments) and states[index][severity]:
                peak = max(peak, *states[index][severity])
                index += 1
            fired_at = moments[first]
            cleared_at = moments[index] if index < len(moments) else None
            span_end = cleared_at or end
            window_start = span_end - nominal_period(slo.window, span_end)
            episodes.append(
                NaiveEpisode(
                    severity,
                    fired_at,
                    cleared_at,
                    peak,
                    *_counts(slo, source, fired_at, span_end, window_start),
                )
            )
    return sorted(episodes, key=lambda e: (e.fired_at, e.severity is TICKET))


def _counts(
    slo: SLO, source: EventSeries, start: datetime, end: datetime, window_start: datetime
) -> tuple[float, float]:
    """(bad in [start, end), total in [window_start, end)) for a non-sliced SLI."""
    events = list(
        zip(
            source.times.tolist(),
            np.diff(source._cumulative_good).tolist(),
            np.diff(source._cumulative_total).tolist(),
            strict=True,
        )
    )
    good, total = _naive_sum(events, to_unix_seconds(start), to_unix_seconds(end), slo.maintenance)
    _, window_total = _naive_sum(
        events, to_unix_seconds(window_start), to_unix_seconds(end), slo.maintenance
    )
    return total - good, window_total


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[SLO, EventSeries, datetime, datetime, timedelta]:
    """A random SLO with short alert windows, random buckets around the range, a step."""
    objective = draw(st.sampled_from([0.9, 0.99, 0.995, 0.999]))
    windows = []
    for severity in (PAGE, TICKET):
        for _ in range(draw(st.integers(0, 2))):
            long = timedelta(minutes=draw(st.integers(2, 90)))
            short = timedelta(minutes=draw(st.integers(1, int(long / MINUTE) - 1)))
            factor = draw(st.sampled_from([0.5, 1.0, 2.0, 5.0, 14.4, 50.0]))
            windows.append(AlertWindow(severity, long, short, factor))
    calendar = draw(st.booleans())
    window: Window = (
        CalendarWindow(CalendarUnit.WEEK) if calendar else RollingWindow(timedelta(hours=12))
    )
    min_events = draw(st.sampled_from([0, 0, 5, 50]))
    start = datetime(2027, 3, 1, 0, tzinfo=UTC) + timedelta(minutes=draw(st.integers(0, 120)))
    span = timedelta(minutes=draw(st.integers(1, 150)))
    step = draw(st.sampled_from([MINUTE, 2 * MINUTE, timedelta(seconds=90)]))
    count = draw(st.integers(0, 80))
    offsets = draw(
        st.lists(st.integers(-300, int(span / MINUTE) + 10), min_size=count, max_size=count)
    )
    totals = draw(st.lists(st.integers(0, 30), min_size=count, max_size=count))
    goods = [draw(st.integers(0, total)) for total in totals]
    times = [to_unix_seconds(start) + 60.0 * offset for offset in offsets]
    maintenance: tuple[MaintenanceWindow, ...] = ()
    if draw(st.booleans()):
        held = start + timedelta(minutes=draw(st.integers(-60, 60)))
        maintenance = (MaintenanceWindow(held, held + timedelta(minutes=draw(st.integers(1, 30)))),)
    slo = _slo(
        objective,
        window=window,
        alerting=Alerting(windows=tuple(windows) or None, min_events=min_events),
        maintenance=maintenance,
    )
    if not windows:  # the defaults reach 3 days back: keep the data near the range
        slo = with_alerting(slo, windows=(AlertWindow(PAGE, HOUR, 5 * MINUTE, 2.0),))
    return slo, EventSeries.from_counts(times, goods, totals), start, start + span, step


@settings(max_examples=60, deadline=None)
@given(scenarios())
def test_the_vectorised_replay_equals_evaluating_every_step(
    scenario: tuple[SLO, EventSeries, datetime, datetime, timedelta],
) -> None:
    slo, series, start, end, step = scenario
    result = backtest(slo, series, start=start, end=end, step=step)
    expected = _naive(slo, series, start, end, step)
    assert [(e.severity, e.fired_at, e.cleared_at) for e in result.episodes] == [
        (e.severity, e.fired_at, e.cleared_at) for e in expected
    ]
    for got, want in zip(result.episodes, expected, strict=True):
        assert got.peak_burn_rate == pytest.approx(want.peak)
        assert got.bad == pytest.approx(want.bad)
        assert got.window_total == pytest.approx(want.window_total)
        assert got.budget_consumed == pytest.approx(
            budget_burned(bad=want.bad, window_total=want.window_total, objective=slo.objective)
        )
        assert got.duration == (got.cleared_at or end) - got.fired_at
    for severity in (PAGE, TICKET):
        mine = [e for e in expected if e.severity is severity]
        assert result.summary[severity].alerts == len(mine)


@settings(max_examples=25, deadline=None)
@given(
    st.lists(st.tuples(st.integers(-200, 200), st.integers(0, 5)), max_size=60),
    st.sampled_from([0.9, 0.99]),
)
def test_sliced_slis_fire_as_evaluation_says(
    buckets: list[tuple[int, int]], objective: float
) -> None:
    # Five-minute slices, good when 80 % of their events are: alerts count slices.
    sli = SLI(
        "shop-requests",
        kind=SLIKind.TIMESLICES,
        slice_duration=5 * MINUTE,
        slice_target=0.8,
    )
    windows = (AlertWindow(PAGE, HOUR, 15 * MINUTE, 1.0),)
    slo = _slo(objective, sli=sli, alerting=Alerting(windows=windows))
    times = [to_unix_seconds(NOON) + 60.0 * offset for offset, _ in buckets]
    totals = [3 for _ in buckets]
    goods = [min(good, 3) for _, good in buckets]
    series = EventSeries.from_counts(times, goods, totals)
    end, step = NOON + 3 * HOUR, 5 * MINUTE
    moments = [NOON + i * step for i in range((end - NOON) // step + 1)]
    naive = [
        any(a.firing for a in evaluate(slo, series, moment).alerts if a.severity is PAGE)
        for moment in moments
    ]
    replayed = firing_series(slo, series, evaluation_times(NOON, end, step))
    assert replayed.firing[PAGE].tolist() == naive
    result = backtest(slo, series, start=NOON, end=end, step=step)
    assert result.summary[PAGE].alerts == sum(
        1 for i, on in enumerate(naive) if on and (i == 0 or not naive[i - 1])
    )
