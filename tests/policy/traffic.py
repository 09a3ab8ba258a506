"""Specs and traffic shapes for deploy-gate tests, with the budget figures worked out by hand.

``api/availability``: objective 0.99 (budget 0.01), 30 d. Every shape has 9000 good events
10 days ago plus 1000 events an hour ago with some bad ones, so the 30 d window holds 10000:

    shape      bad   remaining = 1 - (bad / 10000) / 0.01   consumed in 1 d = bad / (0.01 x 10000)
    healthy      0   1                                      0
    fast        70   1 - 0.7 = 0.3                          0.7  > 0.5
    exhausted  150   1 - 1.5 = -0.5 < 0                     1.5  > 0.5
    silent     (no events at all: no budget figure, no rule holds)

The policy checks ``budget-exhausted`` (deny; fixes and rollbacks exempt) first, then
``fast-spend`` (require approval; rollbacks exempt).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

SPEC = """\
apiVersion: watchkeeper/v1
kind: ServiceLevels
service: api
slos:
  - name: availability
    objective: 0.99
    window: 30d
    sli: {name: api-requests}
"""

POLICY = """\
apiVersion: watchkeeper/v1
kind: ErrorBudgetPolicy
name: api-policy
services: [api]
rules:
  - name: budget-exhausted
    when: {budget_remaining_below: 0}
    action: deny
    exempt: [fix, rollback]
  - name: fast-spend
    when: {budget_consumed_over: 0.5, within: 1d}
    action: require_approval
    exempt: [rollback]
"""

# For Sloth's payments example (examples/sloth/payments-raw.yaml), whose SLO reads Prometheus.
NO_DATA_DENY = """\
apiVersion: watchkeeper/v1
kind: ErrorBudgetPolicy
name: payments-policy
services: [payments-gateway]
rules:
  - name: blind
    when: {no_data: true}
    action: deny
"""

BAD = {"healthy": 0, "fast": 70, "exhausted": 150}


def rows(shape: str, now: datetime, sli: str = "api-requests") -> list[dict[str, Any]]:
    """The events of one traffic shape, placed relative to ``now``."""
    if shape == "silent":
        return []
    moment = now.timestamp()
    bad = BAD[shape]
    return [
        {
            "time": moment - timedelta(days=10).total_seconds(),
            "sli": sli,
            "good": 9000,
            "total": 9000,
        },
        {"time": moment - 3600, "sli": sli, "good": 1000 - bad, "total": 1000},
    ]
