"""The rules Sloth generates for an SLO, reproduced rule for rule (``--compat sloth``).

Same groups (``sloth-slo-sli-recordings-<id>``, ``sloth-slo-meta-recordings-<id>``,
``sloth-slo-alerts-<id>``), record names (``slo:sli_error:ratio_rate<window>``, ...), labels
(``sloth_id``, ``sloth_service``, ``sloth_slo``, ``sloth_window``, the spec's labels) and
multiwindow multi-burn-rate alert expressions as Sloth's own generator writes them, so
dashboards and alert routes built on Sloth's rules keep working. This reproduces Sloth's
math too: each window's SLI is a ratio of rates, and the period SLI is the average of the
5-minute ratios (``sum_over_time / count_over_time``), not a traffic-weighted ratio.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from watchkeeper.core.slo import SLO, AlertTarget, AlertWindow, Severity, SLIKind
from watchkeeper.core.windows import alert_windows, nominal_period
from watchkeeper.rules.model import Rule, RuleGroup, SLORules
from watchkeeper.rules.naming import alert_name
from watchkeeper.rules.promtext import (
    fill_window,
    go_float,
    label_filter,
    percent_of,
    plain_number,
    prometheus_duration,
)

SLI_METRIC = "slo:sli_error:ratio_rate{window}"
# The spec header of OpenSLO SLOs Sloth reads; it writes their SLIs from the good query.
OPENSLO_SPEC = "openslo/v1alpha"
WINDOW_LABEL = "sloth_window"
SEVERITY_LABEL = "sloth_severity"
ID_LABELS = ("sloth_id", "sloth_service", "sloth_slo")


@dataclass(frozen=True)
class SlothInfo:
    """What ``sloth_slo_info`` says about the generator: version, mode and the spec's version."""

    version: str
    mode: str  # cli-gen-prom (rule files), cli-gen-k8s (PrometheusRule), cli-gen-openslo
    spec: str  # the header of the spec the SLO came from, e.g. prometheus/v1


def _sli_metric(window: timedelta) -> str:
    return SLI_METRIC.format(window=prometheus_duration(window))


def id_labels(slo: SLO) -> dict[str, str]:
    """Sloth's identity labels of an SLO's series."""
    return {
        "sloth_id": f"{slo.service}-{slo.name}",
        "sloth_service": slo.service,
        "sloth_slo": slo.name,
    }


def _error_query(slo: SLO) -> tuple[str, str | None]:
    """The SLI's error query and total query (raw SLIs: the error ratio query, no total)."""
    queries = slo.sli.queries
    assert queries is not None
    if slo.sli.kind is SLIKind.RAW:
        assert queries.raw_error_ratio is not None
        return queries.raw_error_ratio, None
    assert queries.total is not None
    if queries.bad is not None:
        return queries.bad, queries.total
    # Sloth has no good query; errors are total minus good.
    assert queries.good is not None
    return f"({queries.total}) - ({queries.good})", queries.total


def _openslo_sli_expr(good: str, total: str, window: str) -> str:
    """Sloth's error ratio for an OpenSLO SLI: one minus good over total."""
    return fill_window(
        "(\n  1 - (\n    (\n"
        f"      {good.strip()}\n"
        "    )\n    /\n    (\n"
        f"      {total.strip()}\n"
        "    )\n  )\n)",
        window,
    )


def _sli_expr(slo: SLO, window: str, *, spec: str) -> str:
    queries = slo.sli.queries
    if (
        spec == OPENSLO_SPEC
        and queries is not None
        and queries.good is not None
        and queries.total is not None
    ):
        return _openslo_sli_expr(queries.good, queries.total, window)
    error, total = _error_query(slo)
    if total is None:
        return fill_window(f"({error})", window)
    return fill_window(f"({error})\n/\n({total})\n", window)


def _quick_page_short(windows: tuple[AlertWindow, ...]) -> timedelta:
    """Sloth's current burn rate and period SLI read the fast page alert's short window."""
    pages = [w for w in windows if w.severity is Severity.PAGE]
    if pages:
        return max(pages, key=lambda w: w.factor).short
    return min(w.short for w in windows)


def _alert_expr(windows: list[AlertWindow], filter_text: str, error_budget: float) -> str:
    budget = go_float(error_budget)
    pairs = []
    for window in windows:
        factor = go_float(window.factor)
        short = _sli_metric(window.short)
        long = _sli_metric(window.long)
        pairs.append(
            "(\n"
            f"    max({short}{filter_text} > ({factor} * {budget})) without ({WINDOW_LABEL})\n"
            "    and\n"
            f"    max({long}{filter_text} > ({factor} * {budget})) without ({WINDOW_LABEL})\n"
            ")"
        )
    return "\nor\n".join(pairs) + "\n"


def _alert(
    slo: SLO,
    target: AlertTarget,
    severity: Severity,
    windows: list[AlertWindow],
    error_budget: float,
) -> Rule:
    id_filter = label_filter(id_labels(slo))
    annotations = {
        "title": (
            f"({severity.value}) {{{{$labels.sloth_service}}}} {{{{$labels.sloth_slo}}}} "
            "SLO error budget burn rate is too fast."
        ),
        "summary": (
            "{{$labels.sloth_service}} {{$labels.sloth_slo}} SLO error budget burn rate "
            "is over expected."
        ),
    }
    if target.runbook_url is not None:
        annotations["runbook_url"] = target.runbook_url
    annotations.update(target.annotations)
    return Rule(
        alert=alert_name(slo, target),
        expr=_alert_expr(windows, id_filter, error_budget),
        labels={SEVERITY_LABEL: severity.value, **target.labels},
        annotations=annotations,
    )


def sloth_rules(slo: SLO, *, info: SlothInfo, extra_labels: Mapping[str, str]) -> SLORules:
    """Sloth's three rule groups for one Prometheus SLO with a rolling window."""
    period = nominal_period(slo.window)
    windows = alert_windows(slo)
    percent = percent_of(slo.objective)
    # Sloth holds the objective as a percent and divides in binary floating point, so
    # 99.9 becomes 0.9990000000000001 and the budget 0.0009999999999999432; kept as is.
    objective_ratio = percent / 100
    error_budget = (100 - percent) / 100
    slo_labels = {**extra_labels, **slo.labels}
    ids = id_labels(slo)
    id_filter = label_filter(ids)
    labels = {**ids, **slo_labels}
    quick_short = _quick_page_short(windows) if windows else timedelta(minutes=5)

    durations = sorted({w for window in windows for w in (window.short, window.long)})
    sli_rules = [
        Rule(
            record=_sli_metric(duration),
            expr=_sli_expr(slo, prometheus_duration(duration), spec=info.spec),
            labels={**ids, WINDOW_LABEL: prometheus_duration(duration), **slo_labels},
        )
        for duration in durations
        if duration != period
    ]
    quick_metric = _sli_metric(quick_short)
    period_text = prometheus_duration(period)
    sli_rules.append(
        Rule(
            record=_sli_metric(period),
            expr=(
                f"sum_over_time({quick_metric}{id_filter}[{period_text}])\n"
                f"/ ignoring ({WINDOW_LABEL})\n"
                f"count_over_time({quick_metric}{id_filter}[{period_text}])\n"
            ),
            labels={**ids, WINDOW_LABEL: period_text, **slo_labels},
        )
    )

    def burn_rate(metric: str) -> str:
        return (
            f"{metric}{id_filter}\n"
            "/ on(sloth_id, sloth_slo, sloth_service) group_left\n"
            f"slo:error_budget:ratio{id_filter}\n"
        )

    meta_rules = [
        Rule(
            record="slo:objective:ratio", expr=f"vector({go_float(objective_ratio)})", labels=labels
        ),
        Rule(
            record="slo:error_budget:ratio",
            expr=f"vector(1-{go_float(objective_ratio)})",
            labels=labels,
        ),
        Rule(
            record="slo:time_period:days",
            expr=f"vector({go_float(period.total_seconds() / 3600 / 24)})",
            labels=labels,
        ),
        Rule(record="slo:current_burn_rate:ratio", expr=burn_rate(quick_metric), labels=labels),
        Rule(
            record="slo:period_burn_rate:ratio",
            expr=burn_rate(_sli_metric(period)),
            labels=labels,
        ),
        Rule(
            record="slo:period_error_budget_remaining:ratio",
            expr=f"1 - slo:period_burn_rate:ratio{id_filter}",
            labels=labels,
        ),
        Rule(
            record="sloth_slo_info",
            expr="vector(1)",
            labels={
                **labels,
                "sloth_version": info.version,
                "sloth_mode": info.mode,
                "sloth_spec": info.spec,
                "sloth_objective": plain_number(percent),
            },
        ),
    ]

    alert_rules = []
    for severity, target in (
        (Severity.PAGE, slo.alerting.page),
        (Severity.TICKET, slo.alerting.ticket),
    ):
        chosen = sorted((w for w in windows if w.severity is severity), key=lambda w: -w.factor)
        if target.enabled and chosen:
            alert_rules.append(_alert(slo, target, severity, chosen, error_budget))

    sloth_id = ids["sloth_id"]
    groups = [
        RuleGroup(f"sloth-slo-sli-recordings-{sloth_id}", tuple(sli_rules)),
        RuleGroup(f"sloth-slo-meta-recordings-{sloth_id}", tuple(meta_rules)),
    ]
    if alert_rules:
        groups.append(RuleGroup(f"sloth-slo-alerts-{sloth_id}", tuple(alert_rules)))
    return SLORules(slo.service, slo.name, tuple(groups))
