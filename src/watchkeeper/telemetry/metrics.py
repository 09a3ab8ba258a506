"""Watchkeeper's own Prometheus metrics and the exposition of SLO figures."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector


@dataclass(frozen=True)
class SLOSample:
    """The figures of one SLO exported to /metrics."""

    service: str
    slo: str
    objective: float
    sli: float | None
    budget_remaining: float | None
    burn_rates: dict[str, float | None]
    window_slis: dict[str, float | None]
    alerts: list[tuple[str, str, str, bool]]  # severity, long, short, firing
    failing: bool = False  # its stored definition cannot be evaluated: no figures


class AppMetrics:
    """Counters and histograms of one app instance, in their own registry."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "watchkeeper_http_requests",
            "HTTP requests handled, by method, route and status code.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "watchkeeper_http_request_duration_seconds",
            "HTTP request latency by route.",
            ["route"],
            registry=self.registry,
        )
        self.events_ingested = Counter(
            "watchkeeper_events_ingested",
            "SLI events accepted by the event store.",
            registry=self.registry,
        )
        self.ingest_rejected = Counter(
            "watchkeeper_ingest_rejected_batches",
            "Event batches rejected as invalid.",
            registry=self.registry,
        )


class SLOCollector(Collector):
    """Exports each SLO's latest stored figures, read through ``source`` at scrape time."""

    def __init__(self, source: Callable[[], Iterable[SLOSample]]) -> None:
        self._source = source

    def collect(self) -> Iterator[Metric]:
        """Gauges of objective, SLI, budget remaining, burn rates and alert states."""
        samples: Iterable[SLOSample] = self._source()
        labels = ["service", "slo"]
        objective = GaugeMetricFamily("watchkeeper_slo_objective", "SLO objective.", labels=labels)
        sli = GaugeMetricFamily("watchkeeper_slo_sli", "SLI over the SLO window.", labels=labels)
        budget = GaugeMetricFamily(
            "watchkeeper_slo_error_budget_remaining",
            "Fraction of the error budget left (may be negative).",
            labels=labels,
        )
        window_sli = GaugeMetricFamily(
            "watchkeeper_slo_window_sli", "SLI per burn-rate window.", labels=[*labels, "window"]
        )
        burn = GaugeMetricFamily(
            "watchkeeper_slo_burn_rate", "Burn rate per window.", labels=[*labels, "window"]
        )
        firing = GaugeMetricFamily(
            "watchkeeper_slo_alert_firing",
            "1 while a multiwindow burn-rate alert fires.",
            labels=[*labels, "severity", "long", "short"],
        )
        failing = GaugeMetricFamily(
            "watchkeeper_slo_evaluation_failing",
            "1 while the SLO cannot be evaluated (its figures are then absent).",
            labels=labels,
        )
        for sample in samples:
            key = [sample.service, sample.slo]
            failing.add_metric(key, 1.0 if sample.failing else 0.0)
            objective.add_metric(key, sample.objective)
            sli.add_metric(key, _value(sample.sli))
            budget.add_metric(key, _value(sample.budget_remaining))
            for window, value in sample.burn_rates.items():
                burn.add_metric([*key, window], _value(value))
            for window, value in sample.window_slis.items():
                window_sli.add_metric([*key, window], _value(value))
            for severity, long, short, is_firing in sample.alerts:
                firing.add_metric([*key, severity, long, short], 1.0 if is_firing else 0.0)
        yield from (objective, sli, budget, window_sli, burn, firing, failing)


@dataclass(frozen=True)
class IncidentSample:
    """Incident figures for /metrics, by (service, severity); service "" when none."""

    window_seconds: float
    open: dict[tuple[str, str], int]
    mtta: dict[tuple[str, str], float]
    mttr: dict[tuple[str, str], float]
    # service -> (groups, auto-resolved unacknowledged, never acknowledged) over the window
    noise: dict[str, tuple[int, int, int]] = field(default_factory=dict)
    # (responder, hours) -> pages over the window; hours is business, off or sleep
    pages: dict[tuple[str, str], int] = field(default_factory=dict)


class IncidentCollector(Collector):
    """Exports open incidents and MTTA/MTTR over a trailing window, read at scrape time."""

    def __init__(self, source: Callable[[], IncidentSample]) -> None:
        self._source = source

    def collect(self) -> Iterator[Metric]:
        """Gauges of open incidents, MTTA and MTTR per service and severity."""
        sample = self._source()
        labels = ["service", "severity"]
        window = GaugeMetricFamily(
            "watchkeeper_incident_metrics_window_seconds",
            "The trailing window MTTA and MTTR are computed over.",
            value=sample.window_seconds,
        )
        open_incidents = GaugeMetricFamily(
            "watchkeeper_incidents_open", "Incidents not yet resolved.", labels=labels
        )
        mtta = GaugeMetricFamily(
            "watchkeeper_incident_mtta_seconds",
            "Mean time from declaration to acknowledgement of incidents started in the window.",
            labels=labels,
        )
        mttr = GaugeMetricFamily(
            "watchkeeper_incident_mttr_seconds",
            "Mean time from impact start to resolution of incidents started in the window.",
            labels=labels,
        )
        for key in sorted({*sample.open, *sample.mtta, *sample.mttr}):
            open_incidents.add_metric(list(key), float(sample.open.get(key, 0)))
        for key, seconds in sorted(sample.mtta.items()):
            mtta.add_metric(list(key), seconds)
        for key, seconds in sorted(sample.mttr.items()):
            mttr.add_metric(list(key), seconds)
        yield from (window, open_incidents, mtta, mttr)
        yield from _burden(sample)


def _burden(sample: IncidentSample) -> Iterator[Metric]:
    groups = GaugeMetricFamily(
        "watchkeeper_alert_groups",
        "Alert groups opened in the incident metrics window, per service.",
        labels=["service"],
    )
    noise = GaugeMetricFamily(
        "watchkeeper_alert_groups_noise_ratio",
        "Share of the window's alert groups that auto-resolved without an acknowledgement.",
        labels=["service"],
    )
    unacked = GaugeMetricFamily(
        "watchkeeper_alert_groups_unacknowledged_ratio",
        "Share of the window's alert groups never acknowledged.",
        labels=["service"],
    )
    for service, (total, auto, never) in sorted(sample.noise.items()):
        groups.add_metric([service], float(total))
        if total:
            noise.add_metric([service], auto / total)
            unacked.add_metric([service], never / total)
    pages = GaugeMetricFamily(
        "watchkeeper_pages",
        "Pages per responder in the window by hours in their time zone (business, off, sleep).",
        labels=["responder", "hours"],
    )
    for (responder, hours), count in sorted(sample.pages.items()):
        pages.add_metric([responder, hours], float(count))
    yield from (groups, noise, unacked, pages)


def _value(value: float | None) -> float:
    return math.nan if value is None else value


class NotificationCollector(Collector):
    """Exports the outbox's rows per channel and status, read through ``source`` at scrape time."""

    def __init__(self, source: Callable[[], dict[tuple[str, str], int]]) -> None:
        self._source = source

    def collect(self) -> Iterator[Metric]:
        """One gauge: notifications by channel and status (delivered, failed, pending, ...)."""
        gauge = GaugeMetricFamily(
            "watchkeeper_notifications",
            "Notifications in the outbox by channel and status.",
            labels=["channel", "status"],
        )
        for (channel, status), count in sorted(self._source().items()):
            gauge.add_metric([channel, status], count)
        yield gauge


class ScheduleCoverageCollector(Collector):
    """Exports when each imported on-call calendar runs out, read through ``source``."""

    def __init__(self, source: Callable[[], dict[str, float]]) -> None:
        self._source = source

    def collect(self) -> Iterator[Metric]:
        """One gauge: the Unix time each imported schedule's snapshot ends, by schedule."""
        gauge = GaugeMetricFamily(
            "watchkeeper_oncall_schedule_covered_until_seconds",
            "Unix time at which an imported calendar schedule's shifts end (re-import before).",
            labels=["schedule"],
        )
        for schedule, seconds in sorted(self._source().items()):
            gauge.add_metric([schedule], seconds)
        yield gauge
