"""Label matchers as Alertmanager writes them: ``name=value``, ``name!=value``,
``name=~regex``, ``name!~regex``.

Regexes are fully anchored (Python's ``re.fullmatch``), as in Alertmanager; a label that is
absent matches as the empty string, so ``team!=""`` means "has a team label".

Alertmanager matches regexes with RE2, in time linear in the value; Python's ``re`` backtracks,
so a regex like ``(a+)+b`` against a long label value could stall every intake. Regexes are
therefore refused when they use what RE2 does not support (backreferences, lookaround) or
could backtrack for long (a quantifier inside a repeated group, a repeated alternation, more
than three open-ended quantifiers), and a regex sees at most the first ``MAX_MATCHED_CHARS``
characters of a label value.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# The name holds none of = ! ~, so the first of them starts the operator.
_SHAPE = re.compile(r"\s*([^=!~\s]*)\s*(=~|!~|!=|=)(.*)", re.DOTALL)
MAX_REGEX_CHARS = 1000
# A regex matches against at most this many characters of a label value (see above).
MAX_MATCHED_CHARS = 512
# Worst-case backtracking allowed: three open-ended quantifiers over a MAX_MATCHED_CHARS value.
_MAX_BACKTRACKING = (MAX_MATCHED_CHARS + 1) ** 3
# The stdlib's own regex parser, which reads a pattern exactly as ``re`` will; ``re`` loads it
# as its ``_parser`` submodule (typeshed has no stub for it, hence the lookup by name).
_REGEX_PARSER: Any = vars(re)["_parser"]


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
        found = self.pattern.fullmatch(actual[:MAX_MATCHED_CHARS]) is not None
        return found if self.operator is Operator.REGEX else not found

    def __str__(self) -> str:
        """The matcher as ``parse_matcher`` reads it back; the value is quoted (with ``\\`` and
        ``\"`` escaped, as Alertmanager writes it) when bare it would not read back the same."""
        value = self.value
        # A bare "~" after "=" would read back as the regex operator "=~".
        tilde = self.operator is Operator.EQUAL and value.startswith("~")
        if value != value.strip() or value.startswith('"') or tilde:
            escaped = value.replace("\\", "\\\\").replace('"', '\\"')
            value = f'"{escaped}"'
        return f"{self.name}{self.operator.value}{value}"


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
        parsed = _REGEX_PARSER.parse(value)
        problem = _unsupported(parsed)
        if problem is None and _backtracking(parsed) > _MAX_BACKTRACKING:
            problem = (
                "it could take too long to match (nested quantifiers, a quantified alternation "
                "or more than three open-ended quantifiers)"
            )
        if problem is not None:
            raise ValueError(f"matcher {text!r}: regex {value!r}: {problem}")
    return Matcher(name, op, value, pattern)


def _unsupported(items: Any) -> str | None:
    """What RE2 would not accept in a parsed regex (None: nothing)."""
    for opcode, argument in items:
        name = str(opcode)
        if name in ("GROUPREF", "GROUPREF_EXISTS"):
            return "backreferences are not supported by RE2"
        if name in ("ASSERT", "ASSERT_NOT"):
            return "lookahead and lookbehind are not supported by RE2"
        problem = None
        if name.endswith("_REPEAT"):
            problem = _unsupported(argument[2])
        elif name == "BRANCH":
            problem = next(filter(None, map(_unsupported, argument[1])), None)
        elif name == "SUBPATTERN":
            problem = _unsupported(argument[3])
        elif name == "ATOMIC_GROUP":
            problem = _unsupported(argument)
        if problem is not None:
            return problem
    return None


def _backtracking(items: Any) -> int:
    """Upper bound of the ways a parsed regex can split a value, capped past the limit.

    A quantifier spanning k counts multiplies by k; a repeated group multiplies by its own
    ways to the power of its repeats, which is what makes ``(a+)+`` exponential.
    """
    total = 1
    for opcode, argument in items:
        name = str(opcode)
        if name.endswith("_REPEAT"):
            least, most, sub = argument
            repeats = min(most, MAX_MATCHED_CHARS)
            factor = max(repeats - least, 0) + 1
            inner = _backtracking(sub)
            for _ in range(repeats if inner > 1 else 0):
                factor *= inner
                if factor > _MAX_BACKTRACKING:
                    break
            total *= factor
        elif name == "BRANCH":
            total *= sum(_backtracking(alternative) for alternative in argument[1])
        elif name == "SUBPATTERN":
            total *= _backtracking(argument[3])
        elif name == "ATOMIC_GROUP":
            total *= _backtracking(argument)
        if total > _MAX_BACKTRACKING:
            return _MAX_BACKTRACKING + 1
    return total


def _unquote(value: str) -> str:
    """A double-quoted value without its quotes and escapes (``\\\\`` and ``\\"``); others as is."""
    if len(value) < 2 or value[0] != '"' or value[-1] != '"':
        return value
    inner, out, index = value[1:-1], [], 0
    while index < len(inner):
        char = inner[index]
        if char == "\\" and index + 1 < len(inner) and inner[index + 1] in '\\"':
            out.append(inner[index + 1])
            index += 2
        else:
            out.append(char)
            index += 1
    return "".join(out)


def parse_matchers(texts: Iterable[str]) -> tuple[Matcher, ...]:
    """Parse every matcher; ValueError on the first bad one."""
    return tuple(parse_matcher(text) for text in texts)


def matches_all(matchers: Iterable[Matcher], labels: Mapping[str, str]) -> bool:
    """Whether every matcher matches ``labels`` (no matchers: True)."""
    return all(matcher.matches(labels) for matcher in matchers)
