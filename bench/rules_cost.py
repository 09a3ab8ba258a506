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
import re
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx2
import yaml
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


# Sloth's 5-minute error ratio, the record its period SLI averages over 30 days: a Prometheus
# that has run Sloth's rules holds its history, so the bench writes that history too.
SLOTH_RATIO = "slo:sli_error:ratio_rate5m"
SLOTH_RATIO_STEP = 30  # Sloth's rules are evaluated every 30 s here


def _sloth_ratios(index: int, start: int, end: int, bad: list[float], total: list[float]) -> str:
    """What ``sum(rate(errors[5m])) / sum(rate(requests[5m]))`` recorded every 30 s over the
    history: both counters have samples at the same instants (one a minute from ``start``),
    so the rates' extrapolation cancels and the ratio is that of the increases between the
    first and last samples in ``[t - 5m, t]``."""
    labels = f'sloth_id="bench-slo-{index}",sloth_service="bench",sloth_slo="slo-{index}"'
    lines = []
    for t in range(start + 300, end, SLOTH_RATIO_STEP):
        high = min((t - start) // 60, len(total) - 1)
        low = -(-(t - 300 - start) // 60)
        if high <= low or total[high] == total[low]:
            continue
        ratio = (bad[high] - bad[low]) / (total[high] - total[low])
        lines.append(f'{SLOTH_RATIO}{{{labels},sloth_window="5m"}} {ratio!r} {t}\n')
    return "".join(lines)


def _openmetrics(path: Path, count: int, hours: int, end: int, *, sloth_history: bool) -> None:
    """Request counters at one sample a minute and, with ``sloth_history``, the 5-minute ratio
    Sloth's rules would have recorded from them."""
    rng = random.Random(7)
    start = end - hours * 3600
    ratios = path.with_suffix(".ratios")
    with path.open("w") as out, ratios.open("w") as ratio_out:
        out.write("# TYPE bench_requests counter\n")
        for index in range(count):
            good = bad = 0.0
            lines_good, lines_bad = [], []
            bad_seen, total_seen = [], []
            for timestamp in range(start, end, 60):
                requests = rng.randint(50, 150)
                errors = sum(rng.random() < 0.01 for _ in range(3)) if requests else 0
                good += requests - errors
                bad += errors
                bad_seen.append(bad)
                total_seen.append(good + bad)
                lines_good.append(
                    f'bench_requests_total{{slo="{index}",code="200"}} {good} {timestamp}\n'
                )
                lines_bad.append(
                    f'bench_requests_total{{slo="{index}",code="500"}} {bad} {timestamp}\n'
                )
            out.writelines(lines_good)
            out.writelines(lines_bad)
            if sloth_history:
                ratio_out.write(_sloth_ratios(index, start, end, bad_seen, total_seen))
        # One metric family after the other, as OpenMetrics wants them.
        if sloth_history:
            out.write(f"# TYPE {SLOTH_RATIO} gauge\n")
            ratio_out.close()
            with ratios.open() as written:
                shutil.copyfileobj(written, out)
        out.write("# EOF\n")
    ratios.unlink()


# A selector read over a range: a metric name, optional matchers, then ``[``.
RANGED_SELECTOR = re.compile(r"([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(?:\{[^}]*\})?\s*\[")


def ranged_records(text: str) -> str | None:
    """The rule file of the recording rules in ``text`` that some rule reads over a range
    (``name{...}[30d]``), whose own history a long-running Prometheus would hold; None when
    there are none."""
    groups = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))["groups"]
    ranged = {
        match.group(1)
        for group in groups
        for rule in group["rules"]
        for match in RANGED_SELECTOR.finditer(str(rule["expr"]))
    }
    kept = []
    for group in groups:
        rules = [rule for rule in group["rules"] if rule.get("record") in ranged]
        if rules:
            kept.append({**group, "rules": rules})
    return yaml.safe_dump({"groups": kept}, sort_keys=False) if kept else None


def check_history_covers(rules_text: str, *, fresh: bool) -> None:
    """Exit unless the written history holds every record these rules read over a range."""
    ranged = ranged_records(rules_text)
    names = set() if ranged is None else set(re.findall(r"- record: (\S+)", ranged))
    missing = names - {SLOTH_RATIO}
    if missing and not fresh:
        raise SystemExit(f"the bench writes no history for {sorted(missing)}")


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


def _measure(rules: Path, data: Path, work: Path, measure: int) -> Cost:
    config = work / "prometheus.yml"
    config.write_text(
        f"global:\n  evaluation_interval: {EVALUATION_INTERVAL}\nrule_files: [{rules}]\n"
    )
    with running_prometheus(data=data, config=config, log=work / "prometheus.log") as base:
        # warm-up: until every group has been evaluated a few times
        while _metrics(base)["iterations"] < 3:
            time.sleep(1)  # polling interval
        first = _metrics(base)
        history = httpx2.get(
            f"{base}/api/v1/query",
            params={"query": f"sum(count_over_time({SLOTH_RATIO}[30d]))"},
            timeout=60,
        ).json()["data"]["result"]
        print(
            f"{rules.stem}: {float(history[0]['value'][1]) if history else 0:,.0f} samples of "
            f"{SLOTH_RATIO} in the last 30 days"
        )
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
    parser.add_argument(
        "--fresh",
        action="store_true",
        help="no history of Sloth's recorded 5m ratios (a Prometheus that has just started)",
    )
    args = parser.parse_args()
    require_binaries()
    spec_set = load_text(_spec(args.slos), filename="bench.yaml")
    with tempfile.TemporaryDirectory(prefix="wk-rules-cost-") as temporary:
        root = Path(temporary)
        source = root / "history.om"
        end = int(time.time()) - 60
        _openmetrics(source, args.slos, args.hours, end, sloth_history=not args.fresh)
        blocks = root / "blocks"
        create_blocks(source, blocks)
        costs: dict[Mode, Cost] = {}
        for mode in (Mode.SLOTH, Mode.EXACT):
            rules = root / f"{mode}.yml"
            rules.write_text(generate(spec_set, mode=mode).files[0].text)
            work = root / f"run-{mode}"
            work.mkdir()
            check_history_covers(rules.read_text(), fresh=args.fresh)
            data = work / "data"
            shutil.copytree(blocks, data)
            costs[mode] = _measure(rules, data, work, args.measure)
    print(
        f"{args.slos} SLOs, {args.hours} h of history at 1/min, "
        f"evaluation every {EVALUATION_INTERVAL}, "
        + ("no history of the records" if args.fresh else f"with the history of {SLOTH_RATIO}")
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
