"""Hypothesis strategies for valid SLOs and policies (what a correct spec can describe)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import MappingProxyType

from hypothesis import strategies as st

from watchkeeper.core.policy import (
    ConditionKind,
    ErrorBudgetPolicy,
    GateAction,
    PolicyCondition,
    PolicyRule,
)
from watchkeeper.core.slo import (
    SLI,
    SLO,
    Alerting,
    AlertTarget,
    AlertWindow,
    CalendarUnit,
    CalendarWindow,
    ExternalMetric,
    MaintenanceWindow,
    Operator,
    PromQueries,
    RollingWindow,
    Severity,
    SLIKind,
    SourceKind,
    Window,
)
from watchkeeper.core.windows import default_alert_windows, longest_alert_window, nominal_period

names = st.from_regex(r"[a-z0-9][a-z0-9\-_.]{0,12}", fullmatch=True)
# Printable, no spaces: what an SLI name may be (format characters such as a soft hyphen are
# invisible and refused).
words = st.text(
    st.characters(
        min_codepoint=33, max_codepoint=0x2FF, exclude_categories=("Cs", "Cc", "Cf", "Z")
    ),
    min_size=1,
    max_size=12,
)
texts = st.text(
    st.characters(min_codepoint=32, max_codepoint=0x2FF, exclude_categories=("Cs", "Cc")),
    max_size=30,
) | st.sampled_from(["multi\nline\ntext", "trailing space ", "# not a comment", "a: b"])
labels = st.dictionaries(words, texts, max_size=3).map(MappingProxyType)
ratios = st.floats(min_value=0, max_value=1, exclude_min=True, exclude_max=True)
finite = st.floats(allow_nan=False, allow_infinity=False, width=64)
minutes = st.integers(min_value=1, max_value=60 * 24 * 7).map(lambda m: timedelta(minutes=m))
zones = st.sampled_from(["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata"])
# Metric names start with "slo_" so none is a PromQL keyword (on, bool, inf...).
queries = st.from_regex(r"sum\(rate\(slo_[a-z_]{1,10}\[\{\{\.window\}\}\]\)\)", fullmatch=True)
raw_queries = st.from_regex(
    r"1 - (avg_over_time\(slo_[a-z_]{1,10}\[\{\{ ?\.window ?\}\}\]\)|slo_[a-z_]{1,10}:ratio)",
    fullmatch=True,
)
instants = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2030, 1, 1), timezones=st.just(UTC)
)


@st.composite
def windows(draw: st.DrawFn) -> Window:
    """A rolling window from 3 days to 400 (whole minutes), or a calendar window."""
    if draw(st.booleans()):
        days = draw(st.integers(min_value=3, max_value=399))
        extra = draw(st.integers(min_value=0, max_value=60 * 24 - 1))
        return RollingWindow(timedelta(days=days, minutes=extra))
    unit = draw(st.sampled_from(list(CalendarUnit)))
    return CalendarWindow(unit, draw(zones), draw(st.integers(min_value=1, max_value=3)))


@st.composite
def slis(draw: st.DrawFn) -> SLI:
    """An SLI of any valid kind and source."""
    name = draw(words)
    shape = draw(
        st.sampled_from(
            [
                "ratio",
                "threshold",
                "slices-ratio",
                "slices-threshold",
                "prom-ratio",
                "raw",
                "prom-slices",
                "ratio-slices",
                "ratio-slices-threshold",
                "external-ratio",
                "external-threshold",
                "external-raw",
            ]
        )
    )
    slice_fields = {
        "slice_duration": draw(
            st.integers(min_value=1, max_value=60).map(lambda m: timedelta(minutes=m))
        ),
        "slice_target": draw(st.floats(min_value=0, max_value=1, exclude_min=True)),
    }
    threshold_fields = {
        "threshold": draw(finite),
        "operator": draw(st.sampled_from(list(Operator))),
    }
    good, bad = (draw(queries), None) if draw(st.booleans()) else (None, draw(queries))
    # A named Prometheus source (None: the default one), written back as an OpenSLO DataSource.
    source = draw(st.none() | st.sampled_from(["mimir", "thanos-eu"]))
    prom = PromQueries(good=good, bad=bad, total=draw(queries), source=source)
    if shape == "ratio":
        return SLI(name)
    if shape == "threshold":
        return SLI(name, SLIKind.THRESHOLD, **threshold_fields)
    if shape == "slices-ratio":
        return SLI(name, SLIKind.TIMESLICES, **slice_fields)
    if shape == "slices-threshold":
        return SLI(
            name,
            SLIKind.TIMESLICES,
            slice_kind=SLIKind.THRESHOLD,
            **slice_fields,
            **threshold_fields,
        )
    if shape == "prom-ratio":
        return SLI(name, source=SourceKind.PROMETHEUS, queries=prom)
    if shape == "prom-slices":
        return SLI(name, SLIKind.TIMESLICES, SourceKind.PROMETHEUS, queries=prom, **slice_fields)
    if shape == "ratio-slices":
        return SLI(name, SLIKind.RATIO_TIMESLICES, slice_duration=slice_fields["slice_duration"])
    if shape == "ratio-slices-threshold":
        return SLI(
            name,
            SLIKind.RATIO_TIMESLICES,
            slice_kind=SLIKind.THRESHOLD,
            slice_duration=slice_fields["slice_duration"],
            **threshold_fields,
        )
    if shape.startswith("external"):
        return draw(external_slis(name, shape, slice_fields, threshold_fields))
    raw = PromQueries(
        raw_error_ratio=draw(raw_queries), source=draw(st.none() | st.sampled_from(["mimir"]))
    )
    return SLI(name, SLIKind.RAW, SourceKind.PROMETHEUS, queries=raw)


source_types = st.sampled_from(["Datadog", "CloudWatch", "NewRelic", "Any", "dynatrace"])
vendor_specs = st.dictionaries(
    st.sampled_from(["query", "metricName", "namespace", "region", "nrql"]),
    texts | st.integers(-5, 5) | st.booleans(),
    min_size=1,
    max_size=3,
)


@st.composite
def external_slis(
    draw: st.DrawFn,
    name: str,
    shape: str,
    slice_fields: dict[str, object],
    threshold_fields: dict[str, object],
) -> SLI:
    """An SLI of a monitoring system Watchkeeper catalogues without evaluating."""
    source_type = draw(source_types)

    def source() -> dict[str, object]:
        return {"metricSource": {"type": source_type, "spec": draw(vendor_specs)}}

    if shape == "external-threshold":
        external = ExternalMetric.of(source_type, {"thresholdMetric": source()})
        return SLI(
            name, SLIKind.THRESHOLD, SourceKind.EXTERNAL, external=external, **threshold_fields
        )
    if shape == "external-raw":
        raw_type = draw(st.sampled_from(["success", "failure"]))
        external = ExternalMetric.of(
            source_type, {"ratioMetric": {"raw": source(), "rawType": raw_type}}
        )
        return SLI(name, SLIKind.RAW, SourceKind.EXTERNAL, external=external)
    numerator = draw(st.sampled_from(["good", "bad"]))
    ratio: dict[str, object] = {numerator: source(), "total": source()}
    if draw(st.booleans()):
        ratio["counter"] = draw(st.booleans())
    external = ExternalMetric.of(source_type, {"ratioMetric": ratio})
    kind = draw(st.sampled_from([SLIKind.RATIO, SLIKind.TIMESLICES, SLIKind.RATIO_TIMESLICES]))
    if kind is SLIKind.RATIO:
        return SLI(name, kind, SourceKind.EXTERNAL, external=external)
    if kind is SLIKind.TIMESLICES:
        return SLI(name, kind, SourceKind.EXTERNAL, external=external, **slice_fields)
    return SLI(
        name,
        kind,
        SourceKind.EXTERNAL,
        external=external,
        slice_duration=slice_fields["slice_duration"],
    )


targets = st.builds(
    AlertTarget,
    enabled=st.booleans(),
    labels=labels,
    annotations=labels,
    runbook_url=st.none() | names.map(lambda n: f"https://runbooks.example.com/{n}"),
    name=st.none() | words,
)


@st.composite
def alertings(draw: st.DrawFn, window: Window) -> Alerting:
    """Alerting whose windows fit in ``window``."""
    period = nominal_period(window)
    custom = None
    if draw(st.booleans()):
        custom_windows = []
        for _ in range(draw(st.integers(min_value=1, max_value=4))):
            long = draw(minutes.filter(lambda m: m <= period))
            short = draw(
                st.integers(min_value=1, max_value=max(1, long // timedelta(seconds=1) - 1))
            )
            custom_windows.append(
                AlertWindow(
                    draw(st.sampled_from(list(Severity))),
                    long,
                    timedelta(seconds=short),
                    draw(st.floats(min_value=0, exclude_min=True, allow_infinity=False)),
                )
            )
        custom = tuple(custom_windows)
    assert period >= longest_alert_window(custom or default_alert_windows(period))
    return Alerting(
        page=draw(targets),
        ticket=draw(targets),
        windows=custom,
        min_events=draw(st.integers(min_value=0, max_value=10_000)),
        name=draw(st.none() | words),
    )


@st.composite
def maintenance(draw: st.DrawFn) -> MaintenanceWindow:
    """A maintenance window, end after start."""
    start = draw(instants)
    return MaintenanceWindow(start, start + draw(minutes), draw(texts))


@st.composite
def slos(draw: st.DrawFn, service: str | None = None) -> SLO:
    """A valid SLO."""
    window = draw(windows())
    return SLO(
        service=service or draw(names),
        name=draw(names),
        sli=draw(slis()),
        objective=draw(ratios),
        window=window,
        alerting=draw(alertings(window)),
        description=draw(texts),
        owner=draw(st.none() | words),
        tier=draw(st.none() | st.sampled_from(["1", "2", "gold"])),
        labels=draw(labels),
        maintenance=tuple(draw(st.lists(maintenance(), max_size=2))),
        policy=draw(st.none() | names),
    )


@st.composite
def conditions(draw: st.DrawFn) -> PolicyCondition:
    """A well-formed policy condition."""
    kind = draw(st.sampled_from(list(ConditionKind)))
    if kind is ConditionKind.BUDGET_REMAINING_BELOW:
        return PolicyCondition(
            kind, value=draw(st.floats(max_value=1, allow_nan=False, allow_infinity=False))
        )
    if kind is ConditionKind.BUDGET_CONSUMED_OVER:
        return PolicyCondition(
            kind, value=draw(st.floats(min_value=0, max_value=1)), within=draw(st.none() | minutes)
        )
    if kind is ConditionKind.BURN_RATE_ABOVE:
        return PolicyCondition(
            kind,
            value=draw(st.floats(min_value=0, exclude_min=True, allow_infinity=False)),
            within=draw(minutes),
        )
    if kind is ConditionKind.ALERT_FIRING:
        return PolicyCondition(kind, severity=draw(st.sampled_from(list(Severity))))
    return PolicyCondition(kind)


policies = st.builds(
    ErrorBudgetPolicy,
    name=names,
    rules=st.lists(
        st.builds(
            PolicyRule,
            name=names,
            condition=conditions(),
            action=st.sampled_from(list(GateAction)),
            exempt_change_types=st.lists(words, max_size=3).map(tuple),
            description=texts,
        ),
        min_size=1,
        max_size=4,
        unique_by=lambda rule: rule.name,
    ).map(tuple),
    services=st.lists(names, max_size=3).map(tuple),
    slos=st.lists(st.tuples(names, names).map("/".join), max_size=3).map(tuple),
    description=texts,
)
