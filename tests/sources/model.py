"""A model Prometheus behind a mock transport: steady traffic with a settable error rate.

Every query's range ``[w]`` answers ``requests_per_second x w`` for the total, and that times
``1 - error_rate`` for the good query; ``down`` makes it refuse connections, ``broken``
answers a query (by substring) with two series.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import parse_qs

import httpx2

from watchkeeper.core.duration import parse_duration
from watchkeeper.sources.prometheus import PrometheusConfig, PrometheusSource
from watchkeeper.sources.registry import SourceRegistry

SPEC = """\
apiVersion: watchkeeper/v1
kind: ServiceLevels
service: api
slos:
  - name: availability
    objective: 0.99
    window: 30d
    sli:
      name: api-requests
      source: prometheus
      prometheus:
        good: sum(increase(http_requests_total{code!~"5.."}[{{.window}}]))
        total: sum(increase(http_requests_total[{{.window}}]))
"""

_RANGE = re.compile(r"\[([0-9a-z]+)\]")


@dataclass
class ModelPrometheus:
    """Steady traffic with an error rate; records the queries it answered."""

    requests_per_second: float = 1.0
    error_rate: float = 0.0
    down: bool = False
    broken: str | None = None
    queries: list[str] = field(default_factory=list)

    def handle(self, request: httpx2.Request) -> httpx2.Response:
        """Answer one instant query."""
        if self.down:
            raise httpx2.ConnectError("connection refused")
        query = parse_qs(request.content.decode())["query"][0]
        self.queries.append(query)
        if self.broken is not None and self.broken in query:
            result = [
                {"metric": {"code": "200"}, "value": [0, "1"]},
                {"metric": {"code": "500"}, "value": [0, "1"]},
            ]
            return httpx2.Response(
                200, json={"status": "success", "data": {"resultType": "vector", "result": result}}
            )
        found = _RANGE.search(query)
        seconds = parse_duration(found.group(1)).total_seconds() if found else 0.0
        total = self.requests_per_second * seconds
        value = total * (1.0 - self.error_rate) if "5.." in query else total
        result = [{"metric": {}, "value": [0, repr(value)]}]
        return httpx2.Response(
            200, json={"status": "success", "data": {"resultType": "vector", "result": result}}
        )

    def source(self, name: str = "prometheus") -> PrometheusSource:
        """A Prometheus source named ``name`` answered by this model."""
        config = PrometheusConfig(name=name, url="http://model.test", retries=0)
        return PrometheusSource(config, transport=httpx2.MockTransport(self.handle))

    def registry(self) -> SourceRegistry:
        """A registry whose default source is this model."""
        return SourceRegistry({"prometheus": self.source()})
