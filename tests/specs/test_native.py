"""The native format: what it loads to, and how each mistake is reported."""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime, timedelta

import pytest

from watchkeeper.core.slo import (
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
from watchkeeper.core.windows import factor_for
from watchkeeper.specs import Problem, SpecError, load_text, slo_from_dict, slo_to_dict

HEADER = "apiVersion: watchkeeper/v1\nkind: ServiceLevels\nservice: checkout\n"


def problems_of(text: str) -> list[Problem]:
    with pytest.raises(SpecError) as caught:
        load_text(textwrap.dedent(text), filename="spec.yaml")
    return caught.value.problems


def test_service_fields_are_inherited_and_overridden() -> None:
    spec_set = load_text(
        HEADER
        + textwrap.dedent(
            """\
            owner: team-payments
            tier: 1
            labels: {team: payments, env: prod}
            policy: checkout-policy
            maintenance:
              - {start: 2026-11-01T02:00:00Z, end: 2026-11-01T04:00:00Z, reason: db upgrade}
            slos:
              - name: availability
                objective: 0.999
                window: 30d
                sli: {name: checkout-requests}
              - name: latency
                objective: 0.99
                window: 28d
                owner: team-latency
                tier: "2"
                policy: latency-policy
                labels: {env: canary, kind: latency}
                maintenance:
                  - {start: "2026-12-01T00:00:00+01:00", end: "2026-12-01T01:00:00+01:00"}
                sli: {kind: threshold, threshold: 0.3}
            """
        )
    )
    availability, latency = spec_set.slos
    assert availability.key == "checkout/availability"
    assert availability.owner == "team-payments"
    assert availability.tier == "1"  # an int in YAML, text in the model
    assert availability.policy == "checkout-policy"
    assert dict(availability.labels) == {"team": "payments", "env": "prod"}
    assert availability.sli.name == "checkout-requests"
    assert availability.sli.kind is SLIKind.RATIO
    assert availability.sli.source is SourceKind.WATCHKEEPER
    assert availability.window == RollingWindow(timedelta(days=30))
    assert availability.alerting.windows is None
    assert availability.maintenance[0].start == datetime(2026, 11, 1, 2, tzinfo=UTC)
    assert availability.maintenance[0].reason == "db upgrade"

    assert latency.owner == "team-latency"
    assert latency.tier == "2"
    assert latency.policy == "latency-policy"
    assert dict(latency.labels) == {"team": "payments", "env": "canary", "kind": "latency"}
    assert latency.sli.name == "checkout-latency"  # default <service>-<slo name>
    assert latency.sli.threshold == 0.3
    assert latency.sli.operator is Operator.LTE
    # Service-level maintenance first, then the SLO's own, in UTC.
    assert [m.start for m in latency.maintenance] == [
        datetime(2026, 11, 1, 2, tzinfo=UTC),
        datetime(2026, 11, 30, 23, tzinfo=UTC),
    ]
    assert spec_set.formats == {"checkout/availability": "native", "checkout/latency": "native"}


def test_kinds_sources_and_alerting_fields() -> None:
    spec_set = load_text(
        HEADER
        + textwrap.dedent(
            """\
            slos:
              - name: minutes
                objective: 0.99
                window: {calendar: quarter, timezone: Europe/Berlin}
                sli:
                  kind: timeslices
                  slice: 5m
                  slice_target: 0.95
                  slice_kind: threshold
                  threshold: 200
                  operator: gt
              - name: errors
                objective: 0.995
                window: 7d
                sli: {counts: good}
                alerting:
                  name: CheckoutErrors
                  page: {runbook_url: "https://runbooks.example.com/x", labels: {team: pay}}
                  ticket: {enabled: false}
                  windows:
                    - {severity: page, long: 1h, short: 5m, budget_percent: 2}
                    - {severity: ticket, long: 6h, short: 30m, factor: 1.5}
                  min_events: 100
              - name: prom
                objective: 0.999
                window: 30d
                sli:
                  source: prometheus
                  prometheus:
                    good: sum(rate(ok[{{.window}}]))
                    total: sum(rate(all[{{ .window }}]))
              - name: raw
                objective: 0.999
                window: 30d
                sli:
                  kind: raw
                  source: prometheus
                  prometheus: {error_ratio: "slo:error_ratio:rate5m"}
            """
        )
    )
    minutes, errors, prom, raw = spec_set.slos
    assert minutes.window == CalendarWindow(CalendarUnit.QUARTER, "Europe/Berlin")
    assert minutes.sli.kind is SLIKind.TIMESLICES
    assert minutes.sli.slice_kind is SLIKind.THRESHOLD
    assert minutes.sli.slice_duration == timedelta(minutes=5)
    assert (minutes.sli.slice_target, minutes.sli.threshold) == (0.95, 200)
    assert minutes.sli.operator is Operator.GT
    assert minutes.sli.uses_observations

    assert errors.sli.kind is SLIKind.RATIO
    assert errors.alerting.name == "CheckoutErrors"
    assert errors.alerting.page.runbook_url == "https://runbooks.example.com/x"
    assert dict(errors.alerting.page.labels) == {"team": "pay"}
    assert not errors.alerting.ticket.enabled
    assert errors.alerting.min_events == 100
    assert errors.alerting.windows == (
        AlertWindow(
            Severity.PAGE,
            timedelta(hours=1),
            timedelta(minutes=5),
            factor_for(2, timedelta(days=7), timedelta(hours=1)),
        ),
        AlertWindow(Severity.TICKET, timedelta(hours=6), timedelta(minutes=30), 1.5),
    )
    # 2 % of a 7-day budget in one hour: 0.02 * 168 = 3.36.
    assert errors.alerting.windows[0].factor == pytest.approx(3.36)

    assert prom.sli.source is SourceKind.PROMETHEUS
    assert prom.sli.queries == PromQueries(
        good="sum(rate(ok[{{.window}}]))", total="sum(rate(all[{{ .window }}]))"
    )
    assert raw.sli.kind is SLIKind.RAW
    assert raw.sli.queries == PromQueries(raw_error_ratio="slo:error_ratio:rate5m")


def test_objective_as_percent_suggests_the_ratio() -> None:
    problems = problems_of(
        HEADER + "slos:\n  - name: a\n    objective: 99.9\n    window: 30d\n    sli: {}\n"
    )
    assert [str(p) for p in problems] == [
        "spec.yaml:6: document 1: slos[0].objective: must be a ratio between 0 and 1 "
        "(exclusive), not 99.9; did you mean 0.999?"
    ]


TEN_MISTAKES = """\
apiVersion: watchkeeper/v1
kind: ServiceLevels
service: checkout
owner: team-payments
tiers: "1"
slos:
  - name: availability
    objective: 99.9
    window: 30days
    sli:
      name: checkout-requests
      kind: ratio
      source: prometheus
  - name: latency
    objective: 0.99
    window: {calendar: month, timezone: Mars/Olympus}
    sli:
      kind: threshold
      operator: le
    alerting:
      min_events: -5
      windows:
        - {severity: page, long: 1h, short: 2h, factor: 14.4}
  - name: daily
    objective: 0.9
    window: 1d
    sli: {}
"""


def test_ten_mistakes_give_ten_problems_with_their_lines() -> None:
    problems = problems_of(TEN_MISTAKES)
    assert [(p.line, p.field) for p in problems] == [
        (5, "tiers"),  # unknown field
        (8, "slos[0].objective"),  # a percent
        (9, "slos[0].window"),  # not a duration
        (11, "slos[0].sli.prometheus"),  # a Prometheus source without PromQL
        (16, "slos[1].window.timezone"),  # not an IANA zone
        (18, "slos[1].sli.threshold"),  # threshold kind without a threshold
        (19, "slos[1].sli.operator"),  # not an operator
        (21, "slos[1].alerting.min_events"),  # negative
        (23, "slos[1].alerting.windows[0].short"),  # short longer than long
        (26, "slos[2].window"),  # shorter than the default 3d alert window
    ]
    assert {p.file for p in problems} == {"spec.yaml"}
    assert {p.document for p in problems} == {1}
    messages = [p.message for p in problems]
    assert messages[0] == "unknown field; did you mean 'tier'?"
    assert "did you mean 0.999?" in messages[1]
    assert "did you mean 'Europe/Berlin'" not in messages[4]
    assert "did you mean 'lte'?" in messages[6]
    assert "(1d) is shorter than the longest default alert window (3d)" in messages[9]
    error = SpecError(problems)
    assert str(error).splitlines()[0] == (
        "spec.yaml:5: document 1: tiers: unknown field; did you mean 'tier'?"
    )
    assert error.status_code == 422
    assert error.to_dict()["problems"][0]["line"] == 5


@pytest.mark.parametrize(
    ("slo", "field", "message"),
    [
        ("objective: 1", "slos[0].objective", "leaves no error budget"),
        ("objective: 0", "slos[0].objective", "between 0 and 1"),
        ("objective: '0.9'", "slos[0].objective", "must be a number, not text"),
        ("window: {calendar: year}", "slos[0].window.calendar", "week, month, quarter"),
        ("window: {calendar: week, count: 0}", "slos[0].window.count", "at least 1"),
        ("window: [30d]", "slos[0].window", "must be a duration such as 30d"),
        ("name: Upper", "slos[0].name", "not a valid name"),
        ("sli: {name: has space}", "slos[0].sli.name", "not a valid SLI name"),
        ("sli: {kind: raw, source: prometheus}", "slos[0].sli.prometheus", "is required"),
        ("sli: {kind: timeslices, slice: 1m}", "slos[0].sli.slice_target", "is required"),
        (
            "sli: {kind: timeslices, slice_target: 2, slice: 1m}",
            "slos[0].sli.slice_target",
            "at most 1",
        ),
        ("sli: {threshold: 3}", "slos[0].sli.threshold", "only applies to kind threshold"),
        ("sli: {slice: 1m}", "slos[0].sli.slice", "only applies to kind timeslices"),
        ("sli: {prometheus: {good: x}}", "slos[0].sli.prometheus", "source: prometheus"),
        ("sli: {counts: bad}", "slos[0].sli.counts", "event rows always carry good and total"),
        ("sli: {counts: some}", "slos[0].sli.counts", "must be one of good, bad"),
        (
            "sli: {source: prometheus, counts: bad, prometheus: {good: 'a[{{.window}}]', "
            "total: 'b[{{.window}}]'}}",
            "slos[0].sli.counts",
            "prometheus.bad",
        ),
        (
            "sli: {source: prometheus, prometheus: {good: 'sum(rate(x[5m]))', "
            "total: 'b[{{.window}}]'}}",
            "slos[0].sli.prometheus.good",
            "{{.window}}",
        ),
        (
            "sli: {source: prometheus, prometheus: {good: 'a[{{.window}}]', "
            "bad: 'a[{{.window}}]', total: 'b[{{.window}}]'}}",
            "slos[0].sli.prometheus.bad",
            "not both",
        ),
        (
            "sli: {source: prometheus, prometheus: {total: 'b[{{.window}}]'}}",
            "slos[0].sli.prometheus.good",
            "is required (or bad)",
        ),
        (
            "sli: {source: prometheus, prometheus: {good: 'a[{{.window}}]'}}",
            "slos[0].sli.prometheus.total",
            "is required",
        ),
        (
            "sli: {kind: raw, source: prometheus, prometheus: {error_ratio: x, total: y}}",
            "slos[0].sli.prometheus.total",
            "only error_ratio",
        ),
        (
            "sli: {kind: threshold, threshold: 1, source: prometheus, prometheus: {}}",
            "slos[0].sli.kind",
            "histogram bucket",
        ),
        ("alerting: {windows: []}", "slos[0].alerting.windows", "at least one window"),
        (
            "alerting: {windows: [{severity: page, long: 1h, short: 5m}]}",
            "slos[0].alerting.windows[0].budget_percent",
            "is required (or factor)",
        ),
        (
            "alerting: {windows: [{severity: page, long: 1h, short: 5m, factor: 1, "
            "budget_percent: 2}]}",
            "slos[0].alerting.windows[0].factor",
            "not both",
        ),
        (
            "alerting: {windows: [{severity: sev1, long: 1h, short: 5m, factor: 1}]}",
            "slos[0].alerting.windows[0].severity",
            "page, ticket",
        ),
        (
            "alerting: {windows: [{severity: page, long: 40d, short: 1h, factor: 1}]}",
            "slos[0].window",
            "longest alert window (40d)",
        ),
        ("alerting: {page: {runbook_url: ftp://x}}", "slos[0].alerting.page.runbook_url", "http"),
        ("alerting: {page: {enabled: maybe}}", "slos[0].alerting.page.enabled", "true or false"),
        ("alerting: {pages: {}}", "slos[0].alerting.pages", "did you mean 'page'?"),
        ("labels: {team: [a, b]}", "slos[0].labels.team", "must be text"),
        (
            "maintenance: [{start: 2026-01-02T00:00:00Z, end: 2026-01-01T00:00:00Z}]",
            "slos[0].maintenance[0].end",
            "after start",
        ),
        (
            "maintenance: [{start: 2026-01-01T00:00:00, end: 2026-01-02T00:00:00Z}]",
            "slos[0].maintenance[0].start",
            "UTC offset",
        ),
        (
            "maintenance: [{start: tomorrow, end: 2026-01-02T00:00:00Z}]",
            "slos[0].maintenance[0].start",
            "not a date-time",
        ),
        (
            "maintenance: [{start: 2026-01-01T00:00:00Z}]",
            "slos[0].maintenance[0].end",
            "is required",
        ),
    ],
)
def test_each_mistake_is_reported_where_it_is(slo: str, field: str, message: str) -> None:
    base = {"name": "a", "objective": "0.999", "window": "30d", "sli": "{}"}
    key = slo.split(":", 1)[0]
    base[key] = slo.split(":", 1)[1].strip()
    body = "\n".join(
        f"    {k}: {v}" if i else f"  - {k}: {v}" for i, (k, v) in enumerate(base.items())
    )
    problems = problems_of(HEADER + "slos:\n" + body + "\n")
    assert any(p.field == field and message in p.message for p in problems), problems


def test_document_level_mistakes() -> None:
    problems = problems_of(
        """\
        apiVersion: watchkeeper/v2
        kind: ServiceLevels
        ---
        apiVersion: watchkeeper/v1
        kind: ServiceLevel
        ---
        apiVersion: watchkeeper/v1
        kind: ServiceLevels
        ---
        - a list
        ---
        apiVersion: watchkeeper/v1
        kind: ServiceLevels
        service: x
        slos: []
        """
    )
    assert [(p.document, p.line, p.field) for p in problems] == [
        (1, 1, "apiVersion"),
        (2, 5, "kind"),
        (3, 7, "service"),  # missing fields: the line of the document's mapping
        (3, 7, "slos"),
        (4, 10, "[0]"),  # a list is a sequence of objects: its item is no mapping
        (5, 15, "slos"),
    ]
    assert "did you mean 'ServiceLevels'?" in problems[1].message
    assert "must be a mapping" in problems[4].message


def test_duplicate_slo_keys_and_yaml_keys_are_reported() -> None:
    problems = problems_of(
        HEADER
        + """\
slos:
  - {name: a, objective: 0.9, window: 30d, sli: {}}
  - {name: a, objective: 0.9, window: 30d, sli: {}}
  - name: b
    objective: 0.9
    objective: 0.99
    window: 30d
    sli: {}
"""
    )
    assert [(p.line, p.field) for p in problems] == [(6, "slos[1].name"), (9, "slos[2].objective")]
    assert problems[0].message == (
        "SLO 'checkout/a' is defined twice (first in spec.yaml:5, document 1)"
    )
    assert problems[1].message == "is given twice (first on line 8)"


def test_single_slo_documents_load_like_the_stored_form() -> None:
    spec_set = load_text(
        """\
apiVersion: watchkeeper/v1
kind: SLO
service: checkout
name: availability
objective: 0.999
window: 30d
owner: team-payments
labels: {team: payments}
sli: {name: checkout-requests}
"""
    )
    (slo,) = spec_set.slos
    assert slo.owner == "team-payments"
    assert slo_from_dict(slo_to_dict(slo)) == slo
    assert slo_to_dict(slo) == {
        "apiVersion": "watchkeeper/v1",
        "kind": "SLO",
        "service": "checkout",
        "name": "availability",
        "objective": 0.999,
        "window": "30d",
        "sli": {"name": "checkout-requests"},
        "owner": "team-payments",
        "labels": {"team": "payments"},
    }


def test_slo_from_dict_rejects_invalid_data() -> None:
    with pytest.raises(SpecError, match="objective: is required"):
        slo_from_dict({"service": "a", "name": "b", "window": "30d", "sli": {}})
    with pytest.raises(SpecError, match="kind: must be 'SLO'"):
        slo_from_dict({"kind": "ServiceLevels", "service": "a", "name": "b"})
