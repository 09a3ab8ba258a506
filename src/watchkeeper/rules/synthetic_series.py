"""Input series that drive an SLO's own PromQL, for the promtool tests shipped with its rules.

From the SLI's counted query (good or bad) and its total query, each with one series
selector, two label sets are built: one the counted selector matches, one only the total
selector matches. Which events each series counts follows from which selectors match it:
with ``bad = http_requests_total{code=~"5.."}`` and ``total = http_requests_total``, one
series is the errors (``code="500"``) and the other the successes (``code="200"``); with
separate error and request counters, one counts errors and the other every request.
Queries this cannot satisfy (several selectors, regexes no simple value matches) raise
SeriesError with the reason.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import promql_parser

from watchkeeper.core.slo import SLO, SLIKind
from watchkeeper.rules.promtext import escape_label_value, fill_window

_CANDIDATES = (
    "",
    "500",
    "503",
    "429",
    "404",
    "200",
    "201",
    "error",
    "errors",
    "fail",
    "failure",
    "ok",
    "success",
    "true",
    "false",
    "1",
    "0",
    "GET",
    "POST",
    "WATCH",
    "5xx",
    "2xx",
    "x",
    "synthetic",
)


class SeriesError(ValueError):
    """The SLO's queries cannot be driven by synthetic series; the message says why."""


@dataclass(frozen=True)
class _Matcher:
    label: str
    op: str  # =, !=, =~, !~
    value: str

    def matches(self, value: str) -> bool:
        if self.op == "=":
            return value == self.value
        if self.op == "!=":
            return value != self.value
        try:
            found = re.fullmatch(self.value, value) is not None
        except re.error:
            return False
        return found if self.op == "=~" else not found


@dataclass(frozen=True)
class _Selector:
    name: str
    matchers: tuple[_Matcher, ...]

    def matches(self, name: str, labels: dict[str, str]) -> bool:
        return name == self.name and all(m.matches(labels.get(m.label, "")) for m in self.matchers)


@dataclass(frozen=True)
class EventSeries:
    """One input series: its promtool selector and what it counts (``good``, ``bad``, ``all``)."""

    series: str
    counts: str


_OPS = {"Equal": "=", "NotEqual": "!=", "Re": "=~", "NotRe": "!~"}


def _children(node: Any) -> Iterator[Any]:
    for attribute in ("expr", "lhs", "rhs", "param", "vector_selector"):
        child = getattr(node, attribute, None)
        if child is not None and not isinstance(child, str | int | float):
            yield child
    yield from getattr(node, "args", None) or ()


def _selectors(node: Any) -> list[Any]:
    if isinstance(node, promql_parser.VectorSelector):
        return [node]
    return [found for child in _children(node) for found in _selectors(child)]


def _selector(query: str, what: str) -> _Selector:
    found = _selectors(promql_parser.parse(fill_window(query, "5m")))
    if len(found) != 1:
        raise SeriesError(f"the {what} query reads {len(found)} series selectors, not one")
    vector = found[0]
    matchers = []
    for matcher in vector.matchers.matchers:
        op = _OPS.get(str(matcher.op).rsplit(".", 1)[-1])
        if op is None or matcher.name == "__name__":
            raise SeriesError(f"the {what} query selects series by {matcher.name} {matcher.op}")
        matchers.append(_Matcher(matcher.name, op, matcher.value))
    if not vector.name:
        raise SeriesError(f"the {what} query has no metric name")
    return _Selector(vector.name, tuple(matchers))


def _candidates(matchers: Sequence[_Matcher]) -> list[str]:
    values = list(_CANDIDATES)
    for matcher in matchers:
        values.append(matcher.value)
        if matcher.op in ("=~", "!~"):
            for part in re.split(r"[|()^$]", matcher.value):
                literal = re.sub(
                    r"\\d|\.|\[[^\]]*\]", "0", part.replace(".*", "").replace(".+", "0")
                )
                values.append(literal)
    return list(dict.fromkeys(values))


def _value(
    label: str, required: Sequence[_Matcher], violated: Sequence[_Matcher] = ()
) -> str | None:
    """A value of ``label`` every ``required`` matcher accepts and some ``violated`` one refuses."""
    on_label = [m for m in required if m.label == label]
    against = [m for m in violated if m.label == label]
    for value in _candidates([*on_label, *against]):
        if all(m.matches(value) for m in on_label) and (
            not against or not all(m.matches(value) for m in against)
        ):
            return value
    return None


def _labels_for(selector: _Selector) -> dict[str, str] | None:
    labels: dict[str, str] = {}
    for label in dict.fromkeys(m.label for m in selector.matchers):
        value = _value(label, selector.matchers)
        if value is None:
            return None
        if value:
            labels[label] = value
    return labels


def _other_labels(total: _Selector, counted: _Selector) -> dict[str, str] | None:
    """Labels the total selector matches and the counted one does not."""
    base = _labels_for(total)
    if base is None:
        return None
    if total.name != counted.name:
        return base
    for label in dict.fromkeys(m.label for m in counted.matchers):
        value = _value(label, total.matchers, counted.matchers)
        if value is None:
            continue
        labels = {k: v for k, v in base.items() if k != label}
        if value:
            labels[label] = value
        if total.matches(total.name, labels) and not counted.matches(total.name, labels):
            return labels
    return None


def _series(name: str, labels: dict[str, str]) -> str:
    if not labels:
        return name
    inner = ",".join(f'{k}="{escape_label_value(v)}"' for k, v in sorted(labels.items()))
    return f"{name}{{{inner}}}"


def event_series(slo: SLO) -> tuple[EventSeries, EventSeries]:
    """The counted series (good or bad events) and the other series of ``slo``'s total."""
    queries = slo.sli.queries
    if slo.sli.kind is not SLIKind.RATIO or queries is None or queries.total is None:
        raise SeriesError("only ratio SLIs (good or bad, and total queries) can be driven")
    what = "bad" if queries.bad is not None else "good"
    counted_query = queries.bad if queries.bad is not None else queries.good
    assert counted_query is not None
    counted = _selector(counted_query, what)
    total = _selector(queries.total, "total")
    counted_labels = _labels_for(counted)
    if counted_labels is None:
        raise SeriesError(f"no simple label values match the {what} query's selector")
    other_labels = _other_labels(total, counted)
    if other_labels is None:
        raise SeriesError(
            f"no label values match the total query's selector without matching the {what} one"
        )
    inside_total = total.matches(counted.name, counted_labels)
    opposite = "good" if what == "bad" else "bad"
    return (
        EventSeries(_series(counted.name, counted_labels), what),
        EventSeries(_series(total.name, other_labels), opposite if inside_total else "all"),
    )
