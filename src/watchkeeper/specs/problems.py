"""Spec problems: what is wrong and where, and the error that carries all of them at once."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from watchkeeper.errors import InvalidInput


@dataclass(frozen=True)
class Problem:
    """One mistake in a spec.

    ``document`` is the 1-based index of the YAML document in its file (0 when the problem is
    about the file itself, e.g. it does not exist); ``line`` is 1-based, None when unknown
    (documents built from JSON or dicts); ``field`` is a dotted path such as
    ``slos[0].objective`` (empty for whole-document problems).
    """

    file: str
    document: int
    line: int | None
    field: str
    message: str

    def __str__(self) -> str:
        parts = [f"{self.file}:{self.line}" if self.line else self.file]
        if self.document:
            parts.append(f"document {self.document}")
        if self.field:
            parts.append(self.field)
        parts.append(self.message)
        return ": ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        """The problem as JSON-ready fields."""
        return asdict(self)


class SpecError(InvalidInput):
    """One or more specs are invalid; ``problems`` lists every mistake found."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        super().__init__(
            "\n".join(str(problem) for problem in self.problems),
            extra={"problems": [problem.to_dict() for problem in self.problems]},
        )

    def __str__(self) -> str:
        return self.detail


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """``"; did you mean 'x'?"`` for the closest choice, or an empty string."""
    by_lower = {choice.lower(): choice for choice in choices}
    matches = difflib.get_close_matches(word.lower(), list(by_lower), n=1, cutoff=0.6)
    return f"; did you mean {by_lower[matches[0]]!r}?" if matches else ""


def sort_problems(problems: Iterable[Problem], file_order: Sequence[str]) -> list[Problem]:
    """Problems ordered by file (in load order), document and line."""
    rank = {name: index for index, name in enumerate(file_order)}
    return sorted(
        problems,
        key=lambda p: (rank.get(p.file, len(rank)), p.document, p.line or 0),
    )
