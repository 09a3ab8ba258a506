""" "Did you mean ...?": the closest known name to a mistyped one, for every error message."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

# How alike two names must be (difflib's ratio) before one is offered for the other.
CUTOFF = 0.6
_SHOWN_CHARS = 40
# Integers past this many bits print only past Python's int-to-text digit limit.
_PRINTABLE_INT_BITS = 14_000


def closest(word: str, choices: Iterable[str]) -> str | None:
    """The choice most like ``word`` (ignoring case), or None when none is close."""
    by_lower = {choice.lower(): choice for choice in choices}
    matches = difflib.get_close_matches(word.lower(), list(by_lower), n=1, cutoff=CUTOFF)
    return by_lower[matches[0]] if matches else None


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """``"; did you mean 'x'?"`` for the closest choice, or an empty string."""
    match = closest(word, choices)
    return f"; did you mean {match!r}?" if match is not None else ""


def shown(raw: object) -> str:
    """``raw`` as a message shows it: its repr, shortened when long (a 400-digit number)."""
    if isinstance(raw, bool):
        return "true" if raw else "false"  # as JSON writes it
    if isinstance(raw, int) and not isinstance(raw, bool) and raw.bit_length() > 64:
        if raw.bit_length() >= _PRINTABLE_INT_BITS:
            return f"{'-' if raw < 0 else ''}an integer of over 4000 digits"
        sign, digits = ("-", str(-raw)) if raw < 0 else ("", str(raw))
        if len(digits) > 24:
            return f"{sign}{digits[:12]}...{digits[-4:]} ({len(digits)} digits)"
        return sign + digits
    if isinstance(raw, str) and len(raw) > _SHOWN_CHARS:
        text = raw.strip()
        sign, digits = (text[0], text[1:]) if text[:1] in ("+", "-") else ("", text)
        if digits.isdecimal():
            return f"'{sign}{digits[:12]}...{digits[-4:]}' ({len(digits)} digits)"
        return f"{raw[:24]!r}... ({len(raw)} characters)"
    text = repr(raw)
    if len(text) > _SHOWN_CHARS + 20:
        return f"{text[:_SHOWN_CHARS]}... ({len(text)} characters)"
    return text


def plural(count: int, noun: str, nouns: str | None = None) -> str:
    """``1 SLO``, ``2 SLOs``, ``1 policy``, ``3 policies``: a count with its noun."""
    if nouns is None:
        consonant_y = noun.endswith("y") and noun[-2:-1] not in ("a", "e", "i", "o", "u")
        nouns = f"{noun[:-1]}ies" if consonant_y else f"{noun}s"
    return f"{count:,} {noun if count == 1 else nouns}"
