"""PromQL checks at validation time."""

from __future__ import annotations

import pytest

from watchkeeper.specs.promql import query_problem


@pytest.mark.parametrize(
    "query",
    [
        'sum(rate(http_requests_total{code!~"5.."}[{{.window}}]))',
        "sum(rate(x[{{ .window }}])) / sum(rate(y[{{.window}}]))",
        "1 - (sum(increase(a[30d])) / sum(increase(b[30d])))",
        "sum(increase((x)[{{.window}}:]))",
    ],
)
def test_valid_queries_pass(query: str) -> None:
    assert query_problem(query) is None


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("sum(rate(x[{{.window}}])", "PromQL does not parse: unclosed left parenthesis"),
        ('x{code=~"["}', "PromQL does not parse"),
        ("sum(rate(x[{{.Window}}]))", "unknown template placeholder {{.Window}}"),
        ("sum(rate(x[{{.window}}])) / {{.total}}", "unknown template placeholder {{.total}}"),
        ("   ", "the PromQL query is empty"),
    ],
)
def test_invalid_queries_are_named(query: str, expected: str) -> None:
    problem = query_problem(query)
    assert problem is not None
    assert problem.startswith(expected)
