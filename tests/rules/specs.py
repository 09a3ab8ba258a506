"""Spec texts shared by the rule-generation tests."""

from __future__ import annotations

from watchkeeper.core.slo import SLO
from watchkeeper.specs import SpecSet, load_text

SLOTH_SPEC = """\
version: prometheus/v1
service: myservice
labels: {owner: myteam}
slos:
  - name: requests-availability
    objective: 99.9
    sli:
      events:
        error_query: sum(rate(http_requests_total{job="myservice",code=~"(5..|429)"}[{{.window}}]))
        total_query: sum(rate(http_requests_total{job="myservice"}[{{.window}}]))
    alerting:
      name: MyServiceHighErrorRate
      labels: {category: availability}
      page_alert: {labels: {severity: pageteam}}
      ticket_alert: {disable: true}
"""

NATIVE_SPEC = """\
apiVersion: watchkeeper/v1
kind: ServiceLevels
service: checkout
labels: {team: payments}
slos:
  - name: availability
    objective: 0.995
    window: 28d
    sli:
      source: prometheus
      prometheus:
        good: sum(increase(http_requests_total{service="checkout",code!~"5.."}[{{.window}}]))
        total: sum(increase(http_requests_total{service="checkout"}[{{.window}}]))
    alerting:
      min_events: 100
      page: {runbook_url: "https://runbooks.example.com/checkout", labels: {team: payments}}
  - name: latency
    objective: 0.99
    window: 7d
    sli:
      kind: raw
      source: prometheus
      prometheus:
        error_ratio: 1 - avg_over_time(checkout_fast_ratio[{{.window}}])
    alerting:
      ticket: {enabled: false}
"""

EVENT_STORE_SPEC = """\
apiVersion: watchkeeper/v1
kind: ServiceLevels
service: shop
slos:
  - name: availability
    objective: 0.999
    window: 30d
    sli: {name: shop-requests}
"""


def spec_set(*texts: str) -> SpecSet:
    """The specs of ``texts`` loaded together (each its own file name)."""
    return load_text("\n---\n".join(texts), filename="slos.yaml")


def slo(text: str, name: str) -> SLO:
    """The SLO called ``name`` in ``text``."""
    return next(item for item in spec_set(text).slos if item.name == name)
