"""The SLO model shared by every part: SLIs, objectives, windows, alerting, maintenance."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from types import MappingProxyType

import numpy as np
from numpy.typing import NDArray

# The longest SLI name: the event-store key that event rows carry.
MAX_SLI_NAME = 200


class SLIKind(StrEnum):
    """How an SLI turns observations into good/total counts."""

    RATIO = "ratio"  # counts of good (or bad) and total events
    THRESHOLD = "threshold"  # raw observations; good when ``value <op> threshold``
    TIMESLICES = "timeslices"  # a slice is good when its own ratio meets slice_target
    RATIO_TIMESLICES = "ratio_timeslices"  # the average of each slice's own ratio
    RAW = "raw"  # a precomputed error ratio (Prometheus sources only)


class Operator(StrEnum):
    """Comparison for threshold SLIs, named as in OpenSLO."""

    LT = "lt"
    LTE = "lte"
    GT = "gt"
    GTE = "gte"

    def is_good(self, value: float, threshold: float) -> bool:
        """Whether an observation counts as good against ``threshold``."""
        if self is Operator.LT:
            return value < threshold
        if self is Operator.LTE:
            return value <= threshold
        if self is Operator.GT:
            return value > threshold
        return value >= threshold

    def good_mask(self, values: NDArray[np.float64], threshold: float) -> NDArray[np.bool_]:
        """Which of many observations count as good against ``threshold`` (one array op)."""
        return _UFUNCS[self](values, threshold)


_UFUNCS: dict[Operator, Callable[[NDArray[np.float64], float], NDArray[np.bool_]]] = {
    Operator.LT: np.less,
    Operator.LTE: np.less_equal,
    Operator.GT: np.greater,
    Operator.GTE: np.greater_equal,
}


class SourceKind(StrEnum):
    """Where an SLI's numbers come from."""

    WATCHKEEPER = "watchkeeper"  # the built-in SLI event store
    PROMETHEUS = "prometheus"  # PromQL against a Prometheus-compatible API
    # Another monitoring system (Datadog, CloudWatch, ...): catalogued and exported, never
    # evaluated by Watchkeeper.
    EXTERNAL = "external"


class Severity(StrEnum):
    """Alert severity of a burn-rate alert: a page wakes someone, a ticket waits."""

    PAGE = "page"
    TICKET = "ticket"


class CalendarUnit(StrEnum):
    """Calendar-aligned SLO windows."""

    WEEK = "week"
    MONTH = "month"
    QUARTER = "quarter"


@dataclass(frozen=True)
class HistogramSLI:
    """A latency SLI written as a Prometheus histogram and a threshold (one of its buckets).

    ``metric`` is the histogram's base name (``http_request_duration_seconds``); ``selector``
    the label matchers in braces (``{job="api"}``) or empty. The SLI's good and total queries
    are derived from it; it is kept to write the spec back as it was written.
    """

    metric: str
    threshold: float
    selector: str = ""


@dataclass(frozen=True)
class PromQueries:
    """PromQL for an SLI evaluated by Prometheus. ``{{.window}}`` marks the range (Sloth).

    ``source`` names the configured Prometheus source to query (None: the default one).
    """

    good: str | None = None
    bad: str | None = None
    total: str | None = None
    raw_error_ratio: str | None = None
    source: str | None = None
    histogram: HistogramSLI | None = None


@dataclass(frozen=True)
class ExternalMetric:
    """Where an SLI of a system Watchkeeper does not read gets its numbers, kept as written.

    ``source_type`` names the system (OpenSLO ``metricSource.type``: ``Datadog``,
    ``CloudWatch``, ...; several are joined by ``", "``). ``definition`` is the metric
    definition (an OpenSLO SLI ``spec``) as compact JSON in the order it was written, so the
    SLI stays immutable and hashable and is written back as it was read.
    """

    source_type: str
    definition: str

    @classmethod
    def of(cls, source_type: str, definition: Mapping[str, object]) -> ExternalMetric:
        """An external metric from a JSON-ready definition mapping."""
        return cls(source_type, json.dumps(definition, separators=(",", ":")))

    def definition_dict(self) -> dict[str, object]:
        """The definition as a fresh mapping."""
        value = json.loads(self.definition)
        assert isinstance(value, dict)
        return value


@dataclass(frozen=True)
class SLI:
    """A service level indicator.

    ``name`` keys the built-in event store: event rows carry it in their ``sli`` field.
    For TIMESLICES and RATIO_TIMESLICES, ``slice_kind`` says whether the per-slice ratio
    comes from good/total counts (RATIO) or from observations against ``threshold``
    (THRESHOLD); only TIMESLICES has a ``slice_target``. An EXTERNAL source carries its
    ``external`` metric instead of queries.
    """

    name: str
    kind: SLIKind = SLIKind.RATIO
    source: SourceKind = SourceKind.WATCHKEEPER
    threshold: float | None = None
    operator: Operator = Operator.LTE
    slice_duration: timedelta | None = None
    slice_target: float | None = None
    slice_kind: SLIKind = SLIKind.RATIO
    queries: PromQueries | None = None
    external: ExternalMetric | None = None

    @property
    def is_sliced(self) -> bool:
        """True for SLIs computed per time slice (Timeslices and RatioTimeslices)."""
        return self.kind in (SLIKind.TIMESLICES, SLIKind.RATIO_TIMESLICES)

    @property
    def evaluated_by(self) -> str | None:
        """What computes this SLI's figures: ``"watchkeeper"`` (its event store),
        ``"prometheus"`` (generated rules), or None for a catalogued external SLI."""
        if self.source is SourceKind.EXTERNAL:
            return None
        return self.source.value

    @property
    def event_meaning(self) -> tuple[str, float | None, str | None] | None:
        """How the event store reads this SLI's rows: ``("counts", None, None)`` or
        ``("observations", threshold, operator)``; None when it does not read the store.

        One SLI name may serve several SLOs only if they agree on this.
        """
        if self.source is not SourceKind.WATCHKEEPER or self.kind is SLIKind.RAW:
            return None
        if self.uses_observations:
            return ("observations", self.threshold, self.operator.value)
        return ("counts", None, None)

    @property
    def store_key(self) -> str:
        """The event store's record of this SLI: the name for counts; for observations the
        name with the comparison (``latency[lte 0.3]``), so SLOs that judge one stream of
        values against different thresholds each get their own counts."""
        meaning = self.event_meaning
        if meaning is None or meaning[0] == "counts":
            return self.name
        return f"{self.name}[{meaning[2]} {meaning[1]!r}]"

    @property
    def uses_observations(self) -> bool:
        """True when events carry raw ``value`` observations rather than good/total counts."""
        return self.kind is SLIKind.THRESHOLD or (
            self.is_sliced and self.slice_kind is SLIKind.THRESHOLD
        )


@dataclass(frozen=True)
class RollingWindow:
    """A rolling SLO window: the last ``duration`` up to the evaluation time."""

    duration: timedelta


@dataclass(frozen=True)
class CalendarWindow:
    """A calendar-aligned window: the current week, month or quarter in ``timezone``."""

    unit: CalendarUnit
    timezone: str = "UTC"
    count: int = 1  # OpenSLO allows e.g. 2 weeks; the window then spans ``count`` units


Window = RollingWindow | CalendarWindow


@dataclass(frozen=True)
class AlertWindow:
    """A multiwindow burn-rate alert (SRE Workbook ch. 5): fires when both windows burn > factor."""

    severity: Severity
    long: timedelta
    short: timedelta
    factor: float


@dataclass(frozen=True)
class AlertTarget:
    """Where and how one severity of burn-rate alert is raised."""

    enabled: bool = True
    labels: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    annotations: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    runbook_url: str | None = None
    name: str | None = None


@dataclass(frozen=True)
class Alerting:
    """Burn-rate alerting for one SLO. ``windows`` None means the defaults for the period."""

    page: AlertTarget = field(default_factory=AlertTarget)
    ticket: AlertTarget = field(default_factory=AlertTarget)
    windows: tuple[AlertWindow, ...] | None = None
    min_events: int = 0  # minimum events in the long window before an alert may fire
    name: str | None = None


@dataclass(frozen=True)
class MaintenanceWindow:
    """A period whose events are excluded from the SLI (a budget correction)."""

    start: datetime
    end: datetime
    reason: str = ""


@dataclass(frozen=True)
class SLO:
    """A service level objective, the unit Watchkeeper evaluates."""

    service: str
    name: str
    sli: SLI
    objective: float  # 0 < objective < 1
    window: Window
    alerting: Alerting = field(default_factory=Alerting)
    description: str = ""
    owner: str | None = None
    tier: str | None = None
    labels: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    maintenance: tuple[MaintenanceWindow, ...] = ()
    policy: str | None = None  # name of an error-budget policy

    @property
    def key(self) -> str:
        """Unique identity: ``service/name``."""
        return f"{self.service}/{self.name}"

    @property
    def error_budget(self) -> float:
        """The allowed fraction of bad events: ``1 - objective``."""
        return 1.0 - self.objective
