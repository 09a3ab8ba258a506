"""The reference validator's rules (OpenSLO go-sdk): names, objectives, metric sources, PromQL."""

from __future__ import annotations

import textwrap

import pytest

from watchkeeper.specs import Problem, SpecError, load_text

SLI_AND_SLO = """\
apiVersion: openslo/v1
kind: SLI
metadata:
  name: {sli_name}
spec:
  ratioMetric:
    counter: true
    good:
      metricSource:
        type: prometheus
        spec:
          query: {good}
    total:
      metricSource:
        type: prometheus
        spec:
          query: {total}
---
apiVersion: openslo/v1
kind: SLO
metadata:
  name: {slo_name}
spec:
  service: api
  indicatorRef: {ref}
  timeWindow: [{{duration: 28d, isRolling: true}}]
  budgetingMethod: Occurrences
  objectives:
    - target: 0.99
{objective}"""


def text(**changes: str) -> str:
    values = {
        "sli_name": "api-requests",
        "slo_name": "api-availability",
        "ref": "api-requests",
        "good": 'http_requests_total{code!~"5.."}',
        "total": "http_requests_total",
        "objective": "",
    }
    values.update(changes)
    return SLI_AND_SLO.format(**values)


def problems_of(spec: str) -> list[Problem]:
    with pytest.raises(SpecError) as caught:
        load_text(spec, filename="api.yaml")
    return caught.value.problems


def test_the_base_text_is_valid() -> None:
    (slo,) = load_text(text()).slos
    assert slo.key == "api/api-availability"


@pytest.mark.parametrize(
    "name",
    [
        "a",
        "api-2",
        "0-start-with-digit",
        "x" * 63,
    ],
)
def test_rfc_1123_labels_are_names(name: str) -> None:
    (slo,) = load_text(text(slo_name=name, sli_name=name, ref=name)).slos
    assert slo.name == name


@pytest.mark.parametrize(
    "name",
    [
        "x" * 64,  # a label has at most 63 characters
        "api.availability",  # a DNS subdomain, not a label: go-sdk checks labels
        "Api",
        "api_availability",
        "-api",
        "api-",
    ],
)
def test_names_that_are_not_rfc_1123_labels_are_refused(name: str) -> None:
    problems = problems_of(text(slo_name=name, sli_name=name, ref=name))
    assert [(p.line, p.field) for p in problems] == [
        (4, "metadata.name"),
        (22, "metadata.name"),
        (25, "spec.indicatorRef"),
    ]
    assert all("RFC 1123 label" in p.message for p in problems)


@pytest.mark.parametrize(
    ("objective", "fields"),
    [
        ("      op: lte\n", ["spec.objectives[0].op"]),
        ("      value: 0.3\n", ["spec.objectives[0].value"]),
        ("      op: gt\n      value: 1\n", ["spec.objectives[0].op", "spec.objectives[0].value"]),
    ],
)
def test_op_and_value_are_forbidden_with_a_ratio_metric(objective: str, fields: list[str]) -> None:
    problems = problems_of(text(objective=objective))
    assert [p.field for p in problems] == fields
    assert all("only applies to a thresholdMetric" in p.message for p in problems)


def test_op_and_value_are_required_with_a_threshold_metric() -> None:
    spec = textwrap.dedent(
        """\
        apiVersion: openslo/v1
        kind: SLO
        metadata: {name: latency}
        spec:
          service: api
          indicator:
            metadata: {name: api-latency}
            spec: {thresholdMetric: {metricSource: {type: watchkeeper}}}
          timeWindow: [{duration: 28d, isRolling: true}]
          budgetingMethod: Occurrences
          objectives: [{target: 0.99}]
        """
    )
    problems = problems_of(spec)
    assert [p.field for p in problems] == ["spec.objectives[0].op", "spec.objectives[0].value"]


@pytest.mark.parametrize(
    ("change", "field", "line", "message"),
    [
        ({"good": "sum(rate(x[5m])"}, "spec.ratioMetric.good.metricSource.spec.query", 12, "parse"),
        (
            {"total": "sum(rate(x[{{.range}}]))"},
            "spec.ratioMetric.total.metricSource.spec.query",
            17,
            "unknown template placeholder {{.range}}",
        ),
        (
            {"total": "sum(rate(x[{{.Window}}]))"},
            "spec.ratioMetric.total.metricSource.spec.query",
            17,
            "unknown template placeholder",
        ),
    ],
)
def test_promql_of_prometheus_sources_is_parsed(
    change: dict[str, str], field: str, line: int, message: str
) -> None:
    problems = problems_of(text(**change))
    assert [(p.line, p.field) for p in problems] == [(line, field)]
    assert message in problems[0].message


def test_the_window_placeholder_is_accepted() -> None:
    (slo,) = load_text(text(total="sum(increase(x[{{ .window }}]))")).slos
    assert slo.sli.queries is not None
    assert slo.sli.queries.total == "sum(increase(x[{{ .window }}]))"


def test_raw_promql_is_parsed_on_its_line() -> None:
    spec = textwrap.dedent(
        """\
        apiVersion: openslo/v1
        kind: SLI
        metadata: {name: api-errors}
        spec:
          ratioMetric:
            rawType: failure
            raw:
              metricSource:
                type: prometheus
                spec:
                  query: "rate(errors[5m]) /"
        """
    )
    problems = problems_of(spec)
    assert [(p.line, p.field) for p in problems] == [
        (11, "spec.ratioMetric.raw.metricSource.spec.query")
    ]


def test_every_problem_of_a_file_is_reported_in_one_pass() -> None:
    spec = textwrap.dedent(
        """\
        apiVersion: openslo/v1
        kind: SLI
        metadata: {name: Bad_Name}
        spec:
          ratioMetric:
            good: {metricSource: {type: prometheus, spec: {query: "up{"}}}
            total: {metricSource: {type: watchkeeper}}
          thresholdMetric: {metricSource: {type: Datadog}}
        ---
        apiVersion: openslo/v1
        kind: SLO
        metadata: {name: ok-name}
        spec:
          service: api
          indicator:
            metadata: {name: inline}
            spec:
              ratioMetric:
                good: {metricSource: {type: CloudWatch}}
                bad: {metricSource: {type: CloudWatch, spec: {metricName: errors}}}
          timeWindow: [{duration: 28d, isRolling: true}]
          budgetingMethod: RatioTimeslices
          objectives:
            - {target: 1.5, op: lt}
            - {target: 0.9, timeSliceWindow: 30s}
        """
    )
    found = [(p.document, p.line, p.field) for p in problems_of(spec)]
    assert found == [
        (1, 3, "metadata.name"),
        (1, 6, "spec.ratioMetric.good.metricSource.spec.query"),
        (1, 8, "spec.thresholdMetric"),
        (1, 8, "spec.thresholdMetric.metricSource.spec"),
        (2, 19, "spec.indicator.spec.ratioMetric.good.metricSource.spec"),
        (2, 19, "spec.indicator.spec.ratioMetric.total"),
        (2, 20, "spec.indicator.spec.ratioMetric.bad"),
        (2, 24, "spec.objectives[0].target"),
        (2, 24, "spec.objectives[0].timeSliceWindow"),
        (2, 24, "spec.objectives[0].op"),
        (2, 25, "spec.objectives[1].timeSliceWindow"),
    ]
