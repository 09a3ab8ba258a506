"""PrometheusSource: an SLO's counts from the Prometheus HTTP API (Thanos, Mimir alike).

Each window ``[start, end)`` is one instant query per query kind (good or bad, and total;
or the raw error ratio) evaluated at ``end`` with ``{{.window}}`` replaced by the window's
length, so ``increase()`` handles counter resets as Prometheus does. History is range queries
with ``{{.window}}`` = the step, chunked under Prometheus' 11,000 points per series.

What a result means:

- the query must return one series (``sum()`` it in the spec); several are an error naming
  the SLO and the query;
- no series, NaN or Inf for the total: the window has no data (0 of 0);
- no series for the good or bad query alongside a total: zero such events (``sum()`` over
  series that do not exist yet, say no error so far, returns nothing in PromQL);
- a NaN or Inf good or bad count: the window has no data;
- good above the total (``increase()`` extrapolates each series on its own) is clamped to it.

Requests have explicit connect and read timeouts and are retried with jittered exponential
backoff on timeouts, connection errors and 5xx answers, never on 4xx. Prometheus' error JSON
(``{"status": "error", "errorType", "error"}``) is reported with its message.
"""

from __future__ import annotations

import math
import random
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_all
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx2
import numpy as np

from watchkeeper.core.backoff import full_jitter
from watchkeeper.core.series import EventSeries, to_unix_seconds
from watchkeeper.core.slo import SLO
from watchkeeper.sources.base import Counts, Span
from watchkeeper.sources.exceptions import QueryFailed, RequestProblem, SourceUnreachable
from watchkeeper.sources.promql_answers import (
    counts_from_values,
    fill_window,
    matrix_values,
    single_value,
    sli_queries,
    time_param,
)

# Prometheus refuses range queries of more than 11,000 points per series.
MAX_POINTS_PER_QUERY = 10_000

# (query with the range filled in, evaluation time in Unix seconds) -> value, None for no
# series, or the problem met.
InstantKey = tuple[str, float]
InstantResult = float | None | RequestProblem


@dataclass(frozen=True)
class PrometheusConfig:
    """How to reach one Prometheus-compatible API."""

    name: str
    url: str
    bearer_token: str | None = None
    username: str | None = None
    password: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    ca_file: str | None = None
    client_cert: str | None = None
    client_key: str | None = None
    insecure_skip_verify: bool = False
    timeout_seconds: float = 10.0
    connect_timeout_seconds: float = 3.0
    retries: int = 2
    backoff_seconds: float = 0.5
    concurrency: int = 8


class PrometheusSource:
    """A configured Prometheus: instant and range queries, retried, in a bounded pool."""

    def __init__(
        self,
        config: PrometheusConfig,
        *,
        transport: httpx2.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        draw: Callable[[], float] = random.random,
    ) -> None:
        self.name = config.name
        self.config = config
        self._transport = transport
        self._sleep = sleep
        self._draw = draw
        self._client: httpx2.Client | None = None
        self._executor: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"PrometheusSource({self.name!r}, {self.shown_url!r})"

    @property
    def shown_url(self) -> str:
        """The URL without any user:password part, for messages."""
        try:
            return str(httpx2.URL(self.config.url).copy_with(userinfo=b""))
        except (httpx2.InvalidURL, TypeError, ValueError):
            return "(an invalid URL)"

    # -- HTTP ------------------------------------------------------------------------------

    @property
    def client(self) -> httpx2.Client:
        """The HTTP client, built on first use (no connection is opened before)."""
        with self._lock:
            if self._client is None:
                self._client = self._build_client()
            return self._client

    def _build_client(self) -> httpx2.Client:
        config = self.config
        auth: httpx2.Auth | None = None
        headers = {"Accept": "application/json", **dict(config.headers)}
        if config.bearer_token:
            headers["Authorization"] = f"Bearer {config.bearer_token}"
        elif config.username is not None:
            auth = httpx2.BasicAuth(config.username, config.password or "")
        verify: bool | str = False if config.insecure_skip_verify else (config.ca_file or True)
        cert: tuple[str, str] | str | None = None
        if config.client_cert:
            cert = (
                (config.client_cert, config.client_key) if config.client_key else config.client_cert
            )
        timeout = httpx2.Timeout(
            config.timeout_seconds,
            connect=config.connect_timeout_seconds,
            read=config.timeout_seconds,
        )
        return httpx2.Client(
            base_url=config.url,
            auth=auth,
            headers=headers,
            verify=verify,
            cert=cert,
            timeout=timeout,
            transport=self._transport,
            trust_env=False,
            limits=httpx2.Limits(max_connections=max(config.concurrency, 1)),
        )

    def close(self) -> None:
        """Close the HTTP client and the query pool."""
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None
            if self._executor is not None:
                self._executor.shutdown(wait=False, cancel_futures=True)
                self._executor = None

    def _post(self, path: str, form: Mapping[str, str]) -> Any:
        """POST a form to the API; the ``data`` of a success answer, else RequestProblem."""
        attempts = max(self.config.retries, 0) + 1
        for attempt in range(1, attempts + 1):
            try:
                response = self.client.post(path, data=dict(form))
            except httpx2.TimeoutException as exc:
                problem = RequestProblem(
                    f"Prometheus {self.name!r} at {self.shown_url} timed out "
                    f"({type(exc).__name__})",
                    unreachable=True,
                )
            except httpx2.TransportError as exc:
                problem = RequestProblem(
                    f"cannot reach Prometheus {self.name!r} at {self.shown_url}: {exc}",
                    unreachable=True,
                )
            else:
                answer = self._answer(response)
                if not isinstance(answer, RequestProblem):
                    return answer
                problem = answer
            if not problem.unreachable or attempt == attempts:
                raise problem
            base = timedelta(seconds=self.config.backoff_seconds)
            delay = full_jitter(attempt, base=base, cap=base * 8, draw=min(self._draw(), 0.999))
            self._sleep(delay.total_seconds())
        raise AssertionError("unreachable")  # pragma: no cover

    def _answer(self, response: httpx2.Response) -> Any:
        """The ``data`` of a success answer, or a RequestProblem with Prometheus' message."""
        try:
            body = response.json()
        except ValueError:
            body = None
        message = None
        if isinstance(body, dict) and body.get("status") == "error":
            message = f"{body.get('errorType', 'error')}: {body.get('error', '')}"
        status = response.status_code
        if status >= 500:
            detail = message or response.text[:200].strip() or response.reason_phrase
            return RequestProblem(
                f"Prometheus {self.name!r} answered HTTP {status}: {detail}", unreachable=True
            )
        if status >= 400 or message is not None:
            detail = message or response.text[:200].strip() or response.reason_phrase
            return RequestProblem(
                f"Prometheus {self.name!r} refused the query (HTTP {status}): {detail}",
                unreachable=False,
            )
        if not isinstance(body, dict) or body.get("status") != "success" or "data" not in body:
            return RequestProblem(
                f"Prometheus {self.name!r} answered HTTP {status} without a query result "
                "(is the URL a Prometheus API?)",
                unreachable=False,
            )
        return body["data"]

    # -- queries ---------------------------------------------------------------------------

    def instant(self, query: str, at: float) -> float | None:
        """The single value of ``query`` at Unix time ``at``: None for no series, NaN for
        a NaN or infinite value."""
        data = self._post("api/v1/query", {"query": query, "time": time_param(at)})
        return single_value(data)

    def range(
        self, query: str, *, start: float, end: float, step: float
    ) -> list[tuple[float, float]]:
        """(time, value) samples of ``query`` over ``[start, end]`` at ``step`` seconds,
        chunked under the points limit; NaN/Inf samples are NaN."""
        samples: list[tuple[float, float]] = []
        chunk = step * (MAX_POINTS_PER_QUERY - 1)
        first = start
        while first <= end:
            last = min(first + chunk, end)
            data = self._post(
                "api/v1/query_range",
                {
                    "query": query,
                    "start": time_param(first),
                    "end": time_param(last),
                    "step": f"{step:g}",
                },
            )
            samples.extend(matrix_values(data))
            first = last + step
        return samples

    def fetch(
        self, keys: Iterable[InstantKey], *, deadline: float | None = None
    ) -> dict[InstantKey, InstantResult]:
        """Instant queries concurrently in the bounded pool; past ``deadline`` (a
        ``time.monotonic()`` value), those still waiting count as unreachable."""
        wanted = list(dict.fromkeys(keys))
        if not wanted:
            return {}
        with self._lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(
                    max_workers=max(self.config.concurrency, 1),
                    thread_name_prefix=f"watchkeeper-prometheus-{self.name}",
                )
            executor = self._executor
        futures: dict[Future[float | None], InstantKey] = {
            executor.submit(self.instant, query, at): (query, at) for query, at in wanted
        }
        timeout = None if deadline is None else max(deadline - time.monotonic(), 0.0)
        wait_all(futures, timeout=timeout)
        results: dict[InstantKey, InstantResult] = {}
        for future, key in futures.items():
            if not future.done():
                future.cancel()
                results[key] = RequestProblem(
                    f"Prometheus {self.name!r} gave no answer within the evaluation deadline",
                    unreachable=True,
                )
                continue
            error = future.exception()
            if isinstance(error, RequestProblem):
                results[key] = error
            elif error is not None:
                results[key] = RequestProblem(
                    f"Prometheus {self.name!r}: {type(error).__name__}: {error}",
                    unreachable=False,
                )
            else:
                results[key] = future.result()
        return results

    # -- MetricsSource ---------------------------------------------------------------------

    def instant_keys(self, slo: SLO, windows: Sequence[Span]) -> list[InstantKey]:
        """The instant queries that answer ``windows`` for ``slo``."""
        keys: list[InstantKey] = []
        for start, end in windows:
            if end - start <= 0:
                continue
            keys.extend(
                (fill_window(query, end - start), end)
                for query in sli_queries(slo)
                if query is not None
            )
        return keys

    def window_counts(
        self,
        slo: SLO,
        windows: Sequence[Span],
        *,
        cache: dict[InstantKey, InstantResult] | None = None,
        deadline: float | None = None,
    ) -> list[Counts]:
        """(good, total) over each window, from instant queries (answers cached in ``cache``)."""
        cache = {} if cache is None else cache
        missing = [key for key in self.instant_keys(slo, windows) if key not in cache]
        cache.update(self.fetch(missing, deadline=deadline))
        good_query, bad_query, total_query = sli_queries(slo)
        counts: list[Counts] = []
        for start, end in windows:
            if end - start <= 0:
                counts.append((0.0, 0.0))
                continue
            values: list[float | None] = []
            for query in (good_query, bad_query, total_query):
                if query is None:
                    values.append(None)
                    continue
                result = cache[(fill_window(query, end - start), end)]
                if isinstance(result, RequestProblem):
                    raise result.for_query(slo.key, fill_window(query, end - start))
                values.append(result)
            counts.append(counts_from_values(slo, *values))
        return counts

    def history(self, slo: SLO, *, start: datetime, end: datetime, step: timedelta) -> EventSeries:
        """Counts per ``step`` bucket over ``[start, end)`` from range queries (see module)."""
        step_seconds = step.total_seconds()
        if step_seconds <= 0:
            raise ValueError("the history step must be positive")
        first = to_unix_seconds(start)
        buckets = math.floor((to_unix_seconds(end) - first) / step_seconds)
        if buckets <= 0:
            return EventSeries.empty()
        # Bucket [t, t + step) is the query at t + step over the last step.
        begin, finish = first + step_seconds, first + buckets * step_seconds
        values: list[dict[float, float] | None] = []
        for query in sli_queries(slo):
            if query is None:
                values.append(None)
                continue
            filled = fill_window(query, step_seconds)
            try:
                samples = self.range(filled, start=begin, end=finish, step=step_seconds)
            except RequestProblem as problem:
                raise problem.for_query(slo.key, filled) from None
            except QueryFailed as exc:
                raise QueryFailed(f"SLO {slo.key!r}, query {filled!r}: {exc.detail}") from None
            values.append({round(t, 3): v for t, v in samples})
        good_values, bad_values, total_values = values
        times: list[float] = []
        good: list[float] = []
        total: list[float] = []
        reference = total_values if total_values is not None else bad_values
        assert reference is not None
        for at in sorted(reference):
            sample_good = None if good_values is None else good_values.get(at)
            sample_bad = None if bad_values is None else bad_values.get(at)
            sample_total = None if total_values is None else total_values.get(at)
            window_good, window_total = counts_from_values(
                slo, sample_good, sample_bad, sample_total
            )
            if window_total <= 0:
                continue  # no data: left out, never good or bad
            times.append(at - step_seconds)
            good.append(window_good)
            total.append(window_total)
        return EventSeries.from_counts(
            np.array(times, dtype=np.float64),
            np.array(good, dtype=np.float64),
            np.array(total, dtype=np.float64),
        )


__all__ = [
    "PrometheusConfig",
    "PrometheusSource",
    "SourceUnreachable",
    "counts_from_values",
    "fill_window",
    "sli_queries",
]
