"""Latency figures shared by the benchmarks: quantiles and the wake-up vs polling table."""

from __future__ import annotations

import statistics
import subprocess
import sys
from collections.abc import Callable


def percentile(values: list[float], fraction: float) -> float:
    """The ``fraction`` quantile (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def wake_versus_poll(
    measure: Callable[[bool, int], list[float]], count: int, *, what: str, target_p99: float
) -> tuple[float, int]:
    """Run ``measure(wake, count)`` with the wake-up on commit, then polling alone (the
    baseline); print their table, the p99 against ``target_p99`` and the ratio of medians.
    Returns (p99 with the wake-up, how many were measured)."""
    print("with wake-up on commit ...", file=sys.stderr)
    woken = measure(True, count)
    print("polling alone (baseline) ...", file=sys.stderr)
    polled = measure(False, max(20, count // 5))
    print(f"{'mode':<22} {'n':>5} {'p50 ms':>9} {'p99 ms':>9} {'max ms':>9}")
    print("-" * 58)
    for name, values in (("wake-up on commit", woken), ("poll every 0.5 s", polled)):
        print(
            f"{name:<22} {len(values):>5} {statistics.median(values) * 1000:>9.1f} "
            f"{percentile(values, 0.99) * 1000:>9.1f} {max(values) * 1000:>9.1f}"
        )
    p99 = percentile(woken, 0.99)
    verdict = "ok" if p99 < target_p99 else "MISSED"
    print(f"\n{what}, p99 {p99:.3f} s (target < {target_p99} s): {verdict}")
    ratio = statistics.median(polled) / statistics.median(woken)
    print(f"median latency, polling / wake-up: {ratio:.1f}x")
    return p99, len(woken)


def stop(process: subprocess.Popen[bytes]) -> None:
    """Terminate a server started by a benchmark, killing it if it does not stop in 10 s."""
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
