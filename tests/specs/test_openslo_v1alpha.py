"""OpenSLO v1alpha SLOs, read as Sloth reads them: one SLO per objective, no alerts."""

from __future__ import annotations

from datetime import timedelta

import pytest

from watchkeeper.core.slo import RollingWindow, SLIKind, SourceKind
from watchkeeper.specs import SpecError, load_text


def _query(text: str) -> str:
    return f"\n          source: prometheus\n          queryType: promql\n          query: {text}"


SPEC = f"""\
apiVersion: openslo/v1alpha
kind: SLO
metadata:
  name: requests-latency
  displayName: Requests Latency
spec:
  service: k8s-apiserver
  description: fast enough
  objectives:
    - ratioMetrics:
        good:{_query('sum(rate(req_bucket{le="0.4"}[{{.window}}]))')}
        total:{_query("sum(rate(req_count[{{.window}}]))")}
      target: 0.99
    - ratioMetrics:
        good:{_query('sum(rate(req_bucket{le="5"}[{{.window}}]))')}
        total:{_query("sum(rate(req_count[{{.window}}]))")}
      target: 0.999
  timeWindows:
    - count: 28
      unit: Day
"""


def test_each_objective_is_an_slo_named_by_its_index_without_alerts() -> None:
    spec_set = load_text(SPEC, filename="apiserver.yml")
    assert [slo.key for slo in spec_set.slos] == [
        "k8s-apiserver/requests-latency-0",
        "k8s-apiserver/requests-latency-1",
    ]
    first, second = spec_set.slos
    assert (first.objective, second.objective) == (0.99, 0.999)
    assert first.window == RollingWindow(timedelta(days=28))
    assert first.sli.kind is SLIKind.RATIO and first.sli.source is SourceKind.PROMETHEUS
    assert first.sli.queries is not None
    assert first.sli.queries.good == 'sum(rate(req_bucket{le="0.4"}[{{.window}}]))'
    assert first.sli.queries.bad is None
    assert not first.alerting.page.enabled and not first.alerting.ticket.enabled
    assert spec_set.versions[first.key] == "openslo/v1alpha"
    assert spec_set.formats[first.key] == "openslo"


def test_without_time_windows_the_default_period_applies() -> None:
    text = SPEC.split("  timeWindows:")[0]
    spec_set = load_text(text, default_period=timedelta(days=7))
    assert spec_set.slos[0].window == RollingWindow(timedelta(days=7))


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        (("kind: SLO", "kind: SLI", 1), "kind", "only SLO is read for openslo/v1alpha"),
        (("unit: Day", "unit: Month", 1), "spec.timeWindows[0].unit", "must be Day"),
        (("count: 28", "count: 1.5", 1), "spec.timeWindows[0].count", "whole number of days"),
        (("target: 0.99\n", "target: 99\n", 1), "spec.objectives[0].target", "between 0 and 1"),
        (
            ("source: prometheus", "source: datadog", 1),
            "spec.objectives[0].ratioMetrics.good.source",
            "must be prometheus",
        ),
        (
            ("req_count[{{.window}}]", "req_count[5m]", 1),
            "spec.objectives[0].ratioMetrics.total.query",
            "{{.window}}",
        ),
        (("    - ratioMetrics:\n", "    - thresholdMetric:\n", 1), "spec.objectives[0]", ""),
    ],
)
def test_bad_input_names_the_field(change: tuple[str, str, int], field: str, message: str) -> None:
    text = SPEC.replace(*change)
    with pytest.raises(SpecError) as caught:
        load_text(text, filename="apiserver.yml")
    problems = [(p.field, p.message) for p in caught.value.problems]
    assert any(f.startswith(field) and message in m for f, m in problems), problems
