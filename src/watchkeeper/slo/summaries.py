"""Light summaries of every SLO's stored state, for lists of many SLOs.

The dashboard's SLO list and overview and the public status page sort, filter and count every
SLO but show a page of them. The full status document of an SLO (``SLOStatusRead``: each
window's figures, every alert with its burn rates) costs a parse of the stored spec, a
Pydantic validation and several objects per SLO; a summary reads only the columns a list
needs, in three column-only queries, and derives the spec's fields once per stored version
(cached under the spec's stored text, so an edited spec is read afresh).

The figures are those of :func:`watchkeeper.slo.service.stored_statuses`: the same stored
columns and the same array functions, so a summary's budget, SLI and burn rates are the very
floats the full document shows.
"""

from __future__ import annotations

import json
import math
import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy.orm import Session

from watchkeeper.core.burn_rate import burn_rate
from watchkeeper.core.duration import format_duration
from watchkeeper.core.slo import SourceKind
from watchkeeper.core.windows import alert_windows
from watchkeeper.slo import summary_repository
from watchkeeper.slo.exceptions import EvaluationFailed
from watchkeeper.slo.figures import window_figures
from watchkeeper.slo.models import SLORecord
from watchkeeper.slo.parsed import parsed_slo
from watchkeeper.slo.schemas import describe_window

# Bounded like the parsed-SLO cache: every SLO of a large installation, not without limit.
MAX_IDENTITIES = 20_000


@dataclass(frozen=True)
class Identity:
    """What a list shows of an SLO's stored spec (as written when it no longer parses)."""

    key: str
    service: str
    name: str
    objective: float | None
    window: str
    tier: str | None
    owner: str | None
    labels: Mapping[str, str]
    description: str
    catalogued: str | None  # the external system of a catalogued-only SLO
    problem: str | None  # why the stored spec no longer parses
    alert_windows: tuple[timedelta, ...]  # every long and short window its alerts read


@dataclass(frozen=True)
class FiringAlert:
    """A burn-rate alert of an SLO that fires: its severity and window pair."""

    severity: str
    long: str
    short: str


@dataclass(frozen=True)
class Summary:
    """One SLO's identity and latest stored figures, without the full status document."""

    slo_id: int
    identity: Identity
    evaluated_at: datetime | None  # None: never evaluated
    error: str | None  # why it cannot be evaluated (stored, or its spec no longer parses)
    sli: float | None
    budget_remaining: float | None
    burn: float | None  # over the window ``summaries`` was asked for
    firing: tuple[FiringAlert, ...] = ()
    counts: Mapping[str, Sequence[float]] | None = field(default=None, repr=False)
    objective: float | None = None  # the objective the figures were stored with
    stored_burn_rates: Mapping[str, float | None] = field(default_factory=dict, repr=False)

    def burn_rates(self) -> dict[str, float | None]:
        """Every stored window's burn rate (as ``SLOStatusRead.burn_rates`` gives them)."""
        if self.evaluated_at is None or self.error is not None:
            return {}
        if self.counts is None:  # rows stored before counts were kept
            return dict(self.stored_burn_rates)
        objective = self.objective if self.objective is not None else self.identity.objective
        return window_figures(self.counts, objective if objective is not None else math.nan)[0]


def _text(spec: Mapping[str, Any], name: str) -> str | None:
    value = spec.get(name)
    return value if isinstance(value, str) else None


def _as_written(record: SLORecord, problem: str) -> Identity:
    spec: Mapping[str, Any] = record.spec if isinstance(record.spec, dict) else {}
    objective = spec.get("objective")
    labels = spec.get("labels")
    return Identity(
        key=record.key,
        service=record.service,
        name=record.name,
        objective=(
            float(objective)
            if isinstance(objective, int | float) and not isinstance(objective, bool)
            else None
        ),
        window=str(spec.get("window", "")),
        tier=_text(spec, "tier"),
        owner=_text(spec, "owner"),
        labels={str(k): str(v) for k, v in labels.items()} if isinstance(labels, dict) else {},
        description=_text(spec, "description") or "",
        catalogued=None,
        problem=problem,
        alert_windows=(),
    )


def identity_of(record: SLORecord) -> Identity:
    """The list fields of an SLO record; a stored spec that no longer parses is read as
    written, with ``problem`` saying why."""
    try:
        slo = parsed_slo(record)
    except EvaluationFailed as exc:
        return _as_written(record, exc.problem)
    external = slo.sli.external
    lengths = {w for window in alert_windows(slo) for w in (window.long, window.short)}
    return Identity(
        key=slo.key,
        service=slo.service,
        name=slo.name,
        objective=slo.objective,
        window=describe_window(slo.window),
        tier=slo.tier,
        owner=slo.owner,
        labels=dict(slo.labels),
        description=slo.description,
        catalogued=(
            external.source_type
            if slo.sli.source is SourceKind.EXTERNAL and external is not None
            else None
        ),
        problem=None,
        alert_windows=tuple(sorted(lengths)),
    )


class IdentityCache:
    """A bounded, thread-safe LRU map from (SLO id, stored spec text) to its Identity."""

    def __init__(self, max_entries: int = MAX_IDENTITIES) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[tuple[int, str, str, str, str], Identity] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def get(
        self,
        slo_id: int,
        key: str,
        service: str,
        name: str,
        updated_at: datetime,
        spec_text: str,
    ) -> Identity:
        """The identity of the SLO stored with this spec text, parsed once per version."""
        cache_key = (slo_id, key, service, name, spec_text)
        with self._lock:
            found = self._entries.get(cache_key)
            if found is not None:
                self._entries.move_to_end(cache_key)
                return found
        spec = json.loads(spec_text)
        # A detached copy of the stored record: its core SLO comes from the parsed-SLO cache
        # (keyed by id and updated_at, checked against the spec), parsed there at most once.
        record = SLORecord(
            id=slo_id, key=key, service=service, name=name, updated_at=updated_at, spec=spec
        )
        identity = identity_of(record)
        with self._lock:
            self._entries[cache_key] = identity
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
        return identity

    def clear(self) -> None:
        """Forget every entry."""
        with self._lock:
            self._entries.clear()


IDENTITIES = IdentityCache()


def _firing(session: Session) -> dict[int, list[FiringAlert]]:
    found: dict[int, list[FiringAlert]] = {}
    for slo_id, severity, long_seconds, short_seconds in summary_repository.firing(session):
        found.setdefault(slo_id, []).append(
            FiringAlert(
                severity=severity,
                long=format_duration(timedelta(seconds=long_seconds)),
                short=format_duration(timedelta(seconds=short_seconds)),
            )
        )
    return found


def _burns(
    rows: Sequence[tuple[Mapping[str, Sequence[float]], float]], window: str
) -> list[float | None]:
    """The burn rate over ``window`` of each (counts, objective), in one array operation:
    the elementwise arithmetic of ``window_figures``, so the same floats."""
    good = np.array([counts[window][0] for counts, _ in rows], dtype=np.float64)
    total = np.array([counts[window][1] for counts, _ in rows], dtype=np.float64)
    objective = np.array([objective for _, objective in rows], dtype=np.float64)
    burns = burn_rate(total - good, total, objective)
    return [None if math.isnan(value) else float(value) for value in burns.tolist()]


def summaries(session: Session, *, burn_window: str) -> list[Summary]:
    """Every SLO's summary, by key (in Python's order, whatever the database's collation);
    ``burn`` is each one's burn rate over ``burn_window``."""
    records = summary_repository.identities(session)
    statuses = {row.slo_id: row for row in summary_repository.statuses(session)}
    firing = _firing(session)
    identities = {
        slo_id: IDENTITIES.get(slo_id, key, service, name, updated_at, spec_text)
        for slo_id, key, service, name, updated_at, spec_text in records
    }
    # Burn rates over the asked window, one array operation for every row that counted it
    # (with the objective it was stored with, else the spec's, as the full document does).
    counted: list[tuple[int, Mapping[str, Sequence[float]], float]] = []
    for slo_id, stored in statuses.items():
        identity = identities.get(slo_id)
        if identity is None or stored.error is not None or identity.problem is not None:
            continue
        counts = stored.window_counts
        objective = stored.objective if stored.objective is not None else identity.objective
        if counts is not None and objective is not None and burn_window in counts:
            counted.append((slo_id, counts, objective))
    burns = dict(
        zip(
            [slo_id for slo_id, _, _ in counted],
            _burns([(counts, objective) for _, counts, objective in counted], burn_window),
            strict=True,
        )
    )
    found = []
    for slo_id, *_rest in sorted(records, key=lambda record: record.key):
        identity = identities[slo_id]
        status = statuses.get(slo_id)
        if status is None:
            found.append(Summary(slo_id, identity, None, None, None, None, None))
            continue
        error = status.error if status.error is not None else identity.problem
        if error is not None:
            found.append(Summary(slo_id, identity, status.evaluated_at, error, None, None, None))
            continue
        legacy = status.burn_rates or {}
        found.append(
            Summary(
                slo_id=slo_id,
                identity=identity,
                evaluated_at=status.evaluated_at,
                error=None,
                sli=status.sli,
                budget_remaining=status.budget_remaining,
                burn=(
                    burns.get(slo_id)
                    if status.window_counts is not None
                    else legacy.get(burn_window)
                ),
                firing=tuple(firing.get(slo_id, ())),
                counts=status.window_counts,
                objective=status.objective,
                stored_burn_rates=legacy,
            )
        )
    return found
