"""Sloth specs (prometheus/v1 files and the PrometheusServiceLevel resource)."""

from __future__ import annotations

import textwrap
from datetime import timedelta

import pytest

from watchkeeper.core.slo import PromQueries, RollingWindow, SLIKind, SourceKind
from watchkeeper.specs import Problem, SpecError, load_text

# Sloth's own example (pkg/prometheus/api/v1), the apiserver availability and latency SLOs.
SLOTH_EXAMPLE = """\
version: "prometheus/v1"
service: "k8s-apiserver"
labels:
  cluster: "valhalla"
  component: "kubernetes"
slos:
  - name: "requests-availability"
    objective: 99.9
    description: "Common SLO based on availability for Kubernetes apiserver HTTP request responses."
    sli:
      events:
        error_query: sum(rate(apiserver_request_total{code=~"(5..|429)"}[{{.window}}]))
        total_query: sum(rate(apiserver_request_total[{{.window}}]))
    alerting:
      name: K8sApiserverAvailabilityAlert
      labels:
        category: "availability"
      annotations:
        runbook: "https://github.com/kubernetes-monitoring/kubernetes-mixin/tree/master/runbook.md#alert-name-kubeapierrorshigh"
      page_alert:
        labels:
          severity: critical
      ticket_alert:
        labels:
          severity: warning
  - name: "requests-latency"
    objective: 99
    labels:
      category: latency
    sli:
      raw:
        error_ratio_query: |
          1 - (sum(rate(apiserver_request_duration_seconds_bucket{le="0.4"}[{{.window}}]))
            / sum(rate(apiserver_request_duration_seconds_count[{{.window}}])))
    alerting:
      name: K8sApiserverLatencyAlert
      page_alert:
        labels:
          severity: critical
      ticket_alert:
        disable: true
"""


def problems_of(text: str) -> list[Problem]:
    with pytest.raises(SpecError) as caught:
        load_text(textwrap.dedent(text), filename="sloth.yaml")
    return caught.value.problems


def test_sloth_events_and_raw() -> None:
    spec_set = load_text(SLOTH_EXAMPLE)
    availability, latency = spec_set.slos
    assert availability.key == "k8s-apiserver/requests-availability"
    assert availability.objective == 0.999  # a percent in Sloth, exactly 0.999 here
    assert availability.window == RollingWindow(timedelta(days=30))
    assert availability.sli.name == "k8s-apiserver-requests-availability"
    assert availability.sli.source is SourceKind.PROMETHEUS
    assert availability.sli.kind is SLIKind.RATIO
    assert availability.sli.queries == PromQueries(
        bad='sum(rate(apiserver_request_total{code=~"(5..|429)"}[{{.window}}]))',
        total="sum(rate(apiserver_request_total[{{.window}}]))",
    )
    assert dict(availability.labels) == {"cluster": "valhalla", "component": "kubernetes"}
    assert availability.alerting.name == "K8sApiserverAvailabilityAlert"
    page, ticket = availability.alerting.page, availability.alerting.ticket
    assert dict(page.labels) == {"category": "availability", "severity": "critical"}
    assert dict(ticket.labels) == {"category": "availability", "severity": "warning"}
    assert "runbook" in page.annotations and "runbook" in ticket.annotations
    assert availability.alerting.windows is None  # Sloth's defaults, scaled to the period

    assert latency.objective == 0.99
    assert latency.sli.kind is SLIKind.RAW
    assert latency.sli.queries is not None
    assert latency.sli.queries.raw_error_ratio is not None
    assert latency.sli.queries.raw_error_ratio.startswith("1 - (sum(rate(")
    assert dict(latency.labels)["category"] == "latency"
    assert latency.alerting.page.enabled and not latency.alerting.ticket.enabled
    assert set(spec_set.formats.values()) == {"sloth"}


def test_default_period_is_configurable() -> None:
    spec_set = load_text(SLOTH_EXAMPLE, default_period=timedelta(days=28))
    assert {slo.window for slo in spec_set.slos} == {RollingWindow(timedelta(days=28))}
    with pytest.raises(SpecError, match="period \\(1d\\) is shorter"):
        load_text(SLOTH_EXAMPLE, default_period=timedelta(days=1))


def test_kubernetes_resource() -> None:
    (slo,) = load_text(
        textwrap.dedent(
            """\
            apiVersion: sloth.slok.dev/v1
            kind: PrometheusServiceLevel
            metadata:
              name: awesome-service
              namespace: monitoring
            spec:
              service: "awesome-service"
              labels: {owner: myteam, tier: "2"}
              slos:
                - name: "requests-availability"
                  objective: 99.95
                  description: "Availability of the awesome service."
                  sli:
                    events:
                      errorQuery: sum(rate(http_requests_total{code=~"(5..|429)"}[{{.window}}]))
                      totalQuery: sum(rate(http_requests_total[{{.window}}]))
                  alerting:
                    name: AwesomeServiceAvailability
                    labels: {category: availability}
                    pageAlert: {labels: {severity: pageteam}}
                    ticketAlert: {labels: {severity: slack, slack_channel: "#alerts-myteam"}}
            """
        )
    ).slos
    assert slo.key == "awesome-service/requests-availability"
    assert slo.objective == 0.9995
    assert slo.sli.queries is not None and slo.sli.queries.bad is not None
    assert dict(slo.alerting.ticket.labels)["slack_channel"] == "#alerts-myteam"
    assert dict(slo.labels) == {"owner": "myteam", "tier": "2"}


def test_sloth_mistakes() -> None:
    problems = problems_of(
        """\
        version: "prometheus/v1"
        service: "svc"
        slos:
          - name: plugin
            objective: 99.9
            sli:
              plugin: {id: "sloth-common/kubernetes/apiserver/availability", options: {}}
          - name: percent
            objective: 0.9999
            sli:
              events:
                error_query: sum(rate(errors[5m]))
                total_query: sum(rate(all[{{.window}}]))
          - name: hundred
            objective: 100
            sli: {raw: {}}
            plugins: {chain: []}
          - name: both
            objective: 99
            sli:
              raw: {error_ratio_query: x}
              events: {error_query: y, total_query: z}
            alerting:
              page_alert: {disabled: true}
        ---
        version: "prometheus/v2"
        ---
        apiVersion: sloth.slok.dev/v1
        kind: PrometheusServiceLevelList
        spec:
          service: x
          sloPlugins: {chain: []}
          slos: []
        """
    )
    assert [(p.document, p.line, p.field) for p in problems] == [
        (1, 7, "slos[0].sli.plugin"),
        (1, 12, "slos[1].sli.events.error_query"),
        (1, 15, "slos[2].objective"),
        (1, 16, "slos[2].sli.raw.error_ratio_query"),
        (1, 17, "slos[2].plugins"),
        (1, 21, "slos[3].sli"),  # the line where the mapping starts
        (1, 24, "slos[3].alerting.page_alert.disabled"),
        (2, 26, "version"),
        (3, 29, "kind"),
        (3, 32, "spec.sloPlugins"),
        (3, 33, "spec.slos"),
    ]
    assert problems[0].message.startswith("Sloth SLI plugins are not supported")
    assert "{{.window}}" in problems[1].message
    assert "percent between 0 and 100" in problems[2].message
    assert "Sloth SLO plugins are not supported" in problems[4].message
    assert "exactly one of events, raw or plugin" in problems[5].message
    assert "did you mean 'disable'?" in problems[6].message
