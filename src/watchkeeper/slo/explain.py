"""``slo explain``: the arithmetic behind an SLO's figures, step by step."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from watchkeeper.core.duration import format_duration
from watchkeeper.core.evaluation import SLOStatus
from watchkeeper.core.slo import SLO, SLIKind
from watchkeeper.slo.schemas import SLOStatusRead, status_read


class ExplainStep(BaseModel):
    """One line of arithmetic: what is computed, the formula with numbers, the result."""

    what: str
    formula: str
    result: Any


class Explanation(BaseModel):
    """An SLO's status with the arithmetic that produced it."""

    status: SLOStatusRead
    steps: list[ExplainStep]


def _count(value: float) -> str:
    """A count in full (never 1.2e+06): integral counts without a decimal point."""
    return f"{value:.0f}" if float(value).is_integer() else repr(value)


def _ratio(value: float | None) -> str:
    return "no data" if value is None else repr(value)


def explain(slo: SLO, status: SLOStatus) -> Explanation:
    """Spell out counts, windows, thresholds and comparisons behind ``status``."""
    budget = slo.error_budget
    unit = "slices" if slo.sli.is_sliced else "events"
    steps = [
        ExplainStep(
            what="SLO window",
            formula=f"[{status.window_start.isoformat()}, {status.at.isoformat()})",
            result=(
                f"slice ratios sum to {_count(status.good)} over {_count(status.total)} slices"
                if slo.sli.kind is SLIKind.RATIO_TIMESLICES
                else f"{_count(status.good)} good of {_count(status.total)} {unit}"
            ),
        ),
        ExplainStep(
            what="SLI",
            formula=f"good / total = {_count(status.good)} / {_count(status.total)}",
            result=status.sli,
        ),
        ExplainStep(
            what="error budget",
            formula=f"1 - objective = 1 - {slo.objective!r}",
            result=budget,
        ),
        ExplainStep(
            what="error budget remaining",
            formula=(
                f"1 - (bad / total) / budget = 1 - ({_count(status.total - status.good)} / "
                f"{_count(status.total)}) / {budget!r}"
            ),
            result=status.error_budget_remaining,
        ),
    ]
    for window, counts in sorted(status.window_counts.items()):
        label = format_duration(window)
        steps.append(
            ExplainStep(
                what=f"burn rate {label}",
                formula=(
                    f"(bad / total) / budget = ({_count(counts.total - counts.good)} / "
                    f"{_count(counts.total)}) / {budget!r}"
                ),
                result=status.burn_rates.get(window),
            )
        )
    for alert in status.alerts:
        long, short = format_duration(alert.long), format_duration(alert.short)
        minimum = slo.alerting.min_events
        events_note = f" and {_count(alert.long_total)} >= {minimum} events" if minimum else ""
        steps.append(
            ExplainStep(
                what=f"{alert.severity.value} alert {long}/{short}",
                formula=(
                    f"burn {long} {_ratio(alert.long_burn_rate)} > {alert.factor!r} and burn "
                    f"{short} {_ratio(alert.short_burn_rate)} > {alert.factor!r}{events_note}"
                ),
                result="firing" if alert.firing else "not firing",
            )
        )
    for forecast in status.forecasts:
        steps.append(
            ExplainStep(
                what=f"exhaustion at the {format_duration(forecast.basis)} burn rate",
                formula="at + remaining x period / burn rate",
                result=forecast.exhaustion_at.isoformat() if forecast.exhaustion_at else None,
            )
        )
    return Explanation(status=status_read(slo, status), steps=steps)
