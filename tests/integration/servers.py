"""Real Prometheus and Alertmanager processes for integration tests: find, start, poll, stop.

Each server listens on a free 127.0.0.1 port with a data directory under the test's temp
dir; its stderr goes to a log file the test can show when the server misbehaves.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx2
import pytest

from tests.live_server import free_port
from watchkeeper.config import Settings

ALERTMANAGER = "prometheus-alertmanager"
PROMETHEUS = "prometheus"
DEADLINE_SECONDS = 60
STOP_SECONDS = 10


def binary(name: str, package: str) -> str:
    """The path of ``name``; skips the test when it is missing, or fails it when integration
    components are required (WATCHKEEPER_REQUIRE_INTEGRATION=1)."""
    found = shutil.which(name) or (
        f"/usr/bin/{name}" if Path(f"/usr/bin/{name}").exists() else None
    )
    if found is None:
        if Settings().require_integration:
            pytest.fail(f"{name} is required but not installed")
        pytest.skip(f"{name} is not installed (Debian package {package})")
    return found


def alertmanager_binary() -> str:
    """The Alertmanager 0.25 binary (Debian package prometheus-alertmanager)."""
    return binary(ALERTMANAGER, "prometheus-alertmanager")


def prometheus_binary() -> str:
    """The Prometheus 2.42 binary (Debian package prometheus)."""
    return binary(PROMETHEUS, "prometheus")


def poll(what: str, check: Callable[[], Any], deadline: float = DEADLINE_SECONDS) -> Any:
    """``check()``'s first true result, tried until ``deadline`` seconds have passed."""
    end = time.monotonic() + deadline
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)  # polling interval, not a wait for work


def start_alertmanager(
    config: Path, storage: Path, log: Path
) -> tuple[subprocess.Popen[bytes], str]:
    """Alertmanager on a free loopback port, without gossip; (process, base URL)."""
    port = free_port()
    with log.open("wb") as log_file:
        process = subprocess.Popen(
            [
                alertmanager_binary(),
                f"--config.file={config}",
                f"--storage.path={storage}",
                f"--web.listen-address=127.0.0.1:{port}",
                "--cluster.listen-address=",
                "--log.level=warn",
            ],
            stdout=subprocess.DEVNULL,
            stderr=log_file,
        )
    return process, f"http://127.0.0.1:{port}"


def start_prometheus(config: Path, storage: Path, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    """Prometheus on a free loopback port with its TSDB in ``storage``; (process, base URL)."""
    port = free_port()
    with log.open("wb") as log_file:
        process = subprocess.Popen(
            [
                prometheus_binary(),
                f"--config.file={config}",
                f"--storage.tsdb.path={storage}",
                f"--web.listen-address=127.0.0.1:{port}",
                "--log.level=warn",
            ],
            stdout=subprocess.DEVNULL,
            stderr=log_file,
        )
    return process, f"http://127.0.0.1:{port}"


def wait_ready(
    http: httpx2.Client, process: subprocess.Popen[bytes], base: str, log: Path, what: str
) -> None:
    """Poll ``base``/-/ready (Prometheus and Alertmanager both answer it) until it is 200."""

    def ready() -> bool:
        if process.poll() is not None:
            raise AssertionError(f"{what} exited: {log.read_text()}")
        try:
            return http.get(f"{base}/-/ready").status_code == 200
        except httpx2.TransportError:
            return False

    poll(f"{what} to start", ready)


def stop(process: subprocess.Popen[bytes]) -> None:
    """Terminate ``process`` and wait for it; kill it if it does not stop in time."""
    process.terminate()
    try:
        process.wait(timeout=STOP_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
