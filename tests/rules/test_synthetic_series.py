"""Synthetic input series for the shipped promtool tests, from an SLO's own selectors."""

from __future__ import annotations

import pytest

from tests.rules.specs import NATIVE_SPEC, SLOTH_SPEC, slo
from watchkeeper.rules.promtool_tests import _values
from watchkeeper.rules.synthetic_series import EventSeries, SeriesError, event_series

TWO_COUNTERS = """\
version: prometheus/v1
service: api
slos:
  - name: errors
    objective: 99
    sli:
      events:
        error_query: sum(increase(api_errors_total[{{.window}}]))
        total_query: sum(increase(api_requests_total{path!="/health"}[{{.window}}]))
"""


def test_a_regex_on_the_error_codes_splits_errors_from_successes() -> None:
    bad, other = event_series(slo(SLOTH_SPEC, "requests-availability"))
    assert bad == EventSeries('http_requests_total{code="500",job="myservice"}', "bad")
    assert other == EventSeries('http_requests_total{job="myservice"}', "good")


def test_a_good_query_with_a_negative_regex() -> None:
    good, other = event_series(slo(NATIVE_SPEC, "availability"))
    assert good.counts == "good" and other.counts == "bad"
    assert 'code="500"' in other.series and "code=" not in good.series.replace('code=""', "")


def test_separate_counters_count_errors_and_every_request() -> None:
    bad, other = event_series(slo(TWO_COUNTERS, "errors"))
    assert bad == EventSeries("api_errors_total", "bad")
    assert other == EventSeries("api_requests_total", "all")


def test_queries_it_cannot_drive_say_why() -> None:
    with pytest.raises(SeriesError, match="only ratio SLIs"):
        event_series(slo(NATIVE_SPEC, "latency"))
    two = TWO_COUNTERS.replace(
        "sum(increase(api_errors_total[{{.window}}]))",
        "sum(increase(a_total[{{.window}}])) + sum(increase(b_total[{{.window}}]))",
    )
    with pytest.raises(SeriesError, match="reads 2 series selectors"):
        event_series(slo(two, "errors"))


def test_counter_values_in_promtools_expanding_notation() -> None:
    assert _values([60, 60, 0, 0, 5]) == "0+60x2 120+0x1 125"  # 0 60 120 | 120 120 | 125
    assert _values([]) == "0"
