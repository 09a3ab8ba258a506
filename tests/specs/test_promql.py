"""PromQL checks at validation time."""

from __future__ import annotations

import subprocess
import sys

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


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("x" * 10_001, "the PromQL query is too long: 10001 characters, at most 10000"),
        ("(" * 33 + "x" + ")" * 33, "the PromQL query nests brackets 33 deep, at most 32"),
        ("sum(" * 33 + "x" + ")" * 33, "the PromQL query nests brackets 33 deep, at most 32"),
        (" + ".join(["x"] * 102), "the PromQL query has 101 operators, at most 100"),
        ("x or " * 101 + "x", "the PromQL query has 101 operators, at most 100"),
    ],
)
def test_queries_past_the_complexity_limits_are_refused(query: str, expected: str) -> None:
    assert query_problem(query) == expected


@pytest.mark.parametrize(
    "query",
    [
        "(" * 32 + "x" + ")" * 32,
        " + ".join(["x"] * 101),
        # Brackets and operators inside strings and comments are not the query's.
        'x{path=~"' + "(" * 100 + "/a-b-c" * 100 + ")" * 100 + '"}',
        "x # " + "(" * 100 + "+" * 200 + "\n",
    ],
)
def test_queries_within_the_limits_are_parsed(query: str) -> None:
    assert query_problem(query) is None


def test_queries_the_parser_cannot_take_do_not_crash_the_process() -> None:
    """promql-parser overflows its native stack (SIGSEGV) on a few thousand nested levels."""
    script = (
        "from watchkeeper.specs.promql import query_problem\n"
        "print(query_problem('x+' * 4999 + 'x'))\n"
        "print(query_problem('(' * 4999 + 'x' + ')' * 4999))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "the PromQL query has 4999 operators, at most 100",
        "the PromQL query nests brackets 4999 deep, at most 32",
    ]
