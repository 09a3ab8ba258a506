"""Errors of the SLI event store, and the per-row problems an InvalidEvents error carries."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from watchkeeper.errors import InvalidInput, PayloadTooLarge

MAX_REPORTED_PROBLEMS = 100


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


class ProblemLog:
    """Collects problems up to a cap and counts the ones past it."""

    def __init__(self, cap: int = MAX_REPORTED_PROBLEMS) -> None:
        self.cap = cap
        self.problems: list[EventProblem] = []
        self.count = 0

    def __bool__(self) -> bool:
        return self.count > 0

    def add(self, problem: EventProblem) -> None:
        """Record a problem (kept only while under the cap, always counted)."""
        self.count += 1
        if len(self.problems) < self.cap:
            self.problems.append(problem)

    def merge(self, problems: Iterable[EventProblem], count: int) -> None:
        """Fold in problems found elsewhere (``count`` includes any not listed)."""
        listed = list(problems)
        self.problems = sorted(
            [*self.problems, *listed], key=lambda p: (p.line or 0, p.index or 0)
        )[: self.cap]
        self.count += count

    def error(self, source: str | None = None) -> InvalidEvents:
        """The InvalidEvents error describing everything collected."""
        ordered = sorted(self.problems, key=lambda p: (p.line or 0, p.index or 0))
        return InvalidEvents(ordered, source=source, total=self.count)


class InvalidEvents(InvalidInput):
    """Some events are malformed; nothing was stored.

    ``problems`` lists up to 100 of them (also in the API body as ``errors``); ``total``
    counts all, so the message can say "and N more".
    """

    def __init__(
        self,
        problems: Sequence[EventProblem],
        *,
        source: str | None = None,
        total: int | None = None,
    ) -> None:
        self.problems = list(problems)
        self.source = source
        self.total = len(self.problems) if total is None else max(total, len(self.problems))
        extra: dict[str, Any] = {"errors": [p.as_dict() for p in self.problems]}
        if self.omitted:
            extra["errors_omitted"] = self.omitted
        super().__init__(self._summary(), extra=extra)

    @property
    def omitted(self) -> int:
        """How many problems were found but not listed."""
        return self.total - len(self.problems)

    def lines(self) -> list[str]:
        """One ``file:line: field: message`` line per listed problem, then "and N more"."""
        described = [p.describe(self.source) for p in self.problems]
        if self.omitted:
            described.append(f"... and {self.omitted} more problems")
        return described

    def _summary(self) -> str:
        if not self.problems:
            return f"{self.source or 'input'}: invalid events"
        first = self.problems[0].describe(self.source)
        if self.total == 1:
            return first
        noun = "event" if self.total == 1 else "events"
        return f"{self.total} invalid {noun}; first: {first}"


class UnknownSLI(InvalidInput):
    """Events name SLIs the store does not know; nothing was stored."""

    def __init__(
        self,
        unknown: Mapping[str, EventProblem | None],
        *,
        known: Iterable[str] = (),
        source: str | None = None,
    ) -> None:
        self.unknown = sorted(unknown)
        known_names = list(known)
        parts = []
        for name in self.unknown:
            text = repr(name)
            close = difflib.get_close_matches(name, known_names, n=1, cutoff=0.6)
            if close:
                text += f" (did you mean {close[0]!r}?)"
            first = unknown[name]
            if first is not None:
                text += f" first at {first.location(source)}"
            parts.append(text)
        noun = "SLI" if len(parts) == 1 else "SLIs"
        detail = (
            f"unknown {noun}: {', '.join(parts)}; an SLI is registered when an SLO that uses it "
            "is applied"
        )
        super().__init__(detail, extra={"unknown": self.unknown})


class UnreadableEventFile(InvalidInput):
    """An event data file is missing or cannot be read."""


class BatchTooLarge(PayloadTooLarge):
    """An API batch holds more events than ``max_event_batch``."""
