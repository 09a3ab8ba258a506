"""The README's first-SLO walk-through, run as a newcomer would type it."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from watchkeeper.app import create_app
from watchkeeper.cli.main import app
from watchkeeper.config import Settings

README = Path(__file__).resolve().parent.parent / "README.md"
WATCHKEEPER = ".venv/bin/watchkeeper "


def section(title: str) -> str:
    text = README.read_text()
    start = text.index(f"## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end > 0 else len(text)]


def blocks(text: str, language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", text, flags=re.DOTALL)


def commands(block: str) -> list[str]:
    """Shell lines of a block, continuation lines joined."""
    return [line for line in block.replace("\\\n", " ").splitlines() if line.strip()]


def test_the_first_slo_walk_through(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    guide = section("A first SLO")
    [spec] = blocks(guide, "yaml")
    path = tmp_path / spec.splitlines()[0].removeprefix("# ")
    path.parent.mkdir(parents=True)
    path.write_text(spec)
    monkeypatch.chdir(tmp_path)  # the guide's relative paths: slos/, events.csv, ./data
    env = {"WATCHKEEPER_DATA_DIR": str(tmp_path / "data"), "WATCHKEEPER_DATABASE_URL": ""}
    outcomes: list[tuple[str, int, str]] = []
    token = ""
    walk_through, serving, sending = blocks(guide, "sh")
    for line in commands(walk_through) + commands(serving):
        if line.startswith(WATCHKEEPER):
            args = shlex.split(line.removeprefix(WATCHKEEPER), comments=True)
            if args[0] == "serve":
                continue  # the HTTP step is checked below against the same database
            if args[:2] == ["token", "create"]:
                args.append("--json")
            result = CliRunner().invoke(app, args, env=env)
            assert "Traceback" not in result.output
            outcomes.append((" ".join(args), result.exit_code, result.stdout))
            if args[:2] == ["token", "create"]:
                token = json.loads(result.stdout)["token"]
        else:  # plain shell: writing the events file
            done = subprocess.run(["bash", "-c", line], cwd=tmp_path, capture_output=True)
            assert done.returncode == 0, (line, done.stderr)
    codes = {command: code for command, code, _ in outcomes}
    denied = "gate --service checkout"
    rollback = "gate --service checkout --change-type rollback"
    assert codes.pop(denied) == 1  # the policy at work: the budget is spent
    assert codes.pop(rollback) == 0
    assert set(codes.values()) == {0}, outcomes
    output = {command: stdout for command, _, stdout in outcomes}
    assert "DENY deploy of checkout" in output[denied]
    assert "budget-exhausted" in output[denied]
    assert "exempt from rule budget-exhausted" in " ".join(output[rollback].split())
    assert token.startswith("wk_")

    # The curl line: the same request, with the token the guide just created.
    [curl] = commands(sending)
    words = shlex.split(curl)
    assert words[:4] == ["curl", "-sS", "-X", "POST"]
    url = words[4].removeprefix("http://127.0.0.1:8080")
    headers = dict(words[i + 1].split(": ", 1) for i, word in enumerate(words) if word == "-H")
    assert headers["Authorization"] == "Bearer wk_..."
    headers["Authorization"] = f"Bearer {token}"
    body = words[words.index("-d") + 1]
    with TestClient(create_app(Settings(data_dir=tmp_path / "data"))) as client:
        response = client.post(url, content=body, headers=headers)
        assert (response.status_code, response.json()) == (200, {"accepted": 1, "buckets": 1})
        # The ingest role sends events and nothing else.
        gate = client.get("/api/v1/gate", params={"service": "checkout"}, headers=headers)
        assert gate.status_code == 403
        client.app.state.engine.dispose()  # type: ignore[attr-defined]
