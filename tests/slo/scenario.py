"""A hand-worked SLO scenario shared by the SLO, CLI, telemetry, web and worker tests.

Two SLOs of service ``shop``, evaluated at AT = 2026-11-23T12:00:00Z:

* ``shop/availability``: ratio SLI ``shop-requests``, objective 0.99 (budget 0.01), 30 d.
  Default alert factors for 30 d (SRE Workbook table 5-8): page 1h/5m 14.4, page 6h/30m 6,
  ticket 1d/2h 3, ticket 3d/6h 1.
* ``shop/latency``: threshold SLI ``shop-latency`` (good when value <= 0.3 s), objective 0.9
  (budget 0.1), 7 d.

Request rows, as (seconds before AT, good, total), all on minute boundaries so the event
store's 60-second buckets hold exactly what the offline evaluator counts per event:

    30d + 60s   0 / 1000   before the 30 d window: ignored
    30d      9935 / 10000  exactly on the window start: counted ([start, end) is half-open)
    2d       6000 / 6000
    10h      3600 / 3600
    5h        190 / 200
    90m        95 / 100
    10m        80 / 90
    1m          0 / 10
    0           0 / 1000   exactly at AT: not counted

Sums per window [AT - w, AT) (bad / total, burn = (bad / total) / 0.01):

    5m    10 / 10     = 1.0     burn 100
    30m   20 / 100    = 0.2     burn 20        (10m and 1m rows)
    1h    20 / 100    = 0.2     burn 20
    2h    25 / 200    = 0.125   burn 12.5      (+ 90m row)
    6h    35 / 400    = 0.0875  burn 8.75      (+ 5h row)
    1d    35 / 4000   = 0.00875 burn 0.875     (+ 10h row)
    3d    35 / 10000  = 0.0035  burn 0.35      (+ 2d row)
    30d  100 / 20000  = 0.005   -> SLI 19900 / 20000 = 0.995,
                                  budget remaining 1 - 0.005 / 0.01 = 0.5

Alerts: page 1h/5m fires (20 > 14.4 and 100 > 14.4); page 6h/30m fires (8.75 > 6 and
20 > 6); ticket 1d/2h does not (0.875 < 3); ticket 3d/6h does not (0.35 < 1).
Exhaustion at the 1 h burn rate: 0.5 x 30 d / 20 = 0.75 d = 18 h after AT.

Latency values at AT - 1, 2, 3, 4 minutes: 0.1 and 0.3 are good (<= 0.3), 0.31 and 0.5 are
bad: SLI 2 / 4 = 0.5; budget remaining 1 - 0.5 / 0.1 = -4; burn in every window 5.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

AT = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
AT_TEXT = "2026-11-23T12:00:00Z"
DAY = 86_400

SPEC = """\
apiVersion: watchkeeper/v1
kind: ServiceLevels
service: shop
owner: team-shop
slos:
  - name: availability
    objective: 0.99
    window: 30d
    sli: {name: shop-requests, kind: ratio}
  - name: latency
    objective: 0.9
    window: 7d
    sli: {name: shop-latency, kind: threshold, threshold: 0.3, operator: lte}
"""

POLICY = """\
apiVersion: watchkeeper/v1
kind: ErrorBudgetPolicy
name: shop-policy
services: [shop]
rules:
  - name: budget-exhausted
    when: {budget_remaining_below: 0}
    action: deny
    exempt: [fix]
"""

REQUEST_ROWS: list[tuple[int, int, int]] = [
    (30 * DAY + 60, 0, 1000),
    (30 * DAY, 9935, 10000),
    (2 * DAY, 6000, 6000),
    (10 * 3600, 3600, 3600),
    (5 * 3600, 190, 200),
    (90 * 60, 95, 100),
    (10 * 60, 80, 90),
    (60, 0, 10),
    (0, 0, 1000),
]
LATENCY_VALUES: list[tuple[int, float]] = [(60, 0.1), (120, 0.3), (180, 0.31), (240, 0.5)]

# shop/availability at AT (the latency figures are simple enough to check inline).
AVAILABILITY_BURN_RATES = {
    "5m": 100.0,
    "30m": 20.0,
    "1h": 20.0,
    "2h": 12.5,
    "6h": 8.75,
    "1d": 0.875,
    "3d": 0.35,
}
# (severity, long, short, factor, firing)
AVAILABILITY_ALERTS = [
    ("page", "1h", "5m", 14.4, True),
    ("page", "6h", "30m", 6.0, True),
    ("ticket", "1d", "2h", 3.0, False),
    ("ticket", "3d", "6h", 1.0, False),
]
AVAILABILITY_EXHAUSTION = AT + timedelta(hours=18)


def event_rows(at: datetime = AT) -> list[dict[str, Any]]:
    """The scenario's events as API/ingest rows, relative to ``at``."""
    moment = int(at.timestamp())
    rows: list[dict[str, Any]] = [
        {"time": moment - ago, "sli": "shop-requests", "good": good, "total": total}
        for ago, good, total in REQUEST_ROWS
    ]
    rows += [
        {"time": moment - ago, "sli": "shop-latency", "value": value}
        for ago, value in LATENCY_VALUES
    ]
    return rows


def write_csv(path: Path, at: datetime = AT) -> Path:
    """The scenario's events as a CSV data file."""
    lines = ["time,sli,good,total,value"]
    for row in event_rows(at):
        if "value" in row:
            lines.append(f"{row['time']},{row['sli']},,,{row['value']}")
        else:
            lines.append(f"{row['time']},{row['sli']},{row['good']},{row['total']},")
    path.write_text("\n".join(lines) + "\n")
    return path
