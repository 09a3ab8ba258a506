"""``promtool test rules`` files shipped with generated rules.

For each SLO with a page alert whose queries can be driven by synthetic series
(:mod:`watchkeeper.rules.synthetic_series`), two tests:

- a heavy burn: steady traffic, then every event fails for long enough that the page
  alert's fastest feasible window pair crosses its factor; the page alert is firing at the
  end of the outage, and cleared once the longest short window of the page pairs holds only
  healthy traffic again (it was silent before the outage too);
- zero traffic: the counters exist but never move; the page alert never fires. In the exact
  mode the window's burn-rate record is absent while its total (0) is present: no data is
  not turned into 0 or 1.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import yaml

from watchkeeper.core.slo import SLO, AlertWindow, Severity
from watchkeeper.core.windows import alert_windows
from watchkeeper.rules import exact, sloth_compat
from watchkeeper.rules.model import Mode
from watchkeeper.rules.naming import alert_name
from watchkeeper.rules.promtext import label_filter, percent_of
from watchkeeper.rules.synthetic_series import EventSeries, SeriesError, event_series

WARM_UP_MINUTES = 30
RATE_PER_MINUTE = 60


@dataclass(frozen=True)
class _Plan:
    window: AlertWindow
    rate: int  # events per minute
    outage_start: int  # minutes
    outage_end: int
    cleared_at: int
    end: int


def _minutes(value: timedelta) -> float:
    return value.total_seconds() / 60


def _budget(slo: SLO, mode: Mode) -> float:
    if mode is Mode.SLOTH:
        return (100 - percent_of(slo.objective)) / 100
    return slo.error_budget


def _plan(slo: SLO, mode: Mode, pages: list[AlertWindow]) -> _Plan | None:
    """The outage that fires the page alert soonest, or None when no burn can fire it."""
    budget = _budget(slo, mode)
    # An outage where every event fails burns at 1 / budget; pairs needing more never fire.
    feasible = [w for w in pages if w.factor * budget < 1]
    if not feasible:
        return None
    window = min(feasible, key=lambda w: _minutes(w.long) * w.factor * budget)
    needed = _minutes(window.long) * window.factor * budget
    outage = max(math.ceil(needed * 1.25) + 2, math.ceil(_minutes(window.short)) + 2, 5)
    rate = RATE_PER_MINUTE
    if mode is Mode.EXACT and slo.alerting.min_events > 0:
        rate = max(rate, math.ceil(slo.alerting.min_events / max(_minutes(window.long), 1)) + 1)
    start = WARM_UP_MINUTES
    end_of_outage = start + outage
    cleared = end_of_outage + math.ceil(max(_minutes(w.short) for w in pages)) + 10
    return _Plan(window, rate, start, end_of_outage, cleared, cleared + 5)


def _values(increments: Sequence[int]) -> str:
    """promtool's expanding notation for the counter that grows by ``increments``."""
    values = [0]
    for step in increments:
        values.append(values[-1] + step)
    parts = []
    index = 0
    while index < len(values):
        if index == len(values) - 1:
            parts.append(f"{values[index]}")
            break
        step = values[index + 1] - values[index]
        last = index + 1
        while last + 1 < len(values) and values[last + 1] - values[last] == step:
            last += 1
        parts.append(f"{values[index]}+{step}x{last - index}")
        index = last + 1
    return " ".join(parts)


def _increments(counts: str, plan: _Plan) -> list[int]:
    steps = []
    for minute in range(plan.end):
        failing = plan.outage_start <= minute < plan.outage_end
        good = 0 if failing else plan.rate
        bad = plan.rate if failing else 0
        steps.append({"good": good, "bad": bad, "all": good + bad}[counts])
    return steps


def _alert_selector(slo: SLO, mode: Mode) -> str:
    name = alert_name(slo, slo.alerting.page)
    if mode is Mode.SLOTH:
        ids = sloth_compat.id_labels(slo)
        severity = {sloth_compat.SEVERITY_LABEL: Severity.PAGE.value}
    else:
        ids = exact.id_labels(slo)
        severity = {exact.SEVERITY_LABEL: Severity.PAGE.value}
    labels = {"alertname": name, "alertstate": "firing", **severity, **ids}
    return f"count(ALERTS{label_filter(labels)})"


def _expect(expr: str, minute: int, value: int | None) -> dict[str, Any]:
    samples = [] if value is None else [{"labels": "{}", "value": value}]
    return {"expr": expr, "eval_time": f"{minute}m", "exp_samples": samples}


def slo_tests(slo: SLO, *, mode: Mode) -> list[dict[str, Any]]:
    """The heavy-burn and zero-traffic test groups of one SLO; SeriesError says why none."""
    pages = [w for w in alert_windows(slo) if w.severity is Severity.PAGE]
    if not slo.alerting.page.enabled or not pages:
        raise SeriesError("it has no page alert")
    series = event_series(slo)
    plan = _plan(slo, mode, pages)
    if plan is None:
        raise SeriesError(
            "no page window can fire: even a total outage burns slower than every page factor"
        )
    alerts = _alert_selector(slo, mode)
    burn: list[dict[str, Any]] = [
        {"series": item.series, "values": _values(_increments(item.counts, plan))}
        for item in series
    ]
    heavy = {
        "name": f"{slo.key}: the page alert fires under a heavy burn and clears after",
        "interval": "1m",
        "input_series": burn,
        "promql_expr_test": [
            _expect(alerts, plan.outage_start - 1, None),
            _expect(alerts, plan.outage_end, 1),
            _expect(alerts, plan.cleared_at, None),
        ],
    }
    quiet_end = plan.end
    quiet_checks = [_expect(alerts, minute, None) for minute in (10, plan.outage_end, quiet_end)]
    if mode is Mode.EXACT:
        own = label_filter(exact.id_labels(slo))
        long = plan.window.long
        quiet_checks.append(
            _expect(
                f"count({exact.record_name('total_events', 'increase', long)}{own})", quiet_end, 1
            )
        )
        quiet_checks.append(
            _expect(f"count({exact.record_name('burn_rate', 'ratio', long)}{own})", quiet_end, None)
        )
    quiet = {
        "name": f"{slo.key}: silent at zero traffic",
        "interval": "1m",
        "input_series": [{"series": item.series, "values": f"0x{quiet_end}"} for item in series],
        "promql_expr_test": quiet_checks,
    }
    return [heavy, quiet]


def promtool_tests(
    slos: Sequence[SLO], *, rule_files: Sequence[str], mode: Mode
) -> tuple[str, list[str]]:
    """The promtool test file (YAML) for rules generated from ``slos``, and one line per SLO
    left without tests, saying why."""
    groups: list[dict[str, Any]] = []
    skipped: list[str] = []
    for slo in slos:
        try:
            groups.extend(slo_tests(slo, mode=mode))
        except SeriesError as exc:
            skipped.append(f"SLO {slo.key}: no promtool tests: {exc}")
    document = {
        "rule_files": list(rule_files),
        "evaluation_interval": "1m",
        "tests": groups,
    }
    header = "# promtool test rules for rules generated by watchkeeper rules generate.\n"
    return header + yaml.safe_dump(document, sort_keys=False, width=100_000), skipped


__all__ = ["EventSeries", "SeriesError", "promtool_tests", "slo_tests"]
