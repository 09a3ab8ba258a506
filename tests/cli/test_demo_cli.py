"""``watchkeeper demo`` as a newcomer runs it: the commands it prints work as printed.

The demo runs as a real process (the installed ``watchkeeper`` script) on a free loopback
port. Its printed commands are run by a shell in another directory, with another data dir
in the environment, as a second terminal would run them.
"""

from __future__ import annotations

import json
import os
import queue
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

WATCHKEEPER = Path(sys.executable).with_name("watchkeeper")
STARTUP_SECONDS = 90.0

pytestmark = pytest.mark.skipif(
    not WATCHKEEPER.is_file(), reason=f"no installed watchkeeper script at {WATCHKEEPER}"
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Demo:
    """A running demo process and what it printed so far."""

    process: subprocess.Popen[str]
    port: int
    lines: list[str] = field(default_factory=list)
    _queue: queue.Queue[str | None] = field(default_factory=queue.Queue)
    _reader: threading.Thread | None = None

    def start_reading(self) -> None:
        assert self.process.stdout is not None
        stream = self.process.stdout

        def pump() -> None:
            for line in stream:
                self._queue.put(line.rstrip("\n"))
            self._queue.put(None)

        self._reader = threading.Thread(target=pump, daemon=True)
        self._reader.start()

    def stop_reading(self) -> None:
        """Wait for the output to end (the process has ended) and close it."""
        if self._reader is not None:
            self._reader.join(timeout=10)

    def read_until(self, predicate: str, deadline: float) -> None:
        """Collect printed lines until one contains ``predicate`` (fails at the deadline)."""
        while not any(predicate in line for line in self.lines):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                pytest.fail(f"demo did not print {predicate!r}; printed: {self.lines}")
            try:
                line = self._queue.get(timeout=remaining)
            except queue.Empty:
                continue
            if line is None:
                pytest.fail(f"demo ended early ({self.process.wait()}): {self.lines}")
            self.lines.append(line)

    def commands(self) -> list[str]:
        """The indented lines of the 'Try, in another terminal' block."""
        start = self.lines.index("Try, in another terminal:") + 1
        block: list[str] = []
        for line in self.lines[start:]:
            if not line.startswith("  "):
                break
            block.append(line.strip())
        return block

    def wait_until_serving(self, deadline: float) -> None:
        url = f"http://127.0.0.1:{self.port}/healthz"
        while True:
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                pass
            if time.monotonic() > deadline or self.process.poll() is not None:
                pytest.fail(f"demo never answered on {url}")
            time.sleep(0.2)  # polling a starting server, with a deadline


def environment(tmp_path: Path) -> dict[str, str]:
    """This process's environment without WATCHKEEPER_* settings, temp files in ``tmp_path``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WATCHKEEPER_")}
    return env | {"TMPDIR": str(tmp_path), "PYTHONUNBUFFERED": "1", "COLUMNS": "80"}


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[Demo]:
    port = free_port()
    argv = [str(WATCHKEEPER), "demo", "--port", str(port)]
    argv += ["--history-days", "1", "--fault-after", "3600"]
    with (
        (tmp_path / "demo.stderr").open("w") as stderr,
        subprocess.Popen(
            argv,
            cwd=tmp_path,
            env=environment(tmp_path),
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        ) as process,
    ):
        running = Demo(process, port)
        running.start_reading()
        try:
            yield running
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=10)
            running.stop_reading()


def test_the_printed_commands_work_in_another_terminal(demo: Demo, tmp_path: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    demo.read_until("curl ", deadline)
    commands = demo.commands()
    export, *runs = commands
    assert export.startswith("export WATCHKEEPER_DATABASE_URL=sqlite:///")
    database = Path(shlex.split(export)[1].split("=", 1)[1].removeprefix("sqlite:///"))
    assert database.is_file()
    assert database.parent.parent == tmp_path  # the demo's own temporary directory
    demo.wait_until_serving(deadline)
    # A second terminal: another directory, and a data dir that is not the demo's.
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = environment(tmp_path) | {"WATCHKEEPER_DATA_DIR": str(elsewhere / "data")}
    outputs: dict[str, str] = {}
    for command in runs:
        done = subprocess.run(
            ["bash", "-c", f"{export}\n{command}"],
            cwd=elsewhere,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, (command, done.stdout, done.stderr)
        outputs[command] = done.stdout
    assert [c.split()[0] for c in runs] == [str(WATCHKEEPER)] * 3 + ["curl"]
    listed, status, gate, curl = (outputs[c] for c in runs)
    assert "checkout/availability" in listed and "checkout/latency" in listed
    assert "events" in status and "good of" in status
    assert "ALLOW deploy of checkout" in gate
    answer = json.loads(curl)
    assert (answer["service"], answer["decision"]) == ("checkout", "allow")
    assert not (elsewhere / "data").exists()  # nothing read ./data or the data dir
    demo.process.send_signal(signal.SIGINT)
    assert demo.process.wait(timeout=30) == 0
    demo.read_until("demo stopped", time.monotonic() + 10)
    assert not database.parent.exists()  # the temporary database is removed


def test_sigterm_stops_the_demo_and_removes_its_database(demo: Demo) -> None:
    demo.read_until("curl ", time.monotonic() + STARTUP_SECONDS)
    export = demo.commands()[0]
    database = Path(export.split("=", 1)[1].removeprefix("sqlite:///"))
    demo.wait_until_serving(time.monotonic() + STARTUP_SECONDS)
    demo.process.send_signal(signal.SIGTERM)
    assert demo.process.wait(timeout=30) == 0
    assert not database.parent.exists()
