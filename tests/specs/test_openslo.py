"""OpenSLO v1 documents, shaped after the published specification and its examples."""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from watchkeeper.core.slo import (
    SLI,
    SLO,
    AlertWindow,
    CalendarUnit,
    CalendarWindow,
    Operator,
    PromQueries,
    RollingWindow,
    Severity,
    SLIKind,
    SourceKind,
)
from watchkeeper.specs import Problem, SpecError, SpecSet, convert, load_paths, load_text


def load(text: str) -> SpecSet:
    return load_text(textwrap.dedent(text), filename="openslo.yaml")


def problems_of(text: str) -> list[Problem]:
    with pytest.raises(SpecError) as caught:
        load(text)
    return caught.value.problems


# The README's inline example, with a Prometheus source instead of Datadog.
INLINE = """\
apiVersion: openslo/v1
kind: SLO
metadata:
  name: foo-slo
  displayName: Foo SLO
  labels:
    team: identity
    tags: [auth, login]
spec:
  description: Foo requests that succeed
  service: foo
  indicator:
    metadata:
      name: foo-error
      displayName: Foo Error
    spec:
      ratioMetric:
        counter: true
        good:
          metricSource:
            metricSourceRef: prometheus-datasource
            spec:
              query: sum(rate(http_requests_total{code=~"2.."}[{{.window}}]))
        total:
          metricSource:
            type: Prometheus
            spec:
              promql: sum(rate(http_requests_total[{{.window}}]))
  timeWindow:
    - duration: 28d
      isRolling: true
  budgetingMethod: Occurrences
  objectives:
    - displayName: Foo Total Errors
      targetPercent: 99.9
---
apiVersion: openslo/v1
kind: DataSource
metadata:
  name: prometheus-datasource
spec:
  type: Prometheus
  connectionDetails:
    url: http://prometheus:9090
"""


def test_inline_indicator_with_prometheus_sources() -> None:
    (slo,) = load(INLINE).slos
    assert slo.key == "foo/foo-slo"
    assert slo.objective == 0.999  # targetPercent 99.9, exactly
    assert slo.window == RollingWindow(timedelta(days=28))
    assert slo.description == "Foo requests that succeed"
    assert dict(slo.labels) == {"team": "identity", "tags": "auth,login"}
    assert slo.sli == SLI(
        name="foo-error",
        source=SourceKind.PROMETHEUS,
        queries=PromQueries(
            good='sum(rate(http_requests_total{code=~"2.."}[{{.window}}]))',
            total="sum(rate(http_requests_total[{{.window}}]))",
        ),
    )
    assert slo.alerting.windows is None


def test_references_resolve_across_files(tmp_path: Path) -> None:
    (tmp_path / "objects.yaml").write_text(
        textwrap.dedent(
            """\
            apiVersion: openslo/v1
            kind: SLI
            metadata:
              name: checkout-latency
            spec:
              thresholdMetric:
                metricSource:
                  type: watchkeeper
            ---
            apiVersion: openslo/v1
            kind: AlertCondition
            metadata:
              name: fast-burn
            spec:
              description: SLO burn rate exceeds 14.4
              severity: critical
              condition:
                kind: burnrate
                op: gt
                threshold: 14.4
                lookbackWindow: 1h
                alertAfter: 5m
            ---
            apiVersion: openslo/v1
            kind: AlertPolicy
            metadata:
              name: latency-alerts
            spec:
              alertWhenBreaching: true
              alertWhenResolved: false
              conditions:
                - conditionRef: fast-burn
              notificationTargets:
                - targetRef: on-call-devops-mail-notification
            ---
            apiVersion: openslo/v1
            kind: AlertNotificationTarget
            metadata:
              name: on-call-devops-mail-notification
            spec:
              description: Notifies by a mail message to the on-call devops mailing group
              target: email
            """
        )
    )
    (tmp_path / "slo.yaml").write_text(
        textwrap.dedent(
            """\
            apiVersion: openslo/v1
            kind: SLO
            metadata:
              name: latency
            spec:
              service: checkout
              indicatorRef: checkout-latency
              timeWindow: [{duration: 30d, isRolling: true}]
              budgetingMethod: Occurrences
              objectives:
                - {op: lt, value: 0.3, target: 0.99}
              alertPolicies:
                - alertPolicyRef: latency-alerts
                - kind: AlertPolicy
                  metadata: {name: inline-policy}
                  spec:
                    conditions:
                      - kind: AlertCondition
                        metadata:
                          name: slow-burn
                          annotations: {watchkeeper.dev/short-window: 1h}
                        spec:
                          severity: warning
                          condition: {kind: burnrate, threshold: 1, lookbackWindow: 3d}
            """
        )
    )
    spec_set = load_paths([tmp_path])
    (slo,) = spec_set.slos
    assert slo.sli == SLI(
        name="checkout-latency", kind=SLIKind.THRESHOLD, threshold=0.3, operator=Operator.LT
    )
    assert slo.alerting.windows == (
        # Short window = long / 12 (SRE Workbook), unless the annotation says otherwise.
        AlertWindow(Severity.PAGE, timedelta(hours=1), timedelta(minutes=5), 14.4),
        AlertWindow(Severity.TICKET, timedelta(days=3), timedelta(hours=1), 1.0),
    )
    assert [f.path.rsplit("/", 1)[-1] for f in spec_set.files] == ["objects.yaml", "slo.yaml"]
    assert spec_set.files[1].slos == ("checkout/latency",)
    assert spec_set.formats == {"checkout/latency": "openslo"}


def test_calendar_windows_and_timeslices() -> None:
    spec_set = load(
        """\
        apiVersion: openslo/v1
        kind: SLO
        metadata: {name: monthly}
        spec:
          service: web
          indicator:
            metadata: {name: web-requests}
            spec:
              ratioMetric:
                bad: {metricSource: {type: watchkeeper}}
                total: {metricSource: {type: watchkeeper}}
          timeWindow:
            - duration: 1M
              calendar: {startTime: 2022-01-01 12:00:00, timeZone: America/New_York}
          budgetingMethod: Occurrences
          objectives: [{target: 0.99}]
        ---
        apiVersion: openslo/v1
        kind: SLO
        metadata: {name: sliced}
        spec:
          service: web
          indicator:
            metadata: {name: web-latency}
            spec:
              thresholdMetric: {metricSource: {type: watchkeeper}}
          timeWindow: [{duration: 2w, isRolling: false}]
          budgetingMethod: Timeslices
          objectives:
            - displayName: Internal objective
              op: lte
              value: 250
              target: 0.995
              timeSliceTarget: 0.9
              timeSliceWindow: 5
            - displayName: SLA
              op: lte
              value: 400
              target: 0.99
              timeSliceTarget: 0.9
              timeSliceWindow: 1m
            - op: lte
              value: 1000
              target: 0.9
              timeSliceTarget: 1
              timeSliceWindow: 1h
        ---
        apiVersion: openslo/v1
        kind: SLO
        metadata: {name: quarterly}
        spec:
          service: web
          indicator:
            metadata: {name: web-requests-q}
            spec:
              ratioMetric:
                good: {metricSource: {type: Watchkeeper}}
          timeWindow: [{duration: 1Q, isRolling: false, calendar: {timeZone: Europe/Berlin}}]
          budgetingMethod: Occurrences
          objectives: [{target: 0.9}]
        """
    )
    monthly, internal, sla, third, quarterly = spec_set.slos
    assert monthly.window == CalendarWindow(CalendarUnit.MONTH, "America/New_York", 1)
    # A bad metric from the event store still reads rows of good and total.
    assert monthly.sli.kind is SLIKind.RATIO
    assert [s.name for s in (internal, sla, third)] == [
        "sliced-internal-objective",
        "sliced-sla",
        "sliced-2",  # no displayName: the objective's index
    ]
    assert internal.window == CalendarWindow(CalendarUnit.WEEK, "UTC", 2)
    assert internal.sli == SLI(
        name="web-latency",
        kind=SLIKind.TIMESLICES,
        threshold=250,
        operator=Operator.LTE,
        slice_duration=timedelta(minutes=5),
        slice_target=0.9,
        slice_kind=SLIKind.THRESHOLD,
    )
    assert sla.sli.threshold == 400
    assert third.sli.slice_duration == timedelta(hours=1)
    assert quarterly.window == CalendarWindow(CalendarUnit.QUARTER, "Europe/Berlin", 1)


@pytest.mark.parametrize(
    ("raw_type", "expected"),
    [("failure", "slo:errors:ratio"), ("success", "1 - (slo:errors:ratio)")],
)
def test_raw_ratios(raw_type: str, expected: str) -> None:
    (slo,) = load(
        f"""\
        apiVersion: openslo/v1
        kind: SLO
        metadata:
          name: raw
          annotations:
            watchkeeper.dev/owner: team-a
            watchkeeper.dev/tier: "1"
            watchkeeper.dev/policy: strict
            watchkeeper.dev/maintenance: >-
              [{{"start": "2026-01-01T00:00:00Z", "end": "2026-01-01T01:00:00Z", "reason": "x"}}]
            watchkeeper.dev/alerting: '{{"min_events": 10, "page": {{"enabled": false}}}}'
            example.com/other: ignored
        spec:
          service: svc
          indicator:
            metadata: {{name: svc-raw}}
            spec:
              ratioMetric:
                rawType: {raw_type}
                raw: {{metricSource: {{type: prometheus, spec: {{query: "slo:errors:ratio"}}}}}}
          timeWindow: [{{duration: 7d, isRolling: true}}]
          budgetingMethod: Occurrences
          objectives: [{{target: 0.95}}]
        """
    ).slos
    assert slo.sli.kind is SLIKind.RAW
    assert slo.sli.queries == PromQueries(raw_error_ratio=expected)
    assert (slo.owner, slo.tier, slo.policy) == ("team-a", "1", "strict")
    assert slo.maintenance[0].start == datetime(2026, 1, 1, tzinfo=UTC)
    assert slo.alerting.min_events == 10
    assert not slo.alerting.page.enabled


MAIN_PAGE = """\
apiVersion: openslo/v1
kind: SLO
metadata:
  name: main-page
spec:
  service: web-shop
  indicator:
    metadata:
      name: response-code
    spec:
      ratioMetric:
        good:
          metricSource:
            type: Any
            spec:
              query: Any
        total:
          metricSource:
            type: Any
            spec:
              query: Any
  timeWindow:
   - duration: 1m
     isRolling: false
     calendar:
       startTime: 2022-01-01 12:00:00
       timeZone: America/New_York
  budgetingMethod: RatioTimeslices
  objectives:
    - displayName: Good
      op: gt
      timeSliceWindow: 1m
      target: 0.99
"""


def test_published_ratio_timeslices_example_is_checked_as_the_reference_validator_does() -> None:
    # From OpenSLO's examples/budgeting-method. Type "Any" and RatioTimeslices are valid
    # OpenSLO; "op" on a ratioMetric objective is not, and a calendar "1m" is one minute,
    # which no calendar window is.
    problems = problems_of(MAIN_PAGE)
    assert [(p.line, p.field) for p in problems] == [
        (23, "spec.timeWindow[0].duration"),
        (31, "spec.objectives[0].op"),
    ]
    assert "1w, 1M, 1Q" in problems[0].message
    assert "only applies to a thresholdMetric" in problems[1].message


def test_any_metric_source_type_is_catalogued_with_ratio_timeslices() -> None:
    fixed = MAIN_PAGE.replace("duration: 1m\n     isRolling", "duration: 1M\n     isRolling")
    (slo,) = load(fixed.replace("      op: gt\n", "")).slos
    assert slo.key == "web-shop/main-page"
    assert slo.sli.source is SourceKind.EXTERNAL
    assert slo.sli.kind is SLIKind.RATIO_TIMESLICES
    assert slo.sli.slice_duration == timedelta(minutes=1)
    assert slo.sli.slice_target is None
    assert slo.sli.external is not None
    assert slo.sli.external.source_type == "Any"
    assert slo.sli.external.definition_dict() == {
        "ratioMetric": {
            "good": {"metricSource": {"type": "Any", "spec": {"query": "Any"}}},
            "total": {"metricSource": {"type": "Any", "spec": {"query": "Any"}}},
        }
    }


def test_reference_and_value_mistakes() -> None:
    problems = problems_of(
        """\
        apiVersion: openslo/v1
        kind: SLO
        metadata: {name: a}
        spec:
          service: svc
          indicatorRef: missing-sli
          timeWindow: [{duration: 1M, isRolling: true}]
          budgetingMethod: Occurences
          objectives:
            - target: 99.9
          alertPolicies:
            - alertPolicyRef: missing-policy
        ---
        apiVersion: openslo/v1
        kind: AlertPolicy
        metadata: {name: p}
        spec:
          conditions: [{conditionRef: missing-condition}]
          notificationTargets: [{targetRef: missing-target}]
        ---
        apiVersion: openslo/v1
        kind: SLI
        metadata: {name: mixed}
        spec:
          ratioMetric:
            good: {metricSource: {type: watchkeeper}}
            total: {metricSource: {type: prometheus, spec: {query: "x[{{.window}}]"}}}
        ---
        apiVersion: openslo/v1
        kind: SLI
        metadata: {name: mixed}
        spec:
          thresholdMetric: {metricSource: {type: prometheus, spec: {query: latency}}}
        ---
        apiVersion: openslo/v1
        kind: AlertCondition
        metadata:
          name: c
          annotations: {watchkeeper.dev/shortwindow: 5m}
        spec:
          severity: page
          condition: {kind: burnrate, op: lt, threshold: 0, lookbackWindow: 1h}
        """
    )
    found = [(p.document, p.field, p.message) for p in problems]
    expected = [
        (1, "spec.indicatorRef", "refers to SLI 'missing-sli'"),
        (1, "spec.timeWindow[0].duration", "has no fixed length"),
        (1, "spec.budgetingMethod", "did you mean 'Occurrences'?"),
        (1, "spec.objectives[0].target", "did you mean 0.999?"),
        (1, "spec.alertPolicies[0].alertPolicyRef", "refers to AlertPolicy 'missing-policy'"),
        (2, "spec.conditions[0].conditionRef", "refers to AlertCondition 'missing-condition'"),
        (2, "spec.notificationTargets[0].targetRef", "missing-target"),
        (3, "spec.ratioMetric", "mixes metric source types"),
        (4, "metadata", "SLI 'mixed' is defined twice (first in openslo.yaml:21, document 3)"),
        (5, 'metadata.annotations["watchkeeper.dev/shortwindow"]', "did you mean"),
        (5, "spec.condition.op", "use gt"),
        (5, "spec.condition.threshold", "must be above 0"),
    ]
    assert len(found) == len(expected), found
    for (document, field, message), (want_document, want_field, want_message) in zip(
        found, expected, strict=True
    ):
        assert (document, field) == (want_document, want_field)
        assert want_message in message


@pytest.mark.parametrize(
    ("spec", "field", "message"),
    [
        ("indicatorRef: x\n  indicator: {}", "spec.indicatorRef", "not both"),
        ("objectives: []", "spec.objectives", "at least one"),
        ("objectives: [{}]", "spec.objectives[0]", "needs target"),
        (
            "objectives: [{target: 0.9, targetPercent: 90}]",
            "spec.objectives[0].targetPercent",
            "not both",
        ),
        (
            "objectives: [{targetPercent: 100}]",
            "spec.objectives[0].targetPercent",
            "between 0 and 100",
        ),
        ("objectives: [{target: 0.9, op: equal}]", "spec.objectives[0].op", "lt, lte, gt, gte"),
        ("timeWindow: []", "spec.timeWindow", "exactly one"),
        (
            "timeWindow: [{duration: 30d, calendar: {timeZone: UTC}, isRolling: true}]",
            "spec.timeWindow[0].calendar",
            "set isRolling: false",
        ),
        (
            "timeWindow: [{duration: 1M, isRolling: false, calendar: {timeZone: Moon/Base}}]",
            "spec.timeWindow[0].calendar.timeZone",
            "not an IANA time zone",
        ),
        ("timeWindow: [{duration: 1d}]", "spec.timeWindow", "longest default alert window (3d)"),
        ("budgetingMethod: Timeslices", "spec.objectives[0].timeSliceTarget", "is required"),
        ("service: Bad Name", "spec.service", "not a valid name"),
        ("serivce: x", "spec.serivce", "did you mean 'service'?"),
    ],
)
def test_slo_field_mistakes(spec: str, field: str, message: str) -> None:
    base = {
        "service": "svc",
        "indicatorRef": "requests",
        "timeWindow": "[{duration: 30d, isRolling: true}]",
        "budgetingMethod": "Occurrences",
        "objectives": "[{target: 0.99}]",
    }
    key, value = spec.split(":", 1)
    if key in base:
        base[key] = value.strip()
    else:
        base[key] = value.strip()
        if key == "serivce":
            del base["service"]
    text = (
        "apiVersion: openslo/v1\nkind: SLI\nmetadata: {name: requests}\nspec:\n"
        "  ratioMetric: {good: {metricSource: {type: watchkeeper}}}\n---\n"
        "apiVersion: openslo/v1\nkind: SLO\nmetadata: {name: a}\nspec:\n"
        + "".join(f"  {k}: {v}\n" for k, v in base.items())
    )
    with pytest.raises(SpecError) as caught:
        load_text(text)
    problems = caught.value.problems
    assert any(p.field == field and message in p.message for p in problems), problems


def test_invalid_annotation_json_is_reported() -> None:
    problems = problems_of(
        """\
        apiVersion: openslo/v1
        kind: SLO
        metadata:
          name: a
          annotations:
            watchkeeper.dev/alerting: '{"page": '
            watchkeeper.dev/maintenance: '[{"start": "yesterday"}]'
        spec:
          service: svc
          indicator:
            metadata: {name: x}
            spec: {ratioMetric: {good: {metricSource: {type: watchkeeper}}}}
          timeWindow: [{duration: 30d}]
          budgetingMethod: Occurrences
          objectives: [{target: 0.9}]
        """
    )
    assert [(p.line, p.field) for p in problems] == [
        (6, 'metadata.annotations["watchkeeper.dev/alerting"]'),
        (7, 'metadata.annotations["watchkeeper.dev/maintenance"][0].start'),
        (7, 'metadata.annotations["watchkeeper.dev/maintenance"][0].end'),
    ]
    assert "not valid JSON" in problems[0].message


def test_shared_sli_names_with_different_definitions_are_written_inline() -> None:
    common = {"objective": 0.99, "window": RollingWindow(timedelta(days=30))}
    slos = (
        SLO("svc", "ratio", SLI("svc-events"), **common),  # type: ignore[arg-type]
        SLO(  # the same events judged per minute: the same OpenSLO SLI
            "svc",
            "minutes",
            SLI(
                "svc-events",
                SLIKind.TIMESLICES,
                slice_duration=timedelta(minutes=1),
                slice_target=0.9,
            ),
            **common,  # type: ignore[arg-type]
        ),
        SLO(
            "svc",
            "bad",
            SLI("svc-other", SLIKind.THRESHOLD, threshold=0.5),
            **common,  # type: ignore[arg-type]
        ),
        SLO("svc", "good", SLI("svc-other"), **common),  # type: ignore[arg-type]
    )
    text = convert(SpecSet(slos=slos), "openslo")
    assert text.count("kind: SLI\n") == 1  # svc-events, shared
    assert text.count("indicatorRef: svc-events") == 2
    assert text.count("name: svc-other") == 2  # inline twice
    assert load_text(text).slos == slos


def test_bare_counter_queries_count_over_the_window() -> None:
    from watchkeeper.specs import load_text

    text = """
apiVersion: openslo/v1
kind: SLO
metadata: {name: web-availability}
spec:
  service: web
  budgetingMethod: Occurrences
  timeWindow: [{duration: 28d, isRolling: true}]
  objectives: [{target: 0.995}]
  indicator:
    metadata: {name: web-requests}
    spec:
      ratioMetric:
        counter: true
        good: {metricSource: {type: Prometheus, spec: {query: 'http_requests_total{code!~"5.."}'}}}
        total: {metricSource: {type: Prometheus, spec: {query: 'http_requests_total'}}}
"""
    [slo] = load_text(text).slos
    assert slo.sli.queries is not None
    assert slo.sli.queries.good == 'sum(increase(http_requests_total{code!~"5.."}[{{.window}}]))'
    assert slo.sli.queries.total == "sum(increase(http_requests_total[{{.window}}]))"


def test_windowed_count_query_forms() -> None:
    from watchkeeper.specs.openslo import windowed_count_query

    placed = "sum(rate(x[{{.window}}]))"
    assert windowed_count_query(placed, counter=True) == placed
    assert windowed_count_query("a + b", counter=True) == "sum(increase((a + b)[{{.window}}:]))"
    assert windowed_count_query("jobs_done", counter=False) == (
        "sum(sum_over_time((jobs_done)[{{.window}}:]))"
    )
