"""What a Prometheus SLI asks and what the answers mean (see sources/prometheus.py).

The queries of an SLI with ``{{.window}}`` filled in for a window, the one value of an
instant query or the samples of a range query (one series at most; NaN for NaN or Inf), and
one window's (good, total) from its values.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from watchkeeper.core.duration import format_duration
from watchkeeper.core.slo import SLO, SLIKind, SourceKind
from watchkeeper.sources.base import Counts
from watchkeeper.sources.exceptions import QueryFailed, RequestProblem
from watchkeeper.specs.promql import WINDOW_PLACEHOLDER


def window_range(seconds: float) -> str:
    """A window length as a PromQL range (``5m``, ``1h30m``, ``1500ms``)."""
    return format_duration(timedelta(seconds=seconds))


def fill_window(query: str, seconds: float) -> str:
    """``query`` with every ``{{.window}}`` replaced by the range of ``seconds``."""
    return WINDOW_PLACEHOLDER.sub(window_range(seconds), query)


def time_param(seconds: float) -> str:
    """Unix seconds as the API's time parameter (millisecond precision)."""
    return f"{seconds:.3f}"


def sli_queries(slo: SLO) -> tuple[str | None, str | None, str | None]:
    """(good, bad, total) PromQL of a ratio SLI, or (None, error_ratio, None) for raw ones."""
    queries = slo.sli.queries
    if slo.sli.source is not SourceKind.PROMETHEUS or queries is None:
        raise QueryFailed(f"SLO {slo.key!r} does not read Prometheus")
    if slo.sli.kind is SLIKind.RAW:
        if queries.raw_error_ratio is None:
            raise QueryFailed(f"SLO {slo.key!r}: a raw SLI needs an error_ratio query")
        return None, queries.raw_error_ratio, None
    if queries.total is None or (queries.good is None and queries.bad is None):
        raise QueryFailed(f"SLO {slo.key!r}: a ratio SLI needs good or bad, and total queries")
    return queries.good, queries.bad, queries.total


def counts_from_values(
    slo: SLO, good: float | None, bad: float | None, total: float | None
) -> Counts:
    """One window's (good, total) from its query results (see the module docstring).

    None is a query without a series; NaN a non-finite value (NaN or Inf).
    """
    if slo.sli.kind is SLIKind.RAW:
        if bad is None or math.isnan(bad):
            return 0.0, 0.0
        if not 0.0 <= bad <= 1.0:
            raise QueryFailed(
                f"SLO {slo.key!r}: the error_ratio query returned {bad!r}, outside [0, 1]"
            )
        # A raw SLI weighs every window alike: one "event" whose good share is 1 - ratio.
        return 1.0 - bad, 1.0
    if total is None or math.isnan(total) or total <= 0:
        return 0.0, 0.0
    uses_good = slo.sli.queries is not None and slo.sli.queries.good is not None
    numerator = good if uses_good else bad
    if numerator is None:
        numerator = 0.0  # no series: no such events in the window
    if math.isnan(numerator):
        return 0.0, 0.0
    share = min(max(numerator, 0.0), total)
    return (share, total) if uses_good else (total - share, total)


def _value(pair: Any) -> float:
    """A sample's value: NaN when NaN or infinite (no data)."""
    try:
        value = float(pair[1])
    except (TypeError, ValueError, IndexError):
        raise RequestProblem(
            f"a sample is not [time, value]: {pair!r}", unreachable=False
        ) from None
    return value if math.isfinite(value) else math.nan


def _describe(series: Sequence[Any]) -> str:
    shown = [
        "{" + ", ".join(f'{k}="{v}"' for k, v in sorted((s.get("metric") or {}).items())) + "}"
        for s in series[:3]
        if isinstance(s, dict)
    ]
    more = f" and {len(series) - 3} more" if len(series) > 3 else ""
    return ", ".join(shown) + more


def single_value(data: Any) -> float | None:
    """The one value of an instant query result (vector of one series, or a scalar)."""
    if not isinstance(data, dict):
        raise RequestProblem("the answer has no result", unreachable=False)
    kind, result = data.get("resultType"), data.get("result")
    if kind == "scalar":
        return _value(result)
    if kind != "vector" or not isinstance(result, list):
        raise RequestProblem(
            f"the query returns a {kind}, not an instant vector of one series", unreachable=False
        )
    if not result:
        return None
    if len(result) > 1:
        raise RequestProblem(
            f"the query returned {len(result)} series ({_describe(result)}); it must return "
            "one: aggregate it, e.g. sum(...)",
            unreachable=False,
        )
    return _value(result[0].get("value") if isinstance(result[0], dict) else None)


def matrix_values(data: Any) -> list[tuple[float, float]]:
    """The finite (time, value) samples of a range query result of at most one series."""
    if not isinstance(data, dict) or data.get("resultType") != "matrix":
        raise RequestProblem("a range query answered without a matrix", unreachable=False)
    result = data.get("result")
    if not isinstance(result, list) or not result:
        return []
    if len(result) > 1:
        raise RequestProblem(
            f"the query returned {len(result)} series ({_describe(result)}); it must return "
            "one: aggregate it, e.g. sum(...)",
            unreachable=False,
        )
    samples: list[tuple[float, float]] = []
    for pair in result[0].get("values") or []:
        samples.append((float(pair[0]), _value(pair)))
    return samples
