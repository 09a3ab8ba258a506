"""PromQL in specs, checked when the spec is validated (no Prometheus needed).

Queries may hold Go-template placeholders as Sloth writes them; ``{{.window}}`` (spaces
allowed inside the braces) is the only one Watchkeeper fills, with the range of each window.
The query is parsed with ``promql-parser`` after filling every placeholder with a sample range.
"""

from __future__ import annotations

import re

import promql_parser

WINDOW_PLACEHOLDER = re.compile(r"\{\{\s*\.window\s*\}\}")
_ANY_PLACEHOLDER = re.compile(r"\{\{.*?\}\}", re.DOTALL)
# Any valid range works for parsing; 5m is one Prometheus accepts everywhere a range goes.
_SAMPLE_RANGE = "5m"


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
    try:
        promql_parser.parse(filled)
    except ValueError as exc:
        return f"PromQL does not parse: {exc}"
    return None
