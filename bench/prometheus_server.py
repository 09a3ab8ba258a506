"""A throwaway Prometheus 2.42 for the benchmarks: history as TSDB blocks, a loopback server.

History is written as OpenMetrics text and turned into blocks by ``promtool tsdb
create-blocks-from openmetrics``; :func:`running_prometheus` starts ``prometheus`` on a free
127.0.0.1 port with a given data directory and stops it on leaving.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import httpx2
from latency import stop  # bench/latency.py, beside this script

READY_DEADLINE_SECONDS = 120


def require_binaries() -> None:
    """Exit with a clear message when prometheus or promtool is missing."""
    for binary in ("prometheus", "promtool"):
        if shutil.which(binary) is None:
            raise SystemExit(f"{binary} is not installed (Debian package prometheus)")


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def create_blocks(openmetrics: Path, blocks: Path) -> None:
    """Turn an OpenMetrics file into TSDB blocks under ``blocks`` with promtool."""
    result = subprocess.run(
        ["promtool", "tsdb", "create-blocks-from", "openmetrics", str(openmetrics), str(blocks)],
        check=False,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise SystemExit(f"promtool could not create blocks: {result.stderr.strip()[-500:]}")


@contextmanager
def running_prometheus(
    *, data: Path, config: Path, log: Path, extra_args: Sequence[str] = ()
) -> Iterator[str]:
    """Run Prometheus on a free loopback port over ``data``; yields its base URL once ready."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with log.open("wb") as log_file:
        process = subprocess.Popen(
            [
                "prometheus",
                f"--config.file={config}",
                f"--storage.tsdb.path={data}",
                f"--web.listen-address=127.0.0.1:{port}",
                "--log.level=warn",
                *extra_args,
            ],
            stdout=subprocess.DEVNULL,
            stderr=log_file,
        )
    try:
        deadline = time.monotonic() + READY_DEADLINE_SECONDS
        while True:
            try:
                if httpx2.get(f"{base}/-/ready", timeout=2).status_code == 200:
                    break
            except httpx2.HTTPError:
                pass
            if time.monotonic() > deadline or process.poll() is not None:
                raise SystemExit(f"prometheus did not start: see {log}")
            time.sleep(0.2)  # polling interval
        yield base
    finally:
        stop(process)
