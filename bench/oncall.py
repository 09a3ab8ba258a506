"""Benchmark: "who is on call" for 1,000 schedules over a year of rotations.

Set-up (not timed): 1,000 schedules in eight time zones (four with DST), each with a weekly
24/7 rotation of 3 to 8 users, a daily business-hours layer (mon-fri 09:00-17:00, priority 1)
and 12 overrides spread over the year; every rotation started a year before the first lookup.

Timed:
- ``oncall_at`` for every schedule once a day for a year (365,000 lookups);
- ``final_schedule`` + ``gaps`` of every schedule over the whole year.

Baseline, measured in the same run: a naive lookup that walks the rotation turn by turn from
its start (local-time handoffs, as the core computes them) instead of dividing; it runs on a
sample of lookups, must answer the same users, and is scaled to the same count.

Run: .venv/bin/python bench/oncall.py [--schedules N]
"""

from __future__ import annotations

import argparse
import random
import time
from datetime import UTC, datetime, timedelta

from watchkeeper.core.schedule import (
    Layer,
    Override,
    Restriction,
    Schedule,
    final_schedule,
    gaps_between,
    oncall_at,
    zone_named,
)

ZONES = (
    "America/New_York",
    "Europe/Berlin",
    "Australia/Sydney",
    "America/Los_Angeles",
    "UTC",
    "Asia/Tokyo",
    "Asia/Kolkata",
    "America/Sao_Paulo",
)
YEAR_START = datetime(2026, 1, 1, tzinfo=UTC)


def build(count: int, seed: int = 8) -> list[Schedule]:
    """``count`` schedules as the module docstring describes."""
    rng = random.Random(seed)
    business = Restriction.parse("mon-fri 09:00-17:00")
    schedules = []
    for index in range(count):
        users = tuple(f"user{index}-{n}" for n in range(rng.randint(3, 8)))
        weekly = Layer(
            "weekly",
            users,
            datetime(2025, 1, 6, rng.randint(0, 23), 0),
            turn=timedelta(weeks=1),
        )
        day = Layer(
            "day",
            (f"lead{index}",),
            datetime(2025, 1, 6, 9, 0),
            priority=1,
            restrictions=(business,),
        )
        overrides = []
        for month in range(12):
            start = YEAR_START + timedelta(days=30 * month + rng.randint(0, 20))
            overrides.append(Override(f"cover{index}", start, start + timedelta(hours=12)))
        schedules.append(
            Schedule(
                f"s{index}", zone_named(ZONES[index % len(ZONES)]), (weekly, day), tuple(overrides)
            )
        )
    return schedules


def naive_weekly_user(layer: Layer, schedule: Schedule, at: datetime) -> str:
    """The weekly layer's user at ``at`` by walking turn by turn from the start."""
    index = 0
    while layer.turn_start(index + 1, schedule.zone) <= at:
        index += 1
    return layer.users[index % len(layer.users)]


def main() -> None:
    """Time the lookups and the final schedules; print a table with the ratio to the baseline."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--schedules", type=int, default=1000)
    arguments, _ = parser.parse_known_args()
    schedules = build(arguments.schedules)
    instants = [YEAR_START + timedelta(days=day, hours=13) for day in range(365)]

    began = time.perf_counter()
    answered = 0
    for schedule in schedules:
        for at in instants:
            answered += len(oncall_at(schedule, at))
    lookups = time.perf_counter() - began
    count = len(schedules) * len(instants)

    began = time.perf_counter()
    shifts = holes = 0
    for schedule in schedules:
        year = final_schedule(schedule, YEAR_START, YEAR_START + timedelta(days=365))
        shifts += len(year)
        holes += len(gaps_between(year, YEAR_START, YEAR_START + timedelta(days=365)))
    finals = time.perf_counter() - began

    # Baseline on the weekly layer alone (both sides), on a sample scaled to every lookup.
    sample = [(s, at) for s in schedules[:20] for at in instants[::7]]
    began = time.perf_counter()
    fast = [s.layers[0].users_at(at, s.zone) for s, at in sample]
    fast_time = time.perf_counter() - began
    began = time.perf_counter()
    slow = [(naive_weekly_user(s.layers[0], s, at),) for s, at in sample]
    naive_time = time.perf_counter() - began
    assert fast == slow, "the naive walk disagrees with the arithmetic turn index"

    print(f"{'measure':<44}{'value':>16}")
    print(f"{'schedules':<44}{len(schedules):>16,}")
    print(f"{'oncall_at lookups (daily for a year)':<44}{count:>16,}")
    print(f"{'  total time (s)':<44}{lookups:>16.3f}")
    print(f"{'  per lookup (µs)':<44}{lookups / count * 1e6:>16.1f}")
    print(f"{'final_schedule + gaps, one year each (s)':<44}{finals:>16.3f}")
    print(f"{'  shifts / gaps found':<44}{f'{shifts:,} / {holes:,}':>16}")
    print(f"{'weekly layer lookup, arithmetic (µs)':<44}{fast_time / len(sample) * 1e6:>16.1f}")
    print(f"{'weekly layer lookup, naive walk (µs)':<44}{naive_time / len(sample) * 1e6:>16.1f}")
    print(f"{'ratio naive / arithmetic':<44}{naive_time / fast_time:>16.1f}")


if __name__ == "__main__":
    main()
