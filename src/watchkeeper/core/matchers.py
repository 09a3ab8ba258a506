"""Label matchers as Alertmanager writes them: ``name=value``, ``name!=value``,
``name=~regex``, ``name!~regex``.

Regexes are fully anchored (Python's ``re.fullmatch``), as in Alertmanager; a label that is
absent matches as the empty string, so ``team!=""`` means "has a team label".
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# The name holds none of = ! ~, so the first of them starts the operator.
_SHAPE = re.compile(r"\s*([^=!~\s]*)\s*(=~|!~|!=|=)(.*)", re.DOTALL)
MAX_REGEX_CHARS = 1000


class Operator(StrEnum):
    """How a matcher compares a label's value."""

    EQUAL = "="
    NOT_EQUAL = "!="
    REGEX = "=~"
    NOT_REGEX = "!~"


@dataclass(frozen=True)
class Matcher:
    """One label condition."""

    name: str
    operator: Operator
    value: str
    pattern: re.Pattern[str] | None = field(default=None, compare=False, repr=False)

    def matches(self, labels: Mapping[str, str]) -> bool:
        """Whether ``labels`` satisfy this matcher (an absent label is the empty string)."""
        actual = str(labels.get(self.name, ""))
        if self.operator is Operator.EQUAL:
            return actual == self.value
        if self.operator is Operator.NOT_EQUAL:
            return actual != self.value
        assert self.pattern is not None
        found = self.pattern.fullmatch(actual) is not None
        return found if self.operator is Operator.REGEX else not found

    def __str__(self) -> str:
        return f"{self.name}{self.operator.value}{self.value}"


def parse_matcher(text: str) -> Matcher:
    """Parse ``name<op>value``; ValueError naming the problem otherwise."""
    found = _SHAPE.fullmatch(text)
    if found is None:
        raise ValueError(f"matcher {text!r} has no operator; use name=value, !=, =~ or !~")
    name, operator, raw_value = found.groups()
    value = _unquote(raw_value.strip())
    if not _NAME.fullmatch(name):
        raise ValueError(
            f"matcher {text!r}: label name {name!r} is not valid (letters, digits and _, "
            "not starting with a digit)"
        )
    op = Operator(operator)
    pattern = None
    if op in (Operator.REGEX, Operator.NOT_REGEX):
        if len(value) > MAX_REGEX_CHARS:
            raise ValueError(f"matcher {text!r}: regex longer than {MAX_REGEX_CHARS} characters")
        try:
            pattern = re.compile(value)
        except re.error as exc:
            raise ValueError(f"matcher {text!r}: invalid regex {value!r}: {exc}") from None
    return Matcher(name, op, value, pattern)


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    return value


def parse_matchers(texts: Iterable[str]) -> tuple[Matcher, ...]:
    """Parse every matcher; ValueError on the first bad one."""
    return tuple(parse_matcher(text) for text in texts)


def matches_all(matchers: Iterable[Matcher], labels: Mapping[str, str]) -> bool:
    """Whether every matcher matches ``labels`` (no matchers: True)."""
    return all(matcher.matches(labels) for matcher in matchers)
