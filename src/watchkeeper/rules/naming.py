"""Names both generators give alerts, and the checks Prometheus applies to generated names."""

from __future__ import annotations

import re
from collections.abc import Mapping

from watchkeeper.core.slo import SLO, AlertTarget
from watchkeeper.rules.promtext import LABEL_NAME, METRIC_NAME

_WORDS = re.compile(r"[A-Za-z0-9]+")


def alert_name(slo: SLO, target: AlertTarget) -> str:
    """The alert's name: the severity's own name, the SLO's alerting name, else one derived
    from the service and SLO names (``checkout`` + ``availability`` ->
    ``CheckoutAvailabilityErrorBudgetBurn``)."""
    given = target.name or slo.alerting.name
    if given:
        return given
    words = _WORDS.findall(f"{slo.service} {slo.name}")
    derived = "".join(word[:1].upper() + word[1:] for word in words) + "ErrorBudgetBurn"
    return derived if derived[:1].isalpha() else f"SLO{derived}"


def name_problems(labels: Mapping[str, str], names: list[str]) -> list[str]:
    """Why Prometheus would refuse these label names or alert names, one message each."""
    problems = [
        f"label name {name!r} is not a valid Prometheus label name ([a-zA-Z_][a-zA-Z0-9_]*)"
        for name in labels
        if not LABEL_NAME.fullmatch(name) or name.startswith("__")
    ]
    problems.extend(
        f"alert name {name!r} is not a valid Prometheus metric name ([a-zA-Z_:][a-zA-Z0-9_:]*)"
        for name in names
        if not METRIC_NAME.fullmatch(name)
    )
    return problems
