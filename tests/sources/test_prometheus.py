"""PrometheusSource against a mock transport: results, errors, retries, auth, history."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs

import httpx2
import pytest

from watchkeeper.core.slo import SLI, SLO, PromQueries, RollingWindow, SLIKind, SourceKind
from watchkeeper.sources.exceptions import QueryFailed, SourceUnreachable
from watchkeeper.sources.prometheus import (
    MAX_POINTS_PER_QUERY,
    PrometheusConfig,
    PrometheusSource,
    fill_window,
)

AT = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
END = AT.timestamp()
GOOD = 'sum(increase(http_requests_total{code!~"5.."}[{{.window}}]))'
TOTAL = "sum(increase(http_requests_total[{{.window}}]))"
BAD = 'sum(increase(http_requests_total{code=~"5.."}[{{ .window }}]))'

Handler = Callable[[httpx2.Request], httpx2.Response]


def slo(
    *,
    good: str | None = GOOD,
    bad: str | None = None,
    total: str | None = TOTAL,
    raw: str | None = None,
) -> SLO:
    kind = SLIKind.RAW if raw else SLIKind.RATIO
    queries = PromQueries(good=good, bad=bad, total=total, raw_error_ratio=raw)
    return SLO(
        service="api",
        name="availability",
        sli=SLI("api-requests", kind=kind, source=SourceKind.PROMETHEUS, queries=queries),
        objective=0.99,
        window=RollingWindow(timedelta(days=30)),
    )


def vector(*values: float | str, labels: list[dict[str, str]] | None = None) -> dict[str, Any]:
    result = [
        {"metric": (labels or [{}] * len(values))[i], "value": [END, str(v)]}
        for i, v in enumerate(values)
    ]
    return {"status": "success", "data": {"resultType": "vector", "result": result}}


def form(request: httpx2.Request) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(request.content.decode()).items()}


def source(handler: Handler, **config: Any) -> tuple[PrometheusSource, list[float]]:
    slept: list[float] = []
    settings = {"name": "prometheus", "url": "http://prometheus.test/prefix", **config}
    return (
        PrometheusSource(
            PrometheusConfig(**settings),
            transport=httpx2.MockTransport(handler),
            sleep=slept.append,
            draw=lambda: 0.5,
        ),
        slept,
    )


def answering(values: dict[str, Any]) -> Handler:
    """Answers each query (window filled with 5m) with the value given for its kind."""

    def handler(request: httpx2.Request) -> httpx2.Response:
        query = form(request)["query"]
        for template, value in values.items():
            if query == fill_window(template, 300):
                return httpx2.Response(200, json=value)
        return httpx2.Response(200, json=vector())

    return handler


def five_minutes() -> list[tuple[float, float]]:
    return [(END - 300, END)]


def test_good_and_total_queries_give_the_window_counts() -> None:
    requests: list[httpx2.Request] = []
    values = {GOOD: vector(990), TOTAL: vector(1000)}

    def handler(request: httpx2.Request) -> httpx2.Response:
        requests.append(request)
        return answering(values)(request)

    prometheus, _ = source(handler)
    assert prometheus.window_counts(slo(), five_minutes()) == [(990.0, 1000.0)]
    assert {r.url.path for r in requests} == {"/prefix/api/v1/query"}
    queries = sorted(form(r)["query"] for r in requests)
    assert queries == sorted(fill_window(q, 300) for q in (GOOD, TOTAL))
    assert "[5m]" in queries[0]
    assert {form(r)["time"] for r in requests} == {f"{END:.3f}"}


def test_a_bad_query_is_subtracted_from_the_total() -> None:
    prometheus, _ = source(answering({BAD: vector(25), TOTAL: vector(1000)}))
    assert prometheus.window_counts(slo(good=None, bad=BAD), five_minutes()) == [(975.0, 1000.0)]


def test_no_series_for_the_bad_query_with_traffic_means_no_bad_events() -> None:
    prometheus, _ = source(answering({TOTAL: vector(1000)}))
    assert prometheus.window_counts(slo(good=None, bad=BAD), five_minutes()) == [(1000.0, 1000.0)]


@pytest.mark.parametrize(
    ("good", "total"),
    [
        pytest.param(vector(5), vector(), id="no total series"),
        pytest.param(vector(5), vector("NaN"), id="NaN total"),
        pytest.param(vector(5), vector("+Inf"), id="infinite total"),
        pytest.param(vector("NaN"), vector(10), id="NaN good"),
        pytest.param(vector(0), vector(0), id="zero traffic"),
    ],
)
def test_missing_or_non_finite_samples_are_no_data(good: Any, total: Any) -> None:
    prometheus, _ = source(answering({GOOD: good, TOTAL: total}))
    assert prometheus.window_counts(slo(), five_minutes()) == [(0.0, 0.0)]


def test_good_above_total_from_extrapolation_is_clamped() -> None:
    prometheus, _ = source(answering({GOOD: vector(1000.4), TOTAL: vector(1000.2)}))
    assert prometheus.window_counts(slo(), five_minutes()) == [(1000.2, 1000.2)]


def test_a_raw_error_ratio_is_one_weighted_event() -> None:
    raw = "1 - avg_over_time(probe_success[{{.window}}])"
    prometheus, _ = source(answering({raw: vector(0.25)}))
    assert prometheus.window_counts(slo(raw=raw), five_minutes()) == [(0.75, 1.0)]
    outside, _ = source(answering({raw: vector(1.5)}))
    with pytest.raises(QueryFailed, match=r"outside \[0, 1\]"):
        outside.window_counts(slo(raw=raw), five_minutes())


def test_several_series_name_the_slo_the_query_and_the_labels() -> None:
    labels = [{"code": "200"}, {"code": "500"}]
    prometheus, _ = source(answering({TOTAL: vector(1, 2, labels=labels), GOOD: vector(1)}))
    with pytest.raises(QueryFailed) as caught:
        prometheus.window_counts(slo(), five_minutes())
    detail = caught.value.detail
    assert "SLO 'api/availability'" in detail
    assert fill_window(TOTAL, 300) in detail
    assert "2 series" in detail and 'code="500"' in detail and "sum(" in detail


def test_prometheus_error_json_is_reported_with_its_message_and_not_retried() -> None:
    calls: list[int] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        calls.append(1)
        body = {"status": "error", "errorType": "bad_data", "error": "parse error at char 5"}
        return httpx2.Response(400, json=body)

    prometheus, slept = source(handler)
    with pytest.raises(QueryFailed) as caught:
        prometheus.window_counts(slo(), five_minutes())
    detail = caught.value.detail
    assert "SLO 'api/availability'" in detail and "query '" in detail
    assert "bad_data: parse error at char 5" in detail and "HTTP 400" in detail
    assert len(calls) == 2 and slept == []  # one request per query kind, no retry on 4xx


def test_5xx_is_retried_with_backoff_then_unreachable() -> None:
    calls: list[str] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        calls.append(form(request)["query"])
        return httpx2.Response(503, text="service unavailable: too many queries")

    prometheus, slept = source(handler, retries=2, backoff_seconds=0.5, concurrency=1)
    with pytest.raises(SourceUnreachable) as caught:
        prometheus.window_counts(slo(), five_minutes())
    detail = caught.value.detail
    assert detail.startswith("source unreachable: SLO 'api/availability', query ")
    assert "HTTP 503" in detail and "too many queries" in detail
    assert len(calls) == 6  # two queries, three attempts each
    # Full jitter with a draw of 0.5: half of 0.5 s, then half of 1 s, for each query.
    assert sorted(slept) == [0.25, 0.25, 0.5, 0.5]
    assert caught.value.status_code == 503


def test_a_5xx_then_success_is_retried_transparently() -> None:
    answers = iter([httpx2.Response(502, text="bad gateway")])

    def handler(request: httpx2.Request) -> httpx2.Response:
        return next(answers, None) or answering({GOOD: vector(9), TOTAL: vector(10)})(request)

    prometheus, slept = source(handler, concurrency=1)
    assert prometheus.window_counts(slo(), five_minutes()) == [(9.0, 10.0)]
    assert slept == [0.25]


@pytest.mark.parametrize(
    "error",
    [
        httpx2.ConnectError("connection refused"),
        httpx2.ReadTimeout("timed out"),
    ],
)
def test_connection_errors_and_timeouts_are_unreachable(error: Exception) -> None:
    def handler(request: httpx2.Request) -> httpx2.Response:
        raise error

    prometheus, slept = source(handler, retries=1)
    with pytest.raises(SourceUnreachable, match="source unreachable") as caught:
        prometheus.window_counts(slo(), five_minutes())
    assert "http://prometheus.test/prefix" in caught.value.detail
    assert len(slept) == 2  # one retry per query


def test_bearer_token_and_custom_headers_are_sent() -> None:
    seen: list[httpx2.Headers] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        seen.append(request.headers)
        return answering({GOOD: vector(1), TOTAL: vector(1)})(request)

    prometheus, _ = source(handler, bearer_token="s3cret", headers={"X-Scope-OrgID": "team-a"})
    prometheus.window_counts(slo(), five_minutes())
    assert {h["authorization"] for h in seen} == {"Bearer s3cret"}
    assert {h["x-scope-orgid"] for h in seen} == {"team-a"}


def test_basic_auth_is_sent() -> None:
    seen: list[str] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        seen.append(request.headers["authorization"])
        return answering({GOOD: vector(1), TOTAL: vector(1)})(request)

    prometheus, _ = source(handler, username="wk", password="pw")
    prometheus.window_counts(slo(), five_minutes())
    assert set(seen) == {"Basic d2s6cHc="}  # base64("wk:pw")


def test_a_non_prometheus_answer_is_a_clear_error() -> None:
    prometheus, _ = source(lambda request: httpx2.Response(200, text="<html>login</html>"))
    with pytest.raises(QueryFailed, match="is the URL a Prometheus API"):
        prometheus.window_counts(slo(), five_minutes())


def test_identical_queries_are_sent_once_and_cached() -> None:
    calls: list[str] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        calls.append(form(request)["query"])
        return answering({GOOD: vector(1), TOTAL: vector(2)})(request)

    prometheus, _ = source(handler)
    cache: dict[tuple[str, float], Any] = {}
    windows = [(END - 300, END), (END - 300, END)]
    assert prometheus.window_counts(slo(), windows, cache=cache) == [(1.0, 2.0)] * 2
    assert prometheus.window_counts(slo(), windows, cache=cache) == [(1.0, 2.0)] * 2
    assert len(calls) == 2


def test_an_empty_window_costs_no_query() -> None:
    prometheus, _ = source(lambda request: pytest.fail("no query expected"))
    assert prometheus.window_counts(slo(), [(END, END)]) == [(0.0, 0.0)]


def test_history_is_chunked_under_the_points_limit_and_skips_missing_samples() -> None:
    step = 60.0
    start = datetime(2026, 1, 1, tzinfo=UTC)
    end = start + timedelta(minutes=25_000)
    seen: list[dict[str, str]] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        params = form(request)
        seen.append(params)
        first, last = float(params["start"]), float(params["end"])
        times = [first + i * step for i in range(int((last - first) // step) + 1)]
        is_total = "code" not in params["query"]
        values = []
        for t in times:
            minute = int((t - start.timestamp()) // step)
            if minute == 7:
                continue  # a scrape gap: no sample, no data
            if minute == 8:
                values.append([t, "NaN"])
            else:
                values.append([t, "10" if is_total else "9"])
        result = [{"metric": {}, "values": values}]
        return httpx2.Response(
            200, json={"status": "success", "data": {"resultType": "matrix", "result": result}}
        )

    prometheus, _ = source(handler)
    series = prometheus.history(slo(), start=start, end=end, step=timedelta(minutes=1))
    assert all(r["step"] == "60" for r in seen)
    assert all(
        (float(r["end"]) - float(r["start"])) / step + 1 <= MAX_POINTS_PER_QUERY for r in seen
    )
    assert len(seen) == 2 * 3  # 25,000 points in three chunks, for good and total
    assert {r["query"] for r in seen} == {fill_window(q, 60) for q in (GOOD, TOTAL)}
    # Bucket [t, t + 1m) comes from the query at t + 1m: the first at start + 1m.
    assert min(float(r["start"]) for r in seen) == start.timestamp() + step
    assert len(series) == 25_000 - 2
    assert series.times[0] == start.timestamp()
    good, total = series.sums([start.timestamp()], [end.timestamp()])
    assert (good[0], total[0]) == (9.0 * (25_000 - 2), 10.0 * (25_000 - 2))
    # The samples at minutes 7 (absent) and 8 (NaN) are the buckets starting a minute earlier.
    bucket_6 = start.timestamp() + 6 * step
    assert series.sums([bucket_6], [bucket_6 + 2 * step])[1][0] == 0.0
    assert series.sums([bucket_6 - step], [bucket_6])[1][0] == 10.0


def test_history_errors_name_the_slo_and_query() -> None:
    def handler(request: httpx2.Request) -> httpx2.Response:
        body = {"status": "error", "errorType": "execution", "error": "too many samples"}
        return httpx2.Response(422, json=body)

    prometheus, _ = source(handler)
    with pytest.raises(QueryFailed, match="too many samples") as caught:
        prometheus.history(slo(), start=AT - timedelta(hours=1), end=AT, step=timedelta(minutes=1))
    assert "SLO 'api/availability'" in caught.value.detail
    assert "[1m]" in caught.value.detail


def test_a_deadline_turns_unanswered_queries_into_unreachable() -> None:
    import threading

    release = threading.Event()

    def handler(request: httpx2.Request) -> httpx2.Response:
        release.wait(5)
        return httpx2.Response(200, json=vector(1))

    prometheus, _ = source(handler)
    try:
        import time

        results = prometheus.fetch([("up", END)], deadline=time.monotonic() + 0.05)
    finally:
        release.set()
        prometheus.close()
    problem = results[("up", END)]
    assert not isinstance(problem, float) and problem is not None
    assert "deadline" in str(problem)


def test_nan_is_not_a_number_anywhere() -> None:
    prometheus, _ = source(answering({"up": vector("NaN")}))
    value = prometheus.instant("up", END)
    assert value is not None and math.isnan(value)


def test_request_body_is_a_form_with_the_time() -> None:
    bodies: list[str] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        bodies.append(request.content.decode())
        assert request.method == "POST"
        assert request.headers["content-type"] == "application/x-www-form-urlencoded"
        return httpx2.Response(200, json=vector(3))

    prometheus, _ = source(handler)
    assert prometheus.instant('sum(up{job="a b"})', 1700000000.5) == 3.0
    assert parse_qs(bodies[0]) == {"query": ['sum(up{job="a b"})'], "time": ["1700000000.500"]}
    assert json.dumps(bodies)  # plain text, nothing binary


def test_credentials_in_the_url_never_reach_a_message() -> None:
    def handler(request: httpx2.Request) -> httpx2.Response:
        raise httpx2.ConnectError("connection refused")

    prometheus, _ = source(handler, url="http://wk:s3cret@prometheus.test", retries=0)
    with pytest.raises(SourceUnreachable) as caught:
        prometheus.window_counts(slo(), five_minutes())
    assert "s3cret" not in caught.value.detail
    assert "http://prometheus.test" in caught.value.detail
