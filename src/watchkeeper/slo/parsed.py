"""Core SLOs parsed from stored records, cached per stored version.

The worker, the gate, the listings and the status page all need the core SLO of a record;
re-running the spec parser for every record on every tick and request costs more than the
evaluation itself. An entry is keyed by the record's id and ``updated_at`` (``apply`` moves
it whenever the spec changes) and keeps a copy of the spec it was parsed from: a hit also
needs an equal spec, so a record rewritten within the same instant, or a record of another
database with the same id, is parsed afresh rather than served stale.

A stored spec that no longer parses (stored before validation refused it) is cached too, as
its error: every reader reports it with :class:`EvaluationFailed` without parsing again.
"""

from __future__ import annotations

import copy
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from watchkeeper.core.slo import SLO
from watchkeeper.slo.exceptions import EvaluationFailed
from watchkeeper.slo.models import SLORecord
from watchkeeper.specs.native import slo_from_dict
from watchkeeper.specs.problems import SpecError

# Enough for every SLO of a large installation (the evaluation benchmark applies 10,000),
# bounded so a process serving many databases in turn does not grow without limit.
MAX_ENTRIES = 20_000


@dataclass(frozen=True)
class _Entry:
    spec: dict[str, Any]
    slo: SLO | None
    error: str | None


def spec_problem(exc: Exception) -> str:
    """What is wrong with a stored spec, in one line."""
    if isinstance(exc, SpecError):
        return "; ".join(f"{p.field}: {p.message}" if p.field else p.message for p in exc.problems)
    return f"{type(exc).__name__}: {exc}"


class ParsedSLOCache:
    """A bounded, thread-safe LRU map from stored SLO versions to their parsed core SLOs."""

    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[tuple[int, datetime], _Entry] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, record: SLORecord) -> SLO:
        """The record's core SLO, parsed at most once per stored version; EvaluationFailed
        when the stored spec does not parse."""
        entry = self._lookup(record)
        if entry.slo is None:
            raise EvaluationFailed(record.key, f"stored spec is invalid: {entry.error}")
        return entry.slo

    def _lookup(self, record: SLORecord) -> _Entry:
        if record.id is None:  # not flushed yet: no stable identity to cache under
            return _parse(record.spec)
        key = (record.id, record.updated_at)
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and entry.spec == record.spec:
                self._entries.move_to_end(key)
                return entry
        # Parse outside the lock: two threads may both parse a new version, harmlessly.
        entry = _parse(record.spec)
        with self._lock:
            self._entries[key] = entry
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
        return entry

    def clear(self) -> None:
        """Forget every entry."""
        with self._lock:
            self._entries.clear()


def _parse(spec: dict[str, Any]) -> _Entry:
    # The copy keeps the entry's spec intact if the caller later edits the record's dict.
    kept = copy.deepcopy(spec)
    try:
        return _Entry(kept, slo_from_dict(spec), None)
    except Exception as exc:  # any failure to read stored data makes that one SLO failing
        return _Entry(kept, None, spec_problem(exc))


PARSED = ParsedSLOCache()


def parsed_slo(record: SLORecord) -> SLO:
    """The core SLO stored in ``record`` (cached); EvaluationFailed if its spec is invalid."""
    return PARSED.get(record)
