"""Run every benchmark in turn (``make bench``); each prints its own table and ratios."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCHMARKS = (
    "evaluate.py",
    "ingest.py",
    "intake.py",
    "notify_latency.py",
    "oncall.py",
    "escalation.py",
    "alert_latency.py",
    "backtest.py",
    "pages.py",
)


def main() -> None:
    """Run the benchmarks one after another; exit non-zero if any fails."""
    here = Path(__file__).parent
    failed = []
    for name in BENCHMARKS:
        print(f"\n=== bench/{name} ===", flush=True)
        result = subprocess.run([sys.executable, str(here / name), *sys.argv[1:]], check=False)
        if result.returncode != 0:
            failed.append(name)
    if failed:
        raise SystemExit(f"failed: {', '.join(failed)}")


if __name__ == "__main__":
    main()
