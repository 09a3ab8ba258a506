"""Errors of the SLI event store, and the per-row problems an InvalidEvents error carries.

An ingest (or ``slo eval``) reads its whole input before reporting, so that one run lists
every bad row and every unknown SLI name. The report is bounded: the first
:data:`MAX_REPORTED_PROBLEMS` problems and unknown names are listed, the rest counted.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from watchkeeper.core.slo import MAX_SLI_NAME
from watchkeeper.errors import InvalidInput, PayloadTooLarge
from watchkeeper.messages import closest, plural, shown

MAX_REPORTED_PROBLEMS = 50
# Rows listed for each unknown SLI name; the rest are counted.
MAX_LISTED_ROWS = 5
_DETAIL_NAMES = 5


@dataclass(frozen=True, slots=True)
class EventProblem:
    """What is wrong with one event: where (file line or batch index), which field, and why."""

    message: str
    field: str | None = None
    line: int | None = None  # 1-based line of a data file
    index: int | None = None  # 0-based position in an API batch or a JSON array

    def location(self, source: str | None = None) -> str:
        """``file:line``, ``file[index]``, ``line N`` or ``event N``, for messages."""
        if self.line is not None:
            return f"{source}:{self.line}" if source else f"line {self.line}"
        if self.index is not None:
            return f"{source}[{self.index}]" if source else f"event {self.index}"
        return source or "input"

    def describe(self, source: str | None = None) -> str:
        """One line: ``file:line: field: message``."""
        field = f"{self.field}: " if self.field else ""
        return f"{self.location(source)}: {field}{self.message}"

    def as_dict(self) -> dict[str, Any]:
        """The API form: ``{"line"|"index": ..., "field": ..., "message": ...}``."""
        body: dict[str, Any] = {}
        if self.line is not None:
            body["line"] = self.line
        if self.index is not None:
            body["index"] = self.index
        body["field"] = self.field
        body["message"] = self.message
        return body

    @property
    def sort_key(self) -> tuple[int, int]:
        """Problems without a place first, then by line or index."""
        return (self.line or 0, self.index or 0)


@dataclass(frozen=True, slots=True)
class UnknownName:
    """An SLI name no SLI answers to: how many rows carry it, and where the first ones are."""

    name: str
    rows: int
    locations: tuple[int, ...]  # the first MAX_LISTED_ROWS lines (or indexes), ascending
    by_index: bool = False
    suggestion: str | None = None

    def location(self, source: str | None = None) -> str:
        """Where the name first appears, as :meth:`EventProblem.location` writes it."""
        first = self.locations[0] if self.locations else None
        if self.by_index:
            return EventProblem("", index=first).location(source)
        return EventProblem("", line=first).location(source)

    def describe(self, source: str | None = None) -> str:
        """``file:line: sli: unknown SLI 'x' (did you mean 'y'?) in 3 rows: lines 8, 9, 12``."""
        hint = f" (did you mean {self.suggestion!r}?)" if self.suggestion else ""
        noun = ("event" if self.by_index else "row") + ("" if self.rows == 1 else "s")
        text = f"{self.location(source)}: sli: unknown SLI {shown(self.name)}{hint} in "
        text += f"{self.rows} {noun}"
        if self.rows > 1:
            places = ", ".join(str(place) for place in self.locations)
            more = ", ..." if self.rows > len(self.locations) else ""
            text += f": {'indexes' if self.by_index else 'lines'} {places}{more}"
        return text

    def as_dict(self) -> dict[str, Any]:
        """The API form: name, row count, first places and any suggestion."""
        key = "indexes" if self.by_index else "lines"
        return {
            "sli": _clipped(self.name),
            "count": self.rows,
            key: list(self.locations),
            "did_you_mean": self.suggestion,
        }


def _clipped(name: str) -> str:
    """An unknown name as an API body repeats it: whole up to the longest SLI name."""
    if len(name) <= MAX_SLI_NAME:
        return name
    return f"{name[:MAX_SLI_NAME]}... ({len(name):,} characters)"


@dataclass(slots=True)
class _UnknownRows:
    rows: int = 0
    locations: list[int] = field(default_factory=list)
    by_index: bool = False


class ProblemLog:
    """Collects problems up to a cap (counting the rest) and rows naming unknown SLIs."""

    def __init__(self, cap: int = MAX_REPORTED_PROBLEMS) -> None:
        self.cap = cap
        self.problems: list[EventProblem] = []
        self.count = 0
        self.rows = 0  # distinct rows with at least one problem
        self._last: tuple[int | None, int | None] | None = None
        self.unknown: dict[str, _UnknownRows] = {}

    def __bool__(self) -> bool:
        """True when anything would make the input fail: a problem or an unknown SLI."""
        return self.count > 0 or bool(self.unknown)

    def add(self, problem: EventProblem) -> None:
        """Record a problem (kept only while under the cap, always counted)."""
        self.count += 1
        place = (problem.line, problem.index)
        if place != self._last or place == (None, None):
            self.rows += 1
            self._last = place
        if len(self.problems) < self.cap:
            self.problems.append(problem)

    def add_unlisted(self, count: int) -> None:
        """Count ``count`` more problems, each on its own row, past the listing cap."""
        self.count += count
        self.rows += count

    def add_unknown(
        self, name: str, rows: int, locations: Iterable[int], *, by_index: bool
    ) -> None:
        """Count ``rows`` more rows naming the unknown SLI ``name``, first at ``locations``."""
        entry = self.unknown.get(name)
        if entry is None:
            entry = self.unknown[name] = _UnknownRows(by_index=by_index)
        entry.rows += rows
        entry.locations = sorted({*entry.locations, *locations})[:MAX_LISTED_ROWS]

    def error(
        self, source: str | None = None, *, known: Iterable[str] = (), hint: str | None = None
    ) -> InvalidEvents:
        """The error describing everything collected (UnknownSLI when only names are wrong).

        ``known`` are the names that would have been accepted (for "did you mean"); ``hint``
        says how a name becomes known.
        """
        ordered = sorted(self.problems, key=lambda p: p.sort_key)
        entries = sorted(
            self.unknown.items(),
            key=lambda item: (item[1].locations[0] if item[1].locations else 0, item[0]),
        )
        known_names = list(known)
        unknown = [
            UnknownName(
                name,
                entry.rows,
                tuple(entry.locations),
                by_index=entry.by_index,
                suggestion=closest(name, known_names),
            )
            for name, entry in entries[: self.cap]
        ]
        kind = UnknownSLI if self.count == 0 and unknown else InvalidEvents
        return kind(
            ordered,
            source=source,
            total=self.count,
            rows=self.rows,
            unknown=unknown,
            unknown_total=len(entries),
            hint=hint,
        )


def kind_mismatch(name: str, *, row_has_value: bool) -> tuple[str, str]:
    """The field and message for a row of the wrong kind for its SLI."""
    if row_has_value:
        return "value", f"SLI {shown(name)} takes counts: send good and total, not value"
    return "good", f"SLI {shown(name)} takes observations: send value, not good and total"


class InvalidEvents(InvalidInput):
    """Some events are malformed or name unknown SLIs; nothing was stored.

    ``problems`` lists up to 50 bad fields (in the API body as ``errors``) and ``total``
    counts them all; ``unknown`` lists up to 50 unknown SLI names (``unknown`` and
    ``unknown_slis`` in the body) and ``unknown_total`` counts them all.
    """

    def __init__(
        self,
        problems: Sequence[EventProblem],
        *,
        source: str | None = None,
        total: int | None = None,
        rows: int | None = None,
        unknown: Sequence[UnknownName] = (),
        unknown_total: int | None = None,
        hint: str | None = None,
    ) -> None:
        self.problems = list(problems)
        self.source = source
        self.total = len(self.problems) if total is None else max(total, len(self.problems))
        self.rows = self.total if rows is None else rows
        self.unknown_names = list(unknown)
        self.unknown_total = (
            len(self.unknown_names)
            if unknown_total is None
            else max(unknown_total, len(self.unknown_names))
        )
        self.hint = hint
        extra: dict[str, Any] = {"errors": [p.as_dict() for p in self.problems]}
        if self.omitted:
            extra["errors_omitted"] = self.omitted
        if self.unknown_total:
            extra["unknown"] = [_clipped(name) for name in self.unknown]
            extra["unknown_slis"] = [u.as_dict() for u in self.unknown_names]
            if self.unknown_omitted:
                extra["unknown_omitted"] = self.unknown_omitted
        super().__init__(self._detail(), extra=extra)

    @property
    def unknown(self) -> list[str]:
        """The unknown SLI names listed, in order of first appearance."""
        return [u.name for u in self.unknown_names]

    @property
    def omitted(self) -> int:
        """How many problems were found but not listed."""
        return self.total - len(self.problems)

    @property
    def unknown_omitted(self) -> int:
        """How many unknown SLI names were found but not listed."""
        return self.unknown_total - len(self.unknown_names)

    def summary(self) -> str:
        """What was wrong, counted: "3 invalid events and 1 unknown SLI name"."""
        parts = []
        if self.total:
            events = plural(self.rows, "invalid event")
            if self.total != self.rows:
                events += f" ({plural(self.total, 'problem')})"
            parts.append(events)
        if self.unknown_total:
            parts.append(plural(self.unknown_total, "unknown SLI name"))
        return " and ".join(parts) or "invalid events"

    def lines(self) -> list[str]:
        """One line per listed problem, then one per unknown SLI name, with counts of the rest."""
        described = [p.describe(self.source) for p in self.problems]
        if self.omitted:
            described.append(f"... and {plural(self.omitted, 'more problem')}")
        described.extend(u.describe(self.source) for u in self.unknown_names)
        if self.unknown_omitted:
            described.append(f"... and {plural(self.unknown_omitted, 'more unknown SLI name')}")
        if self.unknown_total and self.hint:
            described.append(self.hint)
        return described

    def _detail(self) -> str:
        if self.problems:
            first = self.problems[0].describe(self.source)
            if self.total == 1 and not self.unknown_total:
                return first
            return f"{self.summary()}; first: {first}"
        if self.unknown_names:
            return self._unknown_detail()
        return f"{self.source or 'input'}: {self.summary()}"

    def _unknown_detail(self) -> str:
        parts = []
        for entry in self.unknown_names[:_DETAIL_NAMES]:
            text = shown(entry.name)
            if entry.suggestion:
                text += f" (did you mean {entry.suggestion!r}?)"
            parts.append(f"{text} first at {entry.location(self.source)}")
        rest = self.unknown_total - len(parts)
        if rest:
            parts.append(f"and {rest} more")
        noun = "SLI" if self.unknown_total == 1 else "SLIs"
        hint = f"; {self.hint}" if self.hint else ""
        return f"unknown {noun}: {', '.join(parts)}{hint}"


class UnknownSLI(InvalidEvents):
    """Every row is well formed, but some name SLIs nobody declared; nothing was stored."""


class InvalidEventFile(InvalidInput):
    """A data file cannot be read as events at all: empty, binary, a wrong CSV header."""


class UnreadableEventFile(InvalidInput):
    """An event data file is missing or cannot be read."""


class BatchTooLarge(PayloadTooLarge):
    """An API batch holds more events than ``max_event_batch``."""
