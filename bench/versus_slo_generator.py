"""Watchkeeper's Prometheus query mode versus slo-generator, on the same Prometheus and data.

    .venv/bin/python bench/versus_slo_generator.py [--slos 1000] [--hours 48] [--ahead 30]

N services get synthetic request counters (``bench_requests_total{service, code}``, one sample
a minute over the last ``--hours``; a base error rate, one to three outages each, a recent
outage for every fifth service, no traffic in the last 20 minutes for every fiftieth),
written as OpenMetrics and turned into blocks by ``promtool tsdb create-blocks-from
openmetrics``, served by Prometheus 2.42 on a loopback port. Nothing is scraped: the
history goes on ``--ahead`` minutes past the start, so whenever a query asks for "now"
during the run, Prometheus has samples up to then, as a live one would. Each service has
one SLO (objective 99 %, 99.5 % or 99.9 %), written twice:

- Watchkeeper: a native spec, ``source: prometheus``, good and total as
  ``sum(increase(...[{{.window}}]))``, a rolling 1d window; evaluated at one instant by the
  worker's path (``SourceEvaluator.evaluate``: every SLO's windows planned, all instant
  queries sent at once through PrometheusSource's pool of 8, then ``core.evaluation``), and
  again one SLO at a time with a pool of 1 (``evaluate_from``, the ``slo status`` path);
- slo-generator 2.6.0: its v2 YAML (backend ``prometheus``, method ``good_bad_ratio``,
  ``filter_good`` / ``filter_valid``) and an error budget policy with one step per window
  Watchkeeper reports (5m, 30m, 1h, 2h, 6h, 1d, 3d), loaded with its ``load_config`` and
  computed with ``slo_generator.compute.compute``: once with its HTTP client pinned to
  Watchkeeper's instant (the client it accepts as ``client=``, asking with ``time=``), once
  as shipped, where every query asks for Prometheus' "now" (its Prometheus backend does not
  pass the report's timestamp on); that run is compared with Watchkeeper evaluated at the
  whole second each SLO's reports are stamped with.

Both ask Prometheus the same 14 queries per SLO (good and total for 7 windows). Printed: the
wall time of each run and its ratio to Watchkeeper's worker path, then the largest absolute
difference per SLO and window between the two tools' SLIs, burn rates, error budget
remaining and event counts, and whether they agree on which windows have no data. Not part
of ``make test`` or ``make bench``: it needs the prometheus binaries and, at 1,000 SLOs,
a few minutes.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx2
import numpy as np
from prometheus_http_client import Prometheus as PrometheusHTTPClient
from prometheus_server import (  # bench/prometheus_server.py, beside this script
    create_blocks,
    require_binaries,
    running_prometheus,
)

from watchkeeper.core.duration import format_duration
from watchkeeper.core.evaluation import SLOStatus
from watchkeeper.core.slo import SLO
from watchkeeper.slo.figures import figures_from_status

# The worker's path takes its SLOs as these records; the bench builds them without a database.
from watchkeeper.slo.source_evaluator import PrometheusSLO, SourceEvaluator, SourceTickReport
from watchkeeper.slo.sourced import evaluate_from, windows_needed
from watchkeeper.sources.prometheus import PrometheusConfig, PrometheusSource
from watchkeeper.sources.registry import SourceRegistry
from watchkeeper.specs import load_text

# The windows Watchkeeper reports a burn rate for (core.windows.REPORTED_BURN_WINDOWS); the
# SLOs' alert windows fall among them, and the SLO window is the 1d one.
WINDOWS = tuple(timedelta(seconds=s) for s in (300, 1800, 3600, 7200, 6 * 3600, 86400, 3 * 86400))
SLO_WINDOW = timedelta(days=1)
OBJECTIVES = (0.99, 0.995, 0.999)
MINUTE = 60

Report = dict[str, Any]


# -- synthetic data ------------------------------------------------------------------------


def _service(index: int) -> str:
    return f"svc-{index:04d}"


def _objective(index: int) -> float:
    return OBJECTIVES[index % len(OBJECTIVES)]


def write_history(path: Path, count: int, *, hours: int, ahead: int, now: int, seed: int) -> None:
    """Counters of good and failed requests per service, one sample a minute, from ``hours``
    before ``now`` (a whole minute) to ``ahead`` minutes after it."""
    rng = np.random.default_rng(seed)
    past = hours * 60
    minutes = past + ahead
    times = (now + MINUTE * np.arange(-past + 1, ahead + 1)).tolist()
    with path.open("w") as out:
        out.write("# HELP bench_requests Requests served.\n# TYPE bench_requests counter\n")
        for index in range(count):
            requests = rng.poisson(rng.uniform(20, 200), minutes)
            error_probability = np.full(minutes, rng.uniform(0.0002, 0.003))
            for _ in range(int(rng.integers(1, 4))):
                length = int(rng.integers(5, 91))
                start = int(rng.integers(0, past - length))
                error_probability[start : start + length] = rng.uniform(0.02, 0.5)
            if index % 5 == 0:  # a recent outage: the short windows burn fast
                length = int(rng.integers(5, 40))
                start = past - length - int(rng.integers(0, 60))
                error_probability[start : start + length] = rng.uniform(0.05, 0.5)
            if index % 50 == 49:  # gone quiet: the 5m window has no data
                requests[past - 20 :] = 0
            errors = rng.binomial(requests, error_probability)
            counters = (("200", np.cumsum(requests - errors)), ("500", np.cumsum(errors)))
            for code, values in counters:
                series = f'bench_requests_total{{service="{_service(index)}",code="{code}"}}'
                out.writelines(
                    f"{series} {value} {moment}\n"
                    for value, moment in zip(values.tolist(), times, strict=True)
                )
        out.write("# EOF\n")


# -- the two tools' SLO definitions -------------------------------------------------------


def _good_selector(index: int) -> str:
    return f'bench_requests_total{{service="{_service(index)}",code!="500"}}'


def _valid_selector(index: int) -> str:
    return f'bench_requests_total{{service="{_service(index)}"}}'


def watchkeeper_spec(index: int) -> str:
    """One native SLO spec reading the counters from Prometheus."""
    return f"""apiVersion: watchkeeper/v1
kind: SLO
service: {_service(index)}
name: availability
objective: {_objective(index)}
window: {format_duration(SLO_WINDOW)}
sli:
  name: {_service(index)}-requests
  source: prometheus
  prometheus:
    good: sum(increase({_good_selector(index)}[{{{{.window}}}}]))
    total: sum(increase({_valid_selector(index)}[{{{{.window}}}}]))
alerting:
  windows:
    - {{severity: page, long: 1h, short: 5m, factor: 14.4}}
    - {{severity: page, long: 6h, short: 30m, factor: 6}}
    - {{severity: ticket, long: 1d, short: 2h, factor: 3}}
"""


def slo_generator_shared_config(url: str) -> str:
    """slo-generator's shared config: the Prometheus backend and one policy step per window."""
    steps = "".join(
        f"""      - name: {format_duration(window)}
        window: {int(window.total_seconds())}
        burn_rate_threshold: 1
        alert: false
        message_alert: burning faster than the budget allows
        message_ok: within budget
"""
        for window in WINDOWS
    )
    return (
        f"backends:\n  prometheus:\n    url: {url}\nexporters: {{}}\n"
        f"error_budget_policies:\n  default:\n    steps:\n{steps}"
    )


def slo_generator_config(index: int) -> str:
    """One SLO in slo-generator's v2 YAML, the same counters as the Watchkeeper spec."""
    return f"""apiVersion: sre.google.com/v2
kind: ServiceLevelObjective
metadata:
  name: {_service(index)}-availability
  labels: {{service_name: {_service(index)}, feature_name: requests, slo_name: availability}}
spec:
  description: Share of {_service(index)}'s requests that did not fail
  backend: prometheus
  method: good_bad_ratio
  exporters: []
  service_level_indicator:
    filter_good: '{_good_selector(index)}'
    filter_valid: '{_valid_selector(index)}'
  goal: {_objective(index)}
"""


def _import_slo_generator() -> tuple[Callable[..., list[Report]], Callable[..., Any]]:
    """slo-generator's ``compute`` and ``load_config``."""
    compute = importlib.import_module("slo_generator.compute").compute
    load_config = importlib.import_module("slo_generator.utils").load_config
    # Its reports and "no values" warnings are logged per SLO and step: keep the table clean.
    logging.getLogger("slo_generator").setLevel(logging.CRITICAL)
    return compute, load_config


class PinnedClient(PrometheusHTTPClient):
    """slo-generator's own HTTP client, asking every query at one fixed time and counting."""

    def __init__(self, url: str, at: float | None) -> None:
        super().__init__()
        self.url = url
        self.at = at
        self.queries = 0

    def query(self, **kwargs: Any) -> str:
        self.queries += 1
        if self.at is not None:
            kwargs["time"] = self.at
        answer: str = super().query(**kwargs)
        return answer


# -- runs ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    """One timed run of one tool over every SLO."""

    label: str
    seconds: float
    queries: int


def run_watchkeeper_batch(
    slos: list[SLO], url: str, at: datetime, *, concurrency: int
) -> tuple[Run, dict[str, Any], int]:
    """The worker's path; returns the run, each SLO's stored figures and the failures."""
    source = PrometheusSource(PrometheusConfig(name="prometheus", url=url, concurrency=concurrency))
    registry = SourceRegistry({"prometheus": source})
    items = [PrometheusSLO(number, slo.key, slo) for number, slo in enumerate(slos)]
    report = SourceTickReport()
    evaluator = SourceEvaluator(deadline=timedelta(minutes=30))
    started = time.perf_counter()
    figures, failures = evaluator.evaluate(items, registry, now=at, report=report)
    seconds = time.perf_counter() - started
    registry.close()
    for failure in failures[:3]:
        print(f"  watchkeeper failure: {failure.slo_key}: {failure.error}", file=sys.stderr)
    run = Run(f"watchkeeper: worker batch, pool of {concurrency}", seconds, report.queries)
    return run, {figure.slo_key: figure for figure in figures}, len(failures)


def run_watchkeeper_each(
    slos: list[SLO], url: str, at: datetime, *, concurrency: int
) -> tuple[Run, dict[str, SLOStatus]]:
    """One SLO after another through ``evaluate_from`` (what ``slo status`` does)."""
    source = PrometheusSource(PrometheusConfig(name="prometheus", url=url, concurrency=concurrency))
    started = time.perf_counter()
    statuses = {slo.key: evaluate_from(slo, source, at).status for slo in slos}
    seconds = time.perf_counter() - started
    source.close()
    queries = sum(len(source.instant_keys(slo, windows_needed(slo, at))) for slo in slos)
    label = f"watchkeeper: one SLO at a time, pool of {concurrency}"
    return Run(label, seconds, queries), statuses


def evaluate_at_stamps(
    slos: list[SLO], url: str, reports: dict[str, dict[str, Report]], *, default: float
) -> dict[str, SLOStatus]:
    """Each SLO evaluated at the ``timestamp`` of its slo-generator reports (``default`` when
    none of them is valid, as refused reports carry no timestamp)."""
    source = PrometheusSource(PrometheusConfig(name="prometheus", url=url))
    statuses: dict[str, SLOStatus] = {}
    for slo in slos:
        stamps = [r["timestamp"] for r in reports[_report_name(slo)].values() if r["valid"]]
        at = datetime.fromtimestamp(stamps[0] if stamps else default, UTC)
        statuses[slo.key] = evaluate_from(slo, source, at).status
    source.close()
    return statuses


def _report_name(slo: SLO) -> str:
    return f"{slo.service}-availability"


def run_slo_generator(
    compute: Callable[..., list[Report]],
    configs: list[dict[str, Any]],
    shared: dict[str, Any],
    url: str,
    *,
    at: float | None,
    label: str,
) -> tuple[Run, dict[str, dict[str, Report]]]:
    """``compute()`` for every SLO config; reports by SLO name, then by step name."""
    client = PinnedClient(url, at)
    started = time.perf_counter()
    results = [compute(config, shared, timestamp=at, client=client) for config in configs]
    seconds = time.perf_counter() - started
    reports = {
        config["metadata"]["name"]: {r["error_budget_policy_step_name"]: r for r in found}
        for config, found in zip(configs, results, strict=True)
    }
    return Run(label, seconds, client.queries), reports


# -- agreement -----------------------------------------------------------------------------


@dataclass
class Difference:
    """The largest absolute difference of one figure over every SLO and window compared."""

    name: str
    largest: float = 0.0
    where: str = ""
    compared: int = 0

    def add(self, ours: float, theirs: float, where: str) -> None:
        self.add_gap(abs(ours - theirs), where)

    def add_gap(self, gap: float, where: str) -> None:
        self.compared += 1
        if gap > self.largest or not self.where:
            self.largest, self.where = gap, where


@dataclass
class Agreement:
    """How far slo-generator's reports are from Watchkeeper's statuses."""

    sli: Difference
    burn_rate: Difference
    burn_rate_unrounded: Difference
    remaining: Difference
    events: Difference
    no_data_both: int = 0
    no_data_ours_only: int = 0
    # Reports slo-generator refused where Watchkeeper has figures, by the reason it gave.
    refused_theirs_only: Counter[str] = field(default_factory=Counter)


def compare(
    slos: list[SLO], statuses: dict[str, SLOStatus], reports: dict[str, dict[str, Report]]
) -> Agreement:
    """Per SLO and window: SLI, burn rate, events; per SLO: budget remaining over 1d."""
    agreement = Agreement(
        Difference("SLI per window"),
        Difference("burn rate per window (theirs rounded to 0.1)"),
        Difference("burn rate per window, from their SLI"),
        Difference("error budget remaining, 1d (share of budget)"),
        Difference("good and total events per window (theirs truncated)"),
    )
    for slo in slos:
        status = statuses[slo.key]
        steps = reports[_report_name(slo)]
        for window in WINDOWS:
            step = format_duration(window)
            where = f"{slo.key} {step}"
            report = steps[step]
            counts = status.window_counts[window]
            ours_no_data = counts.total <= 0
            theirs_no_data = not report["valid"]
            if ours_no_data or theirs_no_data:
                agreement.no_data_both += ours_no_data and theirs_no_data
                agreement.no_data_ours_only += ours_no_data and not theirs_no_data
                if theirs_no_data and not ours_no_data:
                    reason = " | ".join(report["errors"]).split("(", 1)[0].strip()
                    agreement.refused_theirs_only[reason] += 1
                continue
            sli = counts.good / counts.total
            burn = status.burn_rates[window]
            assert burn is not None
            agreement.sli.add(sli, report["sli_measurement"], where)
            agreement.burn_rate.add(burn, report["error_budget_burn_rate"], where)
            agreement.burn_rate_unrounded.add(
                burn, (1 - report["sli_measurement"]) / (1 - slo.objective), where
            )
            for ours, theirs in (
                (counts.good, report["good_events_count"]),
                (counts.total, report["events_count"]),
            ):
                agreement.events.add(ours, theirs, where)
            if window == SLO_WINDOW:
                assert status.error_budget_remaining is not None
                agreement.remaining.add(
                    status.error_budget_remaining,
                    report["error_budget_remaining_minutes"] / report["error_budget_minutes"],
                    slo.key,
                )
    return agreement


def _same_figures(statuses: dict[str, SLOStatus], slos: list[SLO], batch: dict[str, Any]) -> bool:
    """Whether the worker's batch stored exactly what one-at-a-time evaluation computed."""
    for number, slo in enumerate(slos):
        expected = figures_from_status(number, slo.objective, statuses[slo.key])
        if batch.get(slo.key) != expected:
            return False
    return True


# -- the report ----------------------------------------------------------------------------


def _print_runs(runs: Iterable[Run], baseline: Run) -> None:
    print(f"{'run':<52} {'queries':>8} {'seconds':>9} {'x worker':>9}")
    for run in runs:
        print(
            f"{run.label:<52} {run.queries:>8} {run.seconds:>9.2f} "
            f"{run.seconds / baseline.seconds:>9.1f}"
        )


def _print_agreement(pinned: Agreement, shipped: Agreement) -> None:
    print(f"\n{'max |difference| per SLO and window':<52} {'pinned time':>12} {'as shipped':>12}")
    rows = zip(
        (pinned.sli, pinned.burn_rate, pinned.burn_rate_unrounded, pinned.remaining),
        (shipped.sli, shipped.burn_rate, shipped.burn_rate_unrounded, shipped.remaining),
        strict=True,
    )
    for ours, theirs in rows:
        print(f"{ours.name:<52} {ours.largest:>12.2e} {theirs.largest:>12.2e}")
    print(
        f"{pinned.events.name:<52} {pinned.events.largest:>12.2e} {shipped.events.largest:>12.2e}"
    )
    for label, agreement in (("pinned time", pinned), ("as shipped", shipped)):
        print(
            f"{label}: {agreement.sli.compared} windows compared; no data in both "
            f"{agreement.no_data_both}, only Watchkeeper {agreement.no_data_ours_only}; "
            f"largest SLI gap at {agreement.sli.where}, burn rate at "
            f"{agreement.burn_rate_unrounded.where}"
        )
        for reason, count in agreement.refused_theirs_only.most_common():
            print(
                f"  slo-generator refused {count} report(s) Watchkeeper has figures for: {reason}"
            )


def main() -> None:
    """Build the data, run both tools against one Prometheus, print times and agreement."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--slos", type=int, default=1000, help="how many SLOs (services)")
    parser.add_argument("--hours", type=int, default=48, help="hours of history")
    parser.add_argument(
        "--ahead", type=int, default=30, help="minutes of samples past the start (for 'now')"
    )
    parser.add_argument("--seed", type=int, default=7, help="seed of the synthetic traffic")
    args = parser.parse_args()
    require_binaries()
    compute, load_config = _import_slo_generator()
    # One file per SLO, as a team would keep them (the loader bounds the nodes of one file).
    slos = [
        slo
        for index in range(args.slos)
        for slo in load_text(watchkeeper_spec(index), filename=f"{_service(index)}.yaml").slos
    ]
    with tempfile.TemporaryDirectory(prefix="wk-slo-generator-") as temporary:
        root = Path(temporary)
        now = int(time.time()) // MINUTE * MINUTE
        started = time.perf_counter()
        write_history(
            root / "history.om",
            args.slos,
            hours=args.hours,
            ahead=args.ahead,
            now=now,
            seed=args.seed,
        )
        create_blocks(root / "history.om", root / "data")
        (root / "history.om").unlink()
        print(f"history written in {time.perf_counter() - started:.0f} s", file=sys.stderr)
        config = root / "prometheus.yml"
        config.write_text("global:\n  scrape_interval: 1m\n")
        with running_prometheus(data=root / "data", config=config, log=root / "prom.log") as url:
            # Warm-up: every series read once, so neither tool pays for a cold page cache.
            httpx2.post(
                f"{url}/api/v1/query",
                data={"query": "sum(increase(bench_requests_total[3d]))"},
                timeout=120,
            ).raise_for_status()
            shared = load_config(slo_generator_shared_config(url))
            configs = [load_config(slo_generator_config(index)) for index in range(args.slos)]
            at = float(int(time.time()))
            moment = datetime.fromtimestamp(at, UTC)
            print("Watchkeeper ...", file=sys.stderr)
            batch_run, batch, failures = run_watchkeeper_batch(slos, url, moment, concurrency=8)
            each_run, statuses = run_watchkeeper_each(slos, url, moment, concurrency=1)
            print("slo-generator, pinned time ...", file=sys.stderr)
            pinned_run, pinned = run_slo_generator(
                compute, configs, shared, url, at=at, label="slo-generator: compute(), time pinned"
            )
            print("slo-generator, as shipped ...", file=sys.stderr)
            shipped_start = time.time()
            shipped_run, shipped = run_slo_generator(
                compute, configs, shared, url, at=None, label="slo-generator: compute(), as shipped"
            )
            shipped_end = time.time()
            # Watchkeeper at the time slo-generator stamped on each SLO's reports.
            shipped_statuses = evaluate_at_stamps(slos, url, shipped, default=shipped_start)
    print(
        f"\n{args.slos} SLOs x {len(WINDOWS)} windows, {args.hours} h of history at 1/min, "
        "Prometheus 2.42 on loopback"
    )
    _print_runs((batch_run, each_run, pinned_run, shipped_run), batch_run)
    print(
        f"Watchkeeper failures: {failures}; worker batch figures equal one-at-a-time: "
        f"{'yes' if _same_figures(statuses, slos, batch) else 'NO'}"
    )
    print(
        "slo-generator / Watchkeeper, like for like (both one query at a time): "
        f"{pinned_run.seconds / each_run.seconds:.1f} x; against the worker path: "
        f"{pinned_run.seconds / batch_run.seconds:.1f} x"
    )
    pinned_agreement = compare(slos, statuses, pinned)
    shipped_agreement = compare(slos, shipped_statuses, shipped)
    _print_agreement(pinned_agreement, shipped_agreement)
    print(
        "(as shipped, slo-generator's queries asked for 'now' over "
        f"{shipped_end - shipped_start:.0f} s of wall time; Watchkeeper was evaluated at the "
        "whole second each SLO's reports are stamped with)"
    )


if __name__ == "__main__":
    main()
