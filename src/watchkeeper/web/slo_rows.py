"""SLOs as the dashboard lists them: one row per SLO with its state, filtered, sorted, paged.

Rows are built from light summaries (slo/summaries.py: three column-only queries, each
stored spec read once per version); filtering and sorting happen here because the burn rates
are derived from stored window counts, not columns. Only the rows a page shows compute every
window's burn rate.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

from sqlalchemy.orm import Session

from watchkeeper.errors import InvalidInput
from watchkeeper.slo.models import SLORecord
from watchkeeper.slo.schemas import AlertRead, SLOStatusRead
from watchkeeper.slo.summaries import FiringAlert, Identity, Summary, identity_of, summaries

PAGE_SIZE = 50
# The burn rate a list sorts by and shows: the fastest page window of the default alerts.
LIST_BURN_WINDOW = "1h"

# States, worst first: a row's state is the first that holds.
STATES = ("failing", "paging", "exhausted", "ticketing", "no_data", "ok")
STATE_LABELS = {
    "failing": "cannot be evaluated",
    "paging": "burning: page",
    "exhausted": "budget exhausted",
    "ticketing": "burning: ticket",
    "no_data": "no data",
    "ok": "ok",
}
# What the ``status`` filter accepts, and the rows each value keeps.
STATUS_FILTERS = ("burning", "exhausted", "no_data", "failing", "ok")
SORTS = ("name", "budget", "burn", "state")


@dataclass(frozen=True)
class SLORow(Identity):
    """One SLO as a list shows it: its spec's fields (Identity) and latest stored figures."""

    evaluated: bool = False  # the worker stored a status
    error: str | None = None  # why it cannot be evaluated
    sli: float | None = None
    budget: float | None = None  # error budget remaining (None without figures)
    burn: float | None = None  # the burn rate over LIST_BURN_WINDOW (None without events)
    firing: Sequence[FiringAlert | AlertRead] = ()
    summary: Summary | None = field(default=None, repr=False, compare=False)

    @property
    def burning(self) -> bool:
        """Some burn-rate alert of the SLO fires."""
        return bool(self.firing)

    @property
    def exhausted(self) -> bool:
        """The error budget is used up (remaining <= 0)."""
        return self.budget is not None and self.budget <= 0

    @property
    def no_data(self) -> bool:
        """Evaluated without events, never evaluated, or catalogued only."""
        return self.error is None and (not self.evaluated or self.sli is None)

    @property
    def state(self) -> str:
        """The worst of STATES that holds."""
        severities = {alert.severity for alert in self.firing}
        if self.error is not None:
            return "failing"
        if "page" in severities:
            return "paging"
        if self.exhausted:
            return "exhausted"
        if "ticket" in severities:
            return "ticketing"
        return "no_data" if self.no_data else "ok"

    @property
    def burn_rates(self) -> dict[str, float | None]:
        """Every stored window's burn rate (computed when asked: for the rows shown)."""
        return {} if self.summary is None else self.summary.burn_rates()


def _identity_fields(identity: Identity) -> dict[str, Any]:
    return {f.name: getattr(identity, f.name) for f in fields(Identity)}


def row_of_summary(summary: Summary) -> SLORow:
    """The row of one SLO's summary."""
    return SLORow(
        **_identity_fields(summary.identity),
        evaluated=summary.evaluated_at is not None,
        error=summary.error,
        sli=summary.sli,
        budget=summary.budget_remaining,
        burn=summary.burn,
        firing=summary.firing,
        summary=summary,
    )


def row_of(record: SLORecord, status: SLOStatusRead | None) -> SLORow:
    """The row of one SLO from its full status document (the detail page's)."""
    return SLORow(
        **_identity_fields(identity_of(record)),
        evaluated=status is not None,
        error=None if status is None else status.error,
        sli=None if status is None else status.sli,
        budget=None if status is None else status.error_budget_remaining,
        burn=None if status is None else status.burn_rates.get(LIST_BURN_WINDOW),
        firing=[alert for alert in status.alerts if alert.firing] if status else [],
    )


def all_rows(session: Session) -> list[SLORow]:
    """Every applied SLO with its latest stored figures (three column-only queries), by key."""
    return [row_of_summary(s) for s in summaries(session, burn_window=LIST_BURN_WINDOW)]


@dataclass(frozen=True)
class ListQuery:
    """The list's query parameters, checked."""

    q: str = ""
    service: str = ""
    label: str = ""
    tier: str = ""
    status: str = ""
    sort: str = "name"
    descending: bool = False
    page: int = 1

    def params(self, **changes: Any) -> dict[str, str]:
        """The non-default parameters of this query with ``changes``, for links."""
        values: dict[str, Any] = {
            "q": self.q,
            "service": self.service,
            "label": self.label,
            "tier": self.tier,
            "status": self.status,
            "sort": self.sort if self.sort != "name" else "",
            "dir": "desc" if self.descending else "",
            "page": self.page if self.page != 1 else "",
        }
        values.update(changes)
        return {k: str(v) for k, v in values.items() if v not in ("", None)}


def page_number(value: str | None) -> int:
    """``?page=`` as a whole number from 1 (InvalidInput naming the field otherwise)."""
    if value is None or value == "":
        return 1
    if not value.isdigit() or int(value) < 1:
        raise InvalidInput(f"page: must be a whole number from 1, got {value[:40]!r}")
    return int(value)


def list_query(params: Mapping[str, str]) -> ListQuery:
    """The list query of a request's parameters; InvalidInput names a bad one."""
    status = params.get("status", "").strip()
    if status and status not in STATUS_FILTERS:
        raise InvalidInput(f"status: choose one of {', '.join(STATUS_FILTERS)}")
    sort = params.get("sort", "").strip() or "name"
    if sort not in SORTS:
        raise InvalidInput(f"sort: choose one of {', '.join(SORTS)}")
    direction = params.get("dir", "").strip()
    if direction not in ("", "asc", "desc"):
        raise InvalidInput("dir: choose asc or desc")
    return ListQuery(
        q=params.get("q", "").strip()[:200],
        service=params.get("service", "").strip()[:200],
        label=params.get("label", "").strip()[:400],
        tier=params.get("tier", "").strip()[:200],
        status=status,
        sort=sort,
        descending=direction == "desc",
        page=page_number(params.get("page")),
    )


def _matches_label(row: SLORow, label: str) -> bool:
    name, equals, value = label.partition("=")
    name = name.strip()
    if not equals:
        return name in row.labels
    return row.labels.get(name) == value.strip()


def _matches_search(row: SLORow, words: Sequence[str]) -> bool:
    text = " ".join(
        [row.key, row.owner or "", row.tier or "", row.description]
        + [f"{k}={v}" for k, v in row.labels.items()]
    ).lower()
    return all(word in text for word in words)


def _has_status(row: SLORow, status: str) -> bool:
    if status == "burning":
        return row.burning
    if status == "exhausted":
        return row.exhausted
    if status == "no_data":
        return row.no_data
    if status == "failing":
        return row.error is not None
    return row.state == "ok"


def filtered(rows: Iterable[SLORow], query: ListQuery) -> list[SLORow]:
    """The rows the query's filters and search keep."""
    words = query.q.lower().split()
    return [
        row
        for row in rows
        if (not query.service or row.service == query.service)
        and (not query.tier or row.tier == query.tier)
        and (not query.label or _matches_label(row, query.label))
        and (not query.status or _has_status(row, query.status))
        and (not words or _matches_search(row, words))
    ]


def _number_key(value: float | None, descending: bool) -> tuple[int, float]:
    # Rows without a figure go last whichever way the figures are sorted.
    if value is None or math.isnan(value):
        return (1, 0.0)
    return (0, -value if descending else value)


def sorted_rows(rows: Iterable[SLORow], *, sort: str, descending: bool = False) -> list[SLORow]:
    """Rows by name, budget left (least first), burn rate (fastest first) or state (worst
    first); ``descending`` reverses that order, rows without a figure staying last."""
    by_name = sorted(rows, key=lambda row: row.key, reverse=descending and sort == "name")
    if sort == "budget":
        return sorted(by_name, key=lambda row: _number_key(row.budget, descending))
    if sort == "burn":
        return sorted(by_name, key=lambda row: _number_key(row.burn, not descending))
    if sort == "state":
        order = {state: i for i, state in enumerate(STATES)}
        return sorted(
            by_name,
            key=lambda row: (order[row.state], _number_key(row.budget, False)),
            reverse=descending,
        )
    return by_name


@dataclass(frozen=True)
class Page:
    """One page of rows and where it sits in the whole list."""

    rows: list[SLORow]
    number: int
    pages: int
    total: int
    size: int = PAGE_SIZE

    @property
    def first(self) -> int:
        """1-based position of the page's first row (0 when empty)."""
        return (self.number - 1) * self.size + 1 if self.rows else 0

    @property
    def last(self) -> int:
        """1-based position of the page's last row."""
        return self.first + len(self.rows) - 1 if self.rows else 0


def page_of(rows: Sequence[SLORow], number: int, size: int = PAGE_SIZE) -> Page:
    """Page ``number`` of ``rows`` (a number past the end shows the last page)."""
    pages = max(1, -(-len(rows) // size))
    number = min(number, pages)
    start = (number - 1) * size
    return Page(list(rows[start : start + size]), number, pages, len(rows), size)
