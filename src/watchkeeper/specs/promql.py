"""PromQL in specs, checked when the spec is validated (no Prometheus needed).

Queries may hold Go-template placeholders as Sloth writes them; ``{{.window}}`` (spaces
allowed inside the braces) is the only one Watchkeeper fills, with the range of each window.
The query is parsed with ``promql-parser`` after filling every placeholder with a sample range.

The parser recurses once per level of the expression tree, and its time grows with the square
of that depth, so queries are first checked against limits no real query meets: past a few
thousand levels the parser overflows its native stack and takes the whole process down.
"""

from __future__ import annotations

import functools
import re

import promql_parser

WINDOW_PLACEHOLDER = re.compile(r"\{\{\s*\.window\s*\}\}")
_ANY_PLACEHOLDER = re.compile(r"\{\{.*?\}\}", re.DOTALL)
# Any valid range works for parsing; 5m is one Prometheus accepts everywhere a range goes.
_SAMPLE_RANGE = "5m"

MAX_QUERY_LENGTH = 10_000  # characters
MAX_QUERY_NESTING = 32  # brackets ( [ { inside one another
MAX_QUERY_OPERATORS = 100  # binary operators (+ - * / % ^, comparisons, and, or, unless...)
# String literals and comments, whose brackets and operators are not PromQL's; an unclosed
# one runs to the end (the parser reports it).
_NOT_CODE = re.compile(r""""(?:[^"\\]|\\.)*"?|'(?:[^'\\]|\\.)*'?|`[^`]*`?|#[^\n]*""", re.DOTALL)
_BRACKETS = re.compile(r"[()\[\]{}]")
_OPERATORS = re.compile(r"[-+*/%^]|[=!<>]=|[<>]|\b(?:and|or|unless|atan2)\b", re.IGNORECASE)


@functools.lru_cache(maxsize=1024)
def query_problem(query: str) -> str | None:
    """Why ``query`` is not usable PromQL, or None when it parses."""
    for placeholder in _ANY_PLACEHOLDER.findall(query):
        if not WINDOW_PLACEHOLDER.fullmatch(placeholder):
            return (
                f"unknown template placeholder {placeholder}; the only one Watchkeeper fills is "
                "{{.window}}"
            )
    filled = WINDOW_PLACEHOLDER.sub(_SAMPLE_RANGE, query)
    if not filled.strip():
        return "the PromQL query is empty"
    too_complex = _complexity_problem(filled)
    if too_complex is not None:
        return too_complex
    try:
        promql_parser.parse(filled)
    except ValueError as exc:
        return f"PromQL does not parse: {exc}"
    return None


def _complexity_problem(query: str) -> str | None:
    """Why ``query`` is too long or too deeply built to parse safely, or None."""
    if len(query) > MAX_QUERY_LENGTH:
        return f"the PromQL query is too long: {len(query)} characters, at most {MAX_QUERY_LENGTH}"
    code = _NOT_CODE.sub(" ", query)
    depth = deepest = 0
    for bracket in _BRACKETS.findall(code):
        depth = depth + 1 if bracket in "([{" else max(depth - 1, 0)
        deepest = max(deepest, depth)
    if deepest > MAX_QUERY_NESTING:
        return f"the PromQL query nests brackets {deepest} deep, at most {MAX_QUERY_NESTING}"
    operators = len(_OPERATORS.findall(code))
    if operators > MAX_QUERY_OPERATORS:
        return f"the PromQL query has {operators} operators, at most {MAX_QUERY_OPERATORS}"
    return None
