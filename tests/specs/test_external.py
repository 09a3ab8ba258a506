"""Native form of catalogued (external) SLIs and of ratio_timeslices SLIs."""

from __future__ import annotations

import pytest

from watchkeeper.core.slo import SLIKind, SourceKind
from watchkeeper.specs import SpecError, load_text

BASE = """\
apiVersion: watchkeeper/v1
kind: SLO
service: search
name: success
objective: 0.99
window: 28d
sli:
{sli}"""

DATADOG = """\
  source: external
  external:
    type: Datadog
    metric:
      ratioMetric:
        good: {metricSource: {type: Datadog, spec: {query: "sum:ok{*}"}}}
        total: {metricSource: {type: Datadog, spec: {query: "sum:all{*}"}}}
"""


def test_an_external_sli_in_native_form() -> None:
    (slo,) = load_text(BASE.format(sli=DATADOG)).slos
    assert slo.sli.source is SourceKind.EXTERNAL
    assert slo.sli.evaluated_by is None
    assert slo.sli.external is not None
    assert slo.sli.external.source_type == "Datadog"
    assert list(slo.sli.external.definition_dict()["ratioMetric"]) == ["good", "total"]


def test_a_ratio_timeslices_sli_in_native_form() -> None:
    (slo,) = load_text(BASE.format(sli="  kind: ratio_timeslices\n  slice: 5m\n")).slos
    assert slo.sli.kind is SLIKind.RATIO_TIMESLICES
    assert slo.sli.slice_target is None
    assert slo.sli.evaluated_by == "watchkeeper"


@pytest.mark.parametrize(
    ("sli", "field", "message"),
    [
        ("  source: external\n", "sli.external", "is required"),
        (DATADOG + "  prometheus: {total: x}\n", "sli.prometheus", "does not apply"),
        ("  external: {type: Datadog, metric: {}}\n", "sli.external", "only applies to source"),
        (
            DATADOG.replace("ratioMetric", "thresholdMetric"),
            "sli.external.metric",
            "reads a ratioMetric",
        ),
        (
            "  source: external\n  external: {type: Datadog, metric: {ratioMetric: {}, x: 1}}\n",
            "sli.external.metric",
            "exactly one of",
        ),
        (
            "  source: external\n  external: {type: ' ', metric: {ratioMetric: {}}}\n",
            "sli.external.type",
            "must not be empty",
        ),
        (
            "  source: external\n  external:\n    type: Datadog\n"
            "    metric: {ratioMetric: {since: 2024-01-01}}\n",
            "sli.external.metric.ratioMetric.since",
            "not a date",
        ),
        (
            "  kind: ratio_timeslices\n  slice: 5m\n  slice_target: 0.9\n",
            "sli.slice_target",
            "has no target",
        ),
        ("  kind: ratio_timeslices\n", "sli.slice", "is required for ratio_timeslices"),
    ],
)
def test_native_mistakes(sli: str, field: str, message: str) -> None:
    with pytest.raises(SpecError) as caught:
        load_text(BASE.format(sli=sli))
    problems = caught.value.problems
    assert any(p.field == field and message in p.message for p in problems), problems
