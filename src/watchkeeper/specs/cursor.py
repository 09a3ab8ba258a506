"""A position inside a spec document that reads typed values and reports problems there.

Every reader records a problem instead of raising, so one pass over a document finds all of
its mistakes. Readers return None for a missing or invalid value; callers build objects only
when :meth:`Cursor.clean_since` says nothing went wrong in the part they read.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Collection, Mapping
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Any, TypeVar

from watchkeeper.core.duration import parse_duration
from watchkeeper.messages import shown
from watchkeeper.specs.problems import Problem, did_you_mean
from watchkeeper.specs.yaml_nodes import MAX_INTEGER, OutOfRangeNumber, YamlList, YamlMap

T = TypeVar("T")
E = TypeVar("E", bound=StrEnum)

_PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")


class DocumentContext:
    """Where problems of one document go: its file, its index and the shared problem list."""

    def __init__(self, file: str, document: int, problems: list[Problem]) -> None:
        self.file = file
        self.document = document
        self.problems = problems

    def report(self, field: str, line: int | None, message: str) -> None:
        """Record a problem in this document."""
        self.problems.append(Problem(self.file, self.document, line, field, message))


def join_path(base: str, key: object) -> str:
    """``base.key``, or ``base["key"]`` for keys that are not plain words."""
    text = str(key)
    if _PLAIN_KEY.fullmatch(text):
        return f"{base}.{text}" if base else text
    return f"{base}[{json.dumps(text)}]"


def describe(value: object) -> str:
    """A reader's name for the type of ``value``, for messages."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float | OutOfRangeNumber):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, datetime | date):
        return "a date"
    return type(value).__name__


def _own_line(value: object) -> int | None:
    if isinstance(value, YamlMap | YamlList):
        return value.line
    return None


class Cursor:
    """A value at ``path`` (line ``line``) of a document."""

    def __init__(
        self, context: DocumentContext, value: Any, path: str = "", line: int | None = None
    ) -> None:
        self.context = context
        self.value = value
        self.path = path
        self.line = line if line is not None else _own_line(value)

    # -- reporting -------------------------------------------------------------------------

    def error(self, message: str) -> None:
        """Record a problem about this value."""
        self.context.report(self.path, self.line, message)

    def error_at(self, key: str, message: str) -> None:
        """Record a problem about ``key`` of this mapping (present or not)."""
        line = self.line
        if isinstance(self.value, YamlMap):
            line = self.value.key_lines.get(key, line)
        self.context.report(join_path(self.path, key), line, message)

    def mark(self) -> int:
        """A bookmark in the problem list, for :meth:`clean_since`."""
        return len(self.context.problems)

    def clean_since(self, mark: int) -> bool:
        """True when no problem was recorded since ``mark``."""
        return len(self.context.problems) == mark

    # -- structure -------------------------------------------------------------------------

    def has(self, key: str) -> bool:
        """Whether this mapping gives ``key`` a non-null value."""
        return isinstance(self.value, Mapping) and self.value.get(key) is not None

    def get(self, key: str) -> Cursor | None:
        """The value of ``key``, or None when it is absent or null."""
        if not isinstance(self.value, Mapping) or self.value.get(key) is None:
            return None
        line = None
        if isinstance(self.value, YamlMap):
            line = self.value.value_lines.get(key)
        return Cursor(
            self.context,
            self.value[key],
            join_path(self.path, key),
            line if line is not None else _own_line(self.value[key]) or self.line,
        )

    def require(self, key: str, hint: str = "") -> Cursor | None:
        """The value of ``key``; a problem when it is missing."""
        child = self.get(key)
        if child is None and isinstance(self.value, Mapping):
            self.error_at(key, f"is required{hint}")
        return child

    def read(
        self, key: str, convert: Callable[[Cursor], T | None], *, required: bool = False
    ) -> T | None:
        """Read ``key`` with a converter such as :meth:`text` or :meth:`number`."""
        child = self.require(key) if required else self.get(key)
        return None if child is None else convert(child)

    def fields(self, allowed: Collection[str]) -> bool:
        """Check this is a mapping with only ``allowed`` keys; report each other key."""
        if not isinstance(self.value, Mapping):
            self.error(f"must be a mapping, not {describe(self.value)}")
            return False
        if isinstance(self.value, YamlMap):
            for key, again, first in self.value.duplicate_keys:
                self.context.report(
                    join_path(self.path, key), again, f"is given twice (first on line {first})"
                )
        for key in self.value:
            if not isinstance(key, str):
                key_line = None
                if isinstance(self.value, YamlMap):
                    key_line = self.value.key_lines.get(key)
                self.context.report(
                    self.path, key_line or self.line, f"field names must be text, not {key!r}"
                )
            elif key not in allowed:
                self.error_at(key, f"unknown field{did_you_mean(key, allowed)}")
        return True

    def items(self) -> list[Cursor] | None:
        """The items of this list; a problem when it is not a list."""
        if not isinstance(self.value, list):
            self.error(f"must be a list, not {describe(self.value)}")
            return None
        lines = self.value.item_lines if isinstance(self.value, YamlList) else []
        return [
            Cursor(
                self.context,
                item,
                f"{self.path}[{index}]",
                lines[index] if index < len(lines) else _own_line(item) or self.line,
            )
            for index, item in enumerate(self.value)
        ]

    def entries(self) -> list[tuple[str, Cursor]] | None:
        """The text-keyed entries of this mapping."""
        if not isinstance(self.value, Mapping):
            self.error(f"must be a mapping, not {describe(self.value)}")
            return None
        result: list[tuple[str, Cursor]] = []
        for key in self.value:
            if not isinstance(key, str):
                self.error(f"keys must be text, not {key!r}")
                continue
            child = self.get(key)
            result.append((key, child or Cursor(self.context, None, join_path(self.path, key))))
        return result

    # -- scalar converters -----------------------------------------------------------------

    def text(self) -> str | None:
        """A string."""
        if not isinstance(self.value, str):
            self.error(f"must be text, not {describe(self.value)}")
            return None
        return self.value

    def name(self, pattern: re.Pattern[str], rule: str) -> str | None:
        """A string matching ``pattern`` (``rule`` explains it in messages)."""
        value = self.text()
        if value is not None and not pattern.fullmatch(value):
            self.error(f"{shown(value)} is not a valid name ({rule})")
            return None
        return value

    def number(self) -> float | None:
        """A finite number (int or float, not true/false)."""
        if isinstance(self.value, OutOfRangeNumber):
            self.out_of_range()
            return None
        if isinstance(self.value, bool) or not isinstance(self.value, int | float):
            self.error(f"must be a number, not {describe(self.value)}")
            return None
        try:
            number = float(self.value)
        except OverflowError:  # an int beyond the float range, from a mapping built in code
            self.out_of_range()
            return None
        if not math.isfinite(number):
            self.error("must be a finite number")
            return None
        return number

    def integer(self) -> int | None:
        """A whole number that fits in 64 bits."""
        if isinstance(self.value, OutOfRangeNumber):
            self.out_of_range()
            return None
        if isinstance(self.value, bool) or not isinstance(self.value, int):
            self.error(f"must be a whole number, not {describe(self.value)}")
            return None
        if abs(self.value) > MAX_INTEGER:
            self.out_of_range()
            return None
        return self.value

    def out_of_range(self) -> None:
        """Report a number too large (or too far below zero) for any field."""
        value = self.value
        negative = value.negative if isinstance(value, OutOfRangeNumber) else value < 0
        self.error("is out of range (too far below zero)" if negative else "is too large")

    def boolean(self) -> bool | None:
        """true or false."""
        if not isinstance(self.value, bool):
            self.error(f"must be true or false, not {describe(self.value)}")
            return None
        return self.value

    def duration(self) -> timedelta | None:
        """A Prometheus duration such as ``5m`` or ``30d``."""
        if not isinstance(self.value, str):
            self.error(f"must be a duration such as 5m, 1h or 30d, not {describe(self.value)}")
            return None
        try:
            return parse_duration(self.value)
        except ValueError as exc:
            self.error(str(exc))
            return None

    def choice(self, enum_type: type[E]) -> E | None:
        """One of an enum's values."""
        allowed = [member.value for member in enum_type]
        if isinstance(self.value, str) and self.value in allowed:
            return enum_type(self.value)
        got = repr(self.value) if isinstance(self.value, str) else describe(self.value)
        hint = did_you_mean(self.value, allowed) if isinstance(self.value, str) else ""
        self.error(f"must be one of {', '.join(allowed)}, not {got}{hint}")
        return None

    def string_map(self) -> dict[str, str] | None:
        """A mapping of text to text; numbers and booleans are turned into text."""
        entries = self.entries()
        if entries is None:
            return None
        result: dict[str, str] = {}
        for key, child in entries:
            value = child.scalar_text()
            if value is not None:
                result[key] = value
        return result

    def scalar_text(self) -> str | None:
        """Text, with numbers and booleans turned into text (label values)."""
        value = self.value
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, OutOfRangeNumber):
            return value.text
        if isinstance(value, int) and abs(value) > MAX_INTEGER:
            self.out_of_range()  # str() of a huge int may itself fail
            return None
        if isinstance(value, str | int | float):
            return str(value)
        self.error(f"must be text, not {describe(value)}")
        return None

    def string_list(self) -> list[str] | None:
        """A list of text."""
        items = self.items()
        if items is None:
            return None
        values = [item.text() for item in items]
        return [value for value in values if value is not None]

    def timestamp(self) -> datetime | None:
        """An RFC 3339 date-time with a UTC offset, returned in UTC."""
        value = self.value
        if isinstance(value, str):
            try:
                value = datetime.fromisoformat(value)
            except ValueError:
                self.error(f"{self.value!r} is not a date-time such as 2026-11-01T02:00:00Z")
                return None
        if not isinstance(value, datetime):
            self.error(f"must be a date-time such as 2026-11-01T02:00:00Z, not {describe(value)}")
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            self.error("needs a UTC offset, e.g. 2026-11-01T02:00:00Z or +01:00")
            return None
        return value.astimezone(UTC)
