"""Watchkeeper's own rules: traffic-weighted, exact and NaN-safe (the default mode).

For every window ``w`` an alert looks at, and for the SLO period, Prometheus records the
SLI's own queries with ``{{.window}}`` filled: the good (or bad) event count over ``w`` and
the total over ``w``, each computed from the raw counters over the whole window
(``sum(increase(errors[1h]))``), never by averaging shorter ratios. The burn rate over
``w`` is then ``(bad_w / total_w) / (1 - objective)``, the same arithmetic as Watchkeeper's
own evaluator (``core.burn_rate``): given the same counts, the same burn rate and the same
alert decision.

No data stays no data: the denominator is ``(total_w > 0)``, a filter, so a window without
events has no burn-rate sample at all (never NaN, 0 or 1) and no comparison on it can fire.
A missing good (or bad) series counts as zero events (``or 0 * total``) so a window where
every request failed, or none did, still has a value. Alerts compare strictly (``>``)
against unrounded factors, need both windows of a pair, and, when the SLO sets
``min_events``, at least that many events in the long window.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

from watchkeeper.core.duration import format_duration
from watchkeeper.core.slo import SLO, AlertTarget, AlertWindow, Severity, SLIKind
from watchkeeper.core.windows import alert_windows, nominal_period
from watchkeeper.rules.model import Rule, RuleGroup, SLORules
from watchkeeper.rules.naming import alert_name
from watchkeeper.rules.promtext import exact_float, fill_window, label_filter

PREFIX = "watchkeeper_slo"
WINDOW_LABEL = "watchkeeper_window"
SEVERITY_LABEL = "watchkeeper_severity"
SERVICE_LABEL = "watchkeeper_service"
SLO_LABEL = "watchkeeper_slo"
# Windows from a day up are recorded in their own group, evaluated every
# LONG_WINDOW_INTERVAL instead of every cycle: scanning days of raw samples is the rules' main
# cost, and a day-long window moves by a 720th in two minutes. Below Prometheus' default 5m
# lookback, so the records never go stale between evaluations.
LONG_WINDOW = timedelta(days=1)
LONG_WINDOW_INTERVAL = "2m"
# The SLO period's records (30 days of raw samples: most of the scanning) feed the budget
# figures, never an alert, and get a group of their own evaluated every PERIOD_INTERVAL: still
# inside the 5m lookback, and a 30-day window moves by a 10,800th in four minutes.
PERIOD_INTERVAL = "4m"
# The SLO's constants (objective, budget, period) never change between two rule loads: every
# 4 minutes keeps them inside the 5m lookback without re-recording them every cycle.
CONSTANTS_INTERVAL = "4m"


def record_name(what: str, operation: str, window: timedelta | None = None) -> str:
    """A record name of the scheme ``watchkeeper_slo:<what>:<operation>[<window>]``."""
    suffix = format_duration(window) if window is not None else ""
    return f"{PREFIX}:{what}:{operation}{suffix}"


def id_labels(slo: SLO) -> dict[str, str]:
    """The labels every series of an SLO carries: service and SLO name."""
    return {SERVICE_LABEL: slo.service, SLO_LABEL: slo.name}


def _counts(slo: SLO, window: timedelta, own: str) -> tuple[list[Rule], str]:
    """The recorded counts of one window and the PromQL of its error ratio over them."""
    queries = slo.sli.queries
    assert queries is not None and queries.total is not None
    text = format_duration(window)
    total_name = record_name("total_events", "increase", window)
    total = f"{total_name}{own}"
    positive_total = f"({total} > 0)"
    total_rule = Rule(record=total_name, expr=fill_window(queries.total, text))
    if queries.bad is not None:
        bad_name = record_name("bad_events", "increase", window)
        bad_rule = Rule(record=bad_name, expr=fill_window(queries.bad, text))
        return [bad_rule, total_rule], f"({bad_name}{own} or 0 * {total})\n/\n{positive_total}"
    assert queries.good is not None
    good_name = record_name("good_events", "increase", window)
    good_rule = Rule(record=good_name, expr=fill_window(queries.good, text))
    ratio = f"({total} - ({good_name}{own} or 0 * {total}))\n/\n{positive_total}"
    return [good_rule, total_rule], ratio


def _sli_rules(slo: SLO, windows: list[timedelta], period: timedelta) -> list[Rule]:
    own = label_filter(id_labels(slo))
    budget = exact_float(slo.error_budget)
    counted: list[Rule] = []
    derived: list[Rule] = []
    for window in windows:
        if slo.sli.kind is SLIKind.RAW:
            assert slo.sli.queries is not None and slo.sli.queries.raw_error_ratio is not None
            ratio_name = record_name("error_ratio", "ratio", window)
            counted.append(
                Rule(
                    record=ratio_name,
                    expr=fill_window(slo.sli.queries.raw_error_ratio, format_duration(window)),
                )
            )
            ratio = f"{ratio_name}{own}"
        else:
            rules, ratio = _counts(slo, window, own)
            counted.extend(rules)
            if window == period:
                derived.append(Rule(record=record_name("error_ratio", "ratio", window), expr=ratio))
        derived.append(
            Rule(
                record=record_name("burn_rate", "ratio", window),
                expr=f"(\n{ratio}\n)\n/ {budget}" if "\n" in ratio else f"{ratio} / {budget}",
            )
        )
    return counted + derived


def _with_labels(
    rules: list[Rule], labels: Mapping[str, str], window_of: dict[str, str]
) -> tuple[Rule, ...]:
    """Rules with the SLO's labels, and each window-suffixed record's window label."""
    labelled = []
    for rule in rules:
        assert rule.record is not None
        window = window_of.get(rule.record)
        extra = {WINDOW_LABEL: window} if window is not None else {}
        labelled.append(Rule(record=rule.record, expr=rule.expr, labels={**labels, **extra}))
    return tuple(labelled)


def _pair(slo: SLO, window: AlertWindow) -> str:
    own = label_filter(id_labels(slo))
    factor = exact_float(window.factor)
    long = f"{record_name('burn_rate', 'ratio', window.long)}{own} > {factor}"
    short = f"{record_name('burn_rate', 'ratio', window.short)}{own} > {factor}"
    parts = [long, short]
    if slo.alerting.min_events > 0 and slo.sli.kind is not SLIKind.RAW:
        total = record_name("total_events", "increase", window.long)
        parts.append(f"{total}{own} >= {slo.alerting.min_events}")
    joined = f"\n  and ignoring ({WINDOW_LABEL})\n  ".join(parts)
    return f"max without ({WINDOW_LABEL}) (\n  {joined}\n)"


def _alert(slo: SLO, target: AlertTarget, severity: Severity, windows: list[AlertWindow]) -> Rule:
    annotations = {
        "summary": (
            f"{{{{$labels.{SERVICE_LABEL}}}}}/{{{{$labels.{SLO_LABEL}}}}} is burning its error "
            f"budget too fast ({severity.value})"
        ),
        "description": (
            "Burn rate {{ $value | humanize }} over the long window of a "
            f"{severity.value} alert; objective {slo.objective!r}."
        ),
    }
    if target.runbook_url is not None:
        annotations["runbook_url"] = target.runbook_url
    annotations.update(target.annotations)
    return Rule(
        alert=alert_name(slo, target),
        expr="\nor\n".join(_pair(slo, window) for window in windows) + "\n",
        labels={"severity": severity.value, **target.labels, SEVERITY_LABEL: severity.value},
        annotations=annotations,
    )


def exact_rules(slo: SLO, *, extra_labels: Mapping[str, str]) -> SLORules:
    """Watchkeeper's rule groups for one Prometheus SLO with a rolling window."""
    period = nominal_period(slo.window)
    windows = alert_windows(slo)
    durations = sorted({w for window in windows for w in (window.short, window.long)} | {period})
    labels = {**extra_labels, **slo.labels, **id_labels(slo)}
    window_of = {}
    for duration in durations:
        for what, operation in (
            ("bad_events", "increase"),
            ("good_events", "increase"),
            ("total_events", "increase"),
            ("error_ratio", "ratio"),
            ("burn_rate", "ratio"),
        ):
            window_of[record_name(what, operation, duration)] = format_duration(duration)
    alerted = {w for window in windows for w in (window.short, window.long)}
    # The period joins the long windows' group when an alert reads it too, else has its own.
    own_period = [period] if period not in alerted else []
    short = [d for d in durations if d < LONG_WINDOW and d != period]
    long = [d for d in durations if (d >= LONG_WINDOW or d == period) and d not in own_period]
    own = label_filter(id_labels(slo))
    # The budget left is recorded right after the period's burn rate, in the same group.
    remaining = Rule(
        record=record_name("error_budget_remaining", "ratio"),
        expr=f"1 - {record_name('burn_rate', 'ratio', period)}{own}",
        labels=labels,
    )
    sli = _with_labels(_sli_rules(slo, short, period), labels, window_of)
    sli_long = _with_labels(_sli_rules(slo, long, period), labels, window_of)
    sli_period = _with_labels(_sli_rules(slo, own_period, period), labels, window_of)
    if own_period:
        sli_period += (remaining,)
    else:
        sli_long += (remaining,)
    days = period.total_seconds() / 86_400
    meta = (
        Rule(
            record=record_name("objective", "ratio"), expr=f"vector({exact_float(slo.objective)})"
        ),
        Rule(
            record=record_name("error_budget", "ratio"),
            expr=f"vector({exact_float(slo.error_budget)})",
        ),
        Rule(record=record_name("period", "days"), expr=f"vector({exact_float(days)})"),
    )
    meta_rules = tuple(Rule(record=rule.record, expr=rule.expr, labels=labels) for rule in meta)
    alerts = []
    for severity, target in (
        (Severity.PAGE, slo.alerting.page),
        (Severity.TICKET, slo.alerting.ticket),
    ):
        chosen = sorted((w for w in windows if w.severity is severity), key=lambda w: -w.factor)
        if target.enabled and chosen:
            alerts.append(_alert(slo, target, severity, chosen))
    base = f"watchkeeper-slo-{slo.service}-{slo.name}"
    groups = [
        group
        for group in (
            RuleGroup(f"{base}-sli", sli),
            RuleGroup(f"{base}-sli-long", sli_long, interval=LONG_WINDOW_INTERVAL),
            RuleGroup(f"{base}-sli-period", sli_period, interval=PERIOD_INTERVAL),
            RuleGroup(f"{base}-meta", meta_rules, interval=CONSTANTS_INTERVAL),
        )
        if group.rules
    ]
    if alerts:
        groups.append(RuleGroup(f"{base}-alerts", tuple(alerts)))
    return SLORules(slo.service, slo.name, tuple(groups))
