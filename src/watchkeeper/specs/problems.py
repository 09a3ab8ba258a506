"""Spec problems: what is wrong and where, and the error that carries all of them at once."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from watchkeeper.errors import InvalidInput
from watchkeeper.messages import did_you_mean


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


def sort_problems(problems: Iterable[Problem], file_order: Sequence[str]) -> list[Problem]:
    """Problems ordered by file (in load order), document and line."""
    rank = {name: index for index, name in enumerate(file_order)}
    return sorted(
        problems,
        key=lambda p: (rank.get(p.file, len(rank)), p.document, p.line or 0),
    )


__all__ = ["Problem", "SpecError", "did_you_mean", "sort_problems"]
