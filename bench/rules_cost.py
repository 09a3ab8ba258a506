"""Prometheus CPU cost of Sloth-compatible rules versus Watchkeeper's exact rules.

    .venv/bin/python bench/rules_cost.py [--slos 200] [--hours 24] [--measure 60]

N SLOs of one shape (errors over requests by ``rate()``, Sloth's usual spec) get rules in
both modes. History at one sample a minute (a 1 % error rate, a noisy request rate) is
written as OpenMetrics and turned into TSDB blocks by ``promtool tsdb create-blocks-from
openmetrics``; each rule file then runs in its own Prometheus 2.42 on a loopback port, with
a copy of those blocks and a 30 s evaluation interval (groups that set their own interval
keep it). After a warm-up, Prometheus' own /metrics are read twice, ``--measure`` seconds
apart: process CPU seconds (per 30 s of wall time), the summed last durations of the rule
groups, head series and RSS. Printed: a table per mode and
the exact/Sloth ratios (the issue's target: at most 0.85 x Sloth's CPU). Not part of
``make test`` or ``make bench``: it needs the prometheus binaries and a few minutes.
"""

from __future__ import annotations

import argparse
import random
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx2
from prometheus_server import (  # bench/prometheus_server.py, beside this script
    create_blocks,
    require_binaries,
    running_prometheus,
)

from watchkeeper.rules import Mode, generate
from watchkeeper.specs import load_text

EVALUATION_INTERVAL = "30s"
CYCLE_SECONDS = 30


def _spec(count: int) -> str:
    slos = "".join(
        f"""  - name: slo-{index}
    objective: 99.9
    sli:
      events:
        error_query: sum(rate(bench_requests_total{{slo="{index}",code="500"}}[{{{{.window}}}}]))
        total_query: sum(rate(bench_requests_total{{slo="{index}"}}[{{{{.window}}}}]))
    alerting:
      name: BenchBurn
"""
        for index in range(count)
    )
    return f'version: "prometheus/v1"\nservice: bench\nslos:\n{slos}'


def _openmetrics(path: Path, count: int, hours: int, end: int) -> None:
    rng = random.Random(7)
    start = end - hours * 3600
    with path.open("w") as out:
        out.write("# TYPE bench_requests counter\n")
        for index in range(count):
            good = bad = 0.0
            lines_good, lines_bad = [], []
            for timestamp in range(start, end, 60):
                requests = rng.randint(50, 150)
                errors = sum(rng.random() < 0.01 for _ in range(3)) if requests else 0
                good += requests - errors
                bad += errors
                lines_good.append(
                    f'bench_requests_total{{slo="{index}",code="200"}} {good} {timestamp}\n'
                )
                lines_bad.append(
                    f'bench_requests_total{{slo="{index}",code="500"}} {bad} {timestamp}\n'
                )
            out.writelines(lines_good)
            out.writelines(lines_bad)
        out.write("# EOF\n")


def _metrics(base: str) -> dict[str, float]:
    text = httpx2.get(f"{base}/metrics", timeout=10).text
    found: dict[str, float] = {"rule_seconds": 0.0, "iterations": 0.0}
    for line in text.splitlines():
        if line.startswith("#") or " " not in line:
            continue
        name, value = line.rsplit(" ", 1)
        if name == "process_cpu_seconds_total":
            found["cpu"] = float(value)
        elif name == "process_resident_memory_bytes":
            found["rss"] = float(value)
        elif name == "prometheus_tsdb_head_series":
            found["head_series"] = float(value)
        elif name.startswith("prometheus_rule_group_last_duration_seconds{"):
            found["rule_seconds"] += float(value)
        elif name.startswith("prometheus_rule_group_iterations_total{") and "alerts" not in name:
            found["iterations"] = max(found["iterations"], float(value))
    return found


@dataclass(frozen=True)
class Cost:
    """What one rule file cost Prometheus over the measured interval."""

    cpu_per_cycle: float
    rule_seconds_per_cycle: float
    head_series: float
    rss_mb: float
    rules: int


def _measure(rules: Path, blocks: Path, work: Path, measure: int) -> Cost:
    data = work / "data"
    shutil.copytree(blocks, data)
    config = work / "prometheus.yml"
    config.write_text(
        f"global:\n  evaluation_interval: {EVALUATION_INTERVAL}\nrule_files: [{rules}]\n"
    )
    with running_prometheus(data=data, config=config, log=work / "prometheus.log") as base:
        # warm-up: until every group has been evaluated a few times
        while _metrics(base)["iterations"] < 3:
            time.sleep(1)  # polling interval
        first = _metrics(base)
        measured_start = time.monotonic()
        time.sleep(measure)  # the measured interval itself
        second = _metrics(base)
        measured_end = time.monotonic()
    cycles = (measured_end - measured_start) / CYCLE_SECONDS
    rule_count = rules.read_text().count("\n  - record:") + rules.read_text().count("\n  - alert:")
    return Cost(
        cpu_per_cycle=(second["cpu"] - first["cpu"]) / cycles,
        rule_seconds_per_cycle=second["rule_seconds"],
        head_series=second.get("head_series", 0.0),
        rss_mb=second.get("rss", 0.0) / 1e6,
        rules=rule_count,
    )


def main() -> None:
    """Measure both modes on the same blocks and print the table and the ratios."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--slos", type=int, default=200)
    parser.add_argument("--hours", type=int, default=24)
    parser.add_argument("--measure", type=int, default=240)
    args = parser.parse_args()
    require_binaries()
    spec_set = load_text(_spec(args.slos), filename="bench.yaml")
    with tempfile.TemporaryDirectory(prefix="wk-rules-cost-") as temporary:
        root = Path(temporary)
        source = root / "history.om"
        _openmetrics(source, args.slos, args.hours, int(time.time()) - 60)
        blocks = root / "blocks"
        create_blocks(source, blocks)
        costs: dict[Mode, Cost] = {}
        for mode in (Mode.SLOTH, Mode.EXACT):
            rules = root / f"{mode}.yml"
            rules.write_text(generate(spec_set, mode=mode).files[0].text)
            work = root / f"run-{mode}"
            work.mkdir()
            costs[mode] = _measure(rules, blocks, work, args.measure)
    print(
        f"{args.slos} SLOs, {args.hours} h of history at 1/min, "
        f"evaluation every {EVALUATION_INTERVAL}"
    )
    print(
        f"{'mode':<8} {'rules':>7} {'CPU s/30s':>12} {'last group s':>13} "
        f"{'head series':>12} {'RSS MB':>8}"
    )
    for mode, cost in costs.items():
        print(
            f"{mode.value:<8} {cost.rules:>7} {cost.cpu_per_cycle:>12.3f} "
            f"{cost.rule_seconds_per_cycle:>13.3f} {cost.head_series:>12.0f} {cost.rss_mb:>8.1f}"
        )
    sloth, exact = costs[Mode.SLOTH], costs[Mode.EXACT]
    print(f"exact / sloth CPU: {exact.cpu_per_cycle / sloth.cpu_per_cycle:.2f} x (target <= 0.85)")
    print(
        "exact / sloth summed last group durations: "
        f"{exact.rule_seconds_per_cycle / sloth.rule_seconds_per_cycle:.2f} x "
        "(the exact long-window groups run every 2m, so this overstates their share)"
    )


if __name__ == "__main__":
    main()
