"""The commands the demo prints for a second terminal work as printed, once it has paged."""

from __future__ import annotations

import shlex
from datetime import timedelta
from pathlib import Path

import pytest

from tests.cli_runner import invoke, upgraded
from tests.slo.scenario import AT
from watchkeeper.cli import demo
from watchkeeper.config import Settings
from watchkeeper.db import make_engine, make_session_factory, session_scope
from watchkeeper.demo.simulator import Profile, Simulator
from watchkeeper.flows.demo import prepare
from watchkeeper.worker import Worker


def _page_the_demo(data_dir: Path) -> None:
    """The demo's data, six minutes of traffic with the fault, and the worker's ticks."""
    settings = Settings(data_dir=data_dir, run_worker_in_process=False)
    engine = make_engine(settings.resolved_database_url())
    factory = make_session_factory(engine)
    start = AT - timedelta(minutes=6)
    try:
        with session_scope(factory) as session:
            prepare(session, now=start, history_days=1)
        simulator = Simulator(
            factory, profile=Profile(), fault_after=timedelta(minutes=1), clock=lambda: start
        )
        for second in range(6 * 60):
            simulator.send_second(start + timedelta(seconds=second))
        worker = Worker(settings, factory)
        worker.run_once(AT)
        assert worker.incidents_once(AT + timedelta(seconds=2))
    finally:
        engine.dispose()


def test_the_printed_ack_commands_work_as_printed(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    upgraded(data_dir)
    _page_the_demo(data_dir)
    demo._print_welcome(
        database_url="sqlite:///unused.db",
        base_url="http://127.0.0.1:8080",
        token="wk_example",
        oncall_user="alex",
        escalation_user="sam",
        fault_after=60,
        logins=(("alex", "printed-password", "editor"),),
    )
    printed = capsys.readouterr().out.splitlines()
    assert "  sign in as alex   password printed-password   (editor)" in printed
    start = printed.index("Once the page has printed:") + 1
    commands = []
    for line in printed[start:]:
        if not line.strip():
            break
        words = shlex.split(line, comments=True)
        assert words[0].endswith("watchkeeper")
        commands.append(words[1:])
    assert ["alert", "ack", "1", "--as", "alex"] in commands
    outputs = {}
    for words in commands:
        result = invoke(*words, data_dir=data_dir)
        assert result.exit_code == 0, (words, result.output)
        outputs[" ".join(words[:2])] = result.output
    assert "alert group 1 is acknowledged" in outputs["alert ack"]
    assert "incident #1 acknowledged by alex" in outputs["incident ack"]
    assert "commander: alex" in outputs["incident show"]
    # The acknowledgement is alex's, in the group's log.
    shown = invoke("alert", "show", "1", "--json", data_dir=data_dir)
    assert '"actor": "alex"' in shown.output
