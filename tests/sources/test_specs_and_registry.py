"""Native specs for Prometheus SLIs (named sources, histograms) and the source registry."""

from __future__ import annotations

from pathlib import Path

import pytest

from watchkeeper.config import Settings
from watchkeeper.core.slo import SLO
from watchkeeper.sources.exceptions import SourceNotConfigured
from watchkeeper.sources.registry import InvalidSourcesFile, registry_from_settings
from watchkeeper.specs import load_text
from watchkeeper.specs.native import slo_to_dict
from watchkeeper.specs.problems import SpecError

HEAD = """\
apiVersion: watchkeeper/v1
kind: SLO
service: api
name: latency
objective: 0.99
window: 30d
sli:
  name: api-latency
  source: prometheus
  prometheus:
"""


def one(text: str) -> SLO:
    (slo,) = load_text(text).slos
    return slo


def test_a_histogram_and_threshold_become_bucket_and_count_queries() -> None:
    slo = one(
        HEAD
        + "    source: mimir-eu\n"
        + "    histogram: http_request_duration_seconds_bucket\n"
        + "    threshold: 0.3\n"
        + "    selector: '{job=\"api\"}'\n"
    )
    queries = slo.sli.queries
    assert queries is not None and queries.source == "mimir-eu"
    assert queries.good == (
        'sum(increase(http_request_duration_seconds_bucket{job="api", le="0.3"}[{{.window}}]))'
    )
    assert queries.total == (
        'sum(increase(http_request_duration_seconds_count{job="api"}[{{.window}}]))'
    )
    # Stored and written back as it was written (the base name), and read again the same.
    written = slo_to_dict(slo)["sli"]["prometheus"]
    assert written == {
        "source": "mimir-eu",
        "histogram": "http_request_duration_seconds",
        "threshold": 0.3,
        "selector": '{job="api"}',
    }


def test_a_whole_threshold_matches_both_ways_clients_write_it() -> None:
    slo = one(HEAD + "    histogram: rpc_seconds\n    threshold: 1\n")
    assert slo.sli.queries is not None
    assert slo.sli.queries.good == 'sum(increase(rpc_seconds_bucket{le=~"1|1[.]0"}[{{.window}}]))'
    assert slo.sli.queries.total == "sum(increase(rpc_seconds_count[{{.window}}]))"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("    histogram: rpc_seconds\n", "threshold: is required"),
        ("    histogram: rpc_seconds\n    threshold: 0\n", "greater than 0"),
        ("    histogram: 'rpc seconds'\n    threshold: 1\n", "must be a metric name"),
        ("    histogram: rpc\n    threshold: 1\n    selector: job=api\n", "in braces"),
        ("    histogram: rpc\n    threshold: 1\n    selector: '{job=}'\n", "does not parse"),
        (
            "    histogram: rpc\n    threshold: 1\n    total: sum(x[{{.window}}])\n",
            "not both",
        ),
        ("    good: a\n    total: b\n    threshold: 1\n", "only applies with histogram"),
        ("    source: 'no spaces'\n    good: a\n    total: b\n", "source name"),
    ],
)
def test_bad_histogram_fields_are_reported(body: str, message: str) -> None:
    with pytest.raises(SpecError, match=message):
        load_text(HEAD + body)


def test_the_default_source_comes_from_the_url_setting() -> None:
    registry = registry_from_settings(
        Settings(
            prometheus_url="http://prometheus:9090",
            prometheus_headers={"X-Scope-OrgID": "team-a"},
            prometheus_bearer_token="t0k",
        )
    )
    source = registry.prometheus()
    assert source.config.url == "http://prometheus:9090"
    assert source.config.headers == {"X-Scope-OrgID": "team-a"}
    assert source.config.bearer_token == "t0k"
    with pytest.raises(SourceNotConfigured, match=r"'thanos'.*configured: prometheus"):
        registry.prometheus("thanos")


def test_without_a_url_the_error_says_what_to_set() -> None:
    with pytest.raises(
        SourceNotConfigured,
        match=r"^no Prometheus source configured: set WATCHKEEPER_PROMETHEUS_URL$",
    ):
        registry_from_settings(Settings()).prometheus()


def test_named_sources_come_from_a_yaml_file(tmp_path: Path) -> None:
    token = tmp_path / "token"
    token.write_text("from-a-file\n")
    path = tmp_path / "sources.yaml"
    path.write_text(
        "sources:\n"
        "  - name: mimir-eu\n"
        "    url: https://mimir.example/prometheus\n"
        f"    bearer_token_file: {token}\n"
        "    headers: {X-Scope-OrgID: eu}\n"
        "    ca_file: /etc/ssl/mimir-ca.pem\n"
        "    timeout_seconds: 30\n"
        "  - name: thanos\n"
        "    url: http://thanos:10902\n"
        "    username: wk\n"
        "    password: pw\n"
        "    insecure_skip_verify: true\n"
    )
    registry = registry_from_settings(Settings(prometheus_sources_file=path))
    assert registry.names == ["mimir-eu", "thanos"]
    mimir = registry.prometheus("mimir-eu").config
    assert (mimir.bearer_token, mimir.headers, mimir.ca_file, mimir.timeout_seconds) == (
        "from-a-file",
        {"X-Scope-OrgID": "eu"},
        "/etc/ssl/mimir-ca.pem",
        30.0,
    )
    thanos = registry.prometheus("thanos").config
    assert (thanos.username, thanos.password, thanos.insecure_skip_verify) == ("wk", "pw", True)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("sources: {}\n", "a list under 'sources'"),
        ("sources:\n  - {name: a}\n", r"sources\[0\]: name and url are required"),
        ("sources:\n  - {name: a, url: u, tls: x}\n", "unknown field"),
        ("sources:\n  - {name: a, url: u, timeout_seconds: 0}\n", "positive"),
        ("sources: [\n", "not valid YAML"),
        ("sources:\n  - {name: prometheus, url: u}\n", "configured twice"),
    ],
)
def test_a_bad_sources_file_is_refused_with_the_entry(
    tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "sources.yaml"
    path.write_text(text)
    with pytest.raises(InvalidSourcesFile, match=message):
        registry_from_settings(
            Settings(prometheus_url="http://p:9090", prometheus_sources_file=path)
        )
