"""docs/incident-response.md's walkthrough, run command by command as a reader pastes it.

The ``watchkeeper`` lines run in-process with the CLI runner, the ``curl`` lines against the
same app and database through a test client (the guide's ``watchkeeper serve``), shell
variables set by ``VAR=$(watchkeeper … --json | python3 -c '…')`` carry over, and the
outcomes the guide promises are checked. A reader takes minutes between ``incident declare``
and sending the events; the test, taking seconds, moves the incident's impact start back
instead, so the events fall into the whole minutes the incident counts.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import re
import shlex
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import Result
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.cli_runner import invoke
from watchkeeper.app import create_app
from watchkeeper.config import Settings
from watchkeeper.incident.models import IncidentRecord

ROOT = Path(__file__).resolve().parent.parent
GUIDE = ROOT / "docs" / "incident-response.md"
SERVER = "http://127.0.0.1:8080"
CAPTURE = re.compile(
    r"^(?P<name>[A-Z_]+)=\$\((?P<command>watchkeeper .+?) \| python3 -c '(?P<code>[^']+)'\)$"
)
# Lines the guide runs only for a person at a shell: waiting for the server, stopping it,
# cleaning up, echoing.
SHELL_ONLY = ("until ", "kill ", "rm ", "echo ", "export PATH=", "SERVER_PID=")

# What some commands must print (the guide shows it): a check that they did their work, and
# (since every key must be a command of the guide) that the guide still runs them.
EXPECTED_OUTPUT = {
    "oncall who --schedule checkout-primary --at 2026-12-02T12:00:00Z": "dan",
    "alert routes apply examples/incident-response/routes.yaml": "applied 2 routing rules",
    "alert ack 1 --as ann": "alert group 1 is acknowledged",
    "alert resolve 2 --as ann": "alert group 2 is resolved",
    "incident declare --title Checkout 5xx --severity SEV2 --service checkout --commander bob"
    " --alert-group 1 --slo checkout/availability": "incident #1 declared: SEV2 Checkout 5xx",
    "gate --service checkout --change-type rollback": "exempt from rule open-incident",
    "incident note 1 rolled back checkout 1.4.2 --as ann": "note added to incident #1",
}


def walkthrough() -> str:
    """The guide's walkthrough section."""
    text = GUIDE.read_text()
    return text[
        text.index("## Walkthrough\n") : text.index("\n## ", text.index("## Walkthrough\n") + 1)
    ]


def shell_lines(section: str) -> list[str]:
    """Every line of the section's ``sh`` blocks, continuation lines joined."""
    blocks = re.findall(r"```sh\n(.*?)```", section, flags=re.DOTALL)
    return [
        line.strip()
        for block in blocks
        for line in block.replace("\\\n", " ").splitlines()
        if line.strip()
    ]


def expand(line: str, variables: dict[str, str]) -> str:
    """Substitute the guide's shell variables, as the shell would."""
    for name, value in variables.items():
        line = line.replace("$" + name, value)
    return line


class Reader:
    """Runs the guide's lines in order against one temporary database."""

    def __init__(self, workdir: Path, stack: contextlib.ExitStack) -> None:
        self.workdir = workdir
        self.stack = stack
        self.database_url = ""
        self.variables: dict[str, str] = {}
        self.outputs: dict[str, list[Result]] = {}
        self.answers: list[tuple[str, int, dict[str, object]]] = []
        self.client: TestClient | None = None

    def run(self, line: str) -> None:
        """One line of the guide."""
        if line.startswith(SHELL_ONLY):
            return
        if line.startswith("export WATCHKEEPER_DATABASE_URL="):
            assert "sqlite:///" in line
            self.database_url = f"sqlite:///{self.workdir / 'ir-demo.db'}"
        elif captured := CAPTURE.match(line):
            result = self.watchkeeper(captured["command"])
            done = subprocess.run(
                [sys.executable, "-c", captured["code"]],
                input=result.stdout,
                capture_output=True,
                text=True,
                check=True,
            )
            self.variables[captured["name"]] = done.stdout.strip()
        elif line.startswith("watchkeeper serve"):
            assert line.endswith("&")
            app = create_app(Settings(database_url=self.database_url))
            self.client = self.stack.enter_context(TestClient(app))
        elif line.startswith("watchkeeper "):
            self.watchkeeper(line)
            if line.startswith("watchkeeper incident declare"):
                self.reader_pace()
        elif line.startswith("curl "):
            self.curl(expand(line, self.variables))
        else:  # plain shell, e.g. writing the events file
            shell = subprocess.run(["bash", "-c", line], cwd=self.workdir, capture_output=True)
            assert shell.returncode == 0, (line, shell.stderr)

    def reader_pace(self) -> None:
        """Move the new incident's impact start two minutes back, as a reader's pace would."""
        engine = sa.create_engine(self.database_url)
        with Session(engine) as session, session.begin():
            for incident in session.scalars(sa.select(IncidentRecord)):
                incident.started_at -= timedelta(minutes=2)
        engine.dispose()

    def watchkeeper(self, line: str) -> Result:
        """A ``watchkeeper`` command; ``# exit 1`` in its comment is the exit code expected."""
        expected = 1 if re.search(r"#.*\bexit 1\b", line) else 0
        args = shlex.split(expand(line, self.variables), comments=True)[1:]
        result = invoke(*args, WATCHKEEPER_DATABASE_URL=self.database_url)
        assert result.exit_code == expected, (line, result.output)
        self.outputs.setdefault(" ".join(args), []).append(result)
        return result

    def curl(self, line: str) -> None:
        """A ``curl -X POST URL -H … -d @FILE`` line, sent to the app."""
        words = shlex.split(line)
        assert self.client is not None, "the guide sends alerts before starting the server"
        [url] = [word for word in words if word.startswith(SERVER)]
        headers = dict(words[i + 1].split(": ", 1) for i, w in enumerate(words) if w == "-H")
        body = words[words.index("-d") + 1]
        if body.startswith("@"):
            body = (self.workdir / body[1:]).read_text()
        response = self.client.post(url.removeprefix(SERVER), content=body, headers=headers)
        assert response.status_code in (200, 202), (line, response.text)
        self.answers.append((url, response.status_code, response.json()))


def test_the_walkthrough_runs_as_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    monkeypatch.chdir(tmp_path)  # the guide's relative paths: examples/, ir-events.csv
    with contextlib.ExitStack() as stack:
        reader = Reader(tmp_path, stack)
        for line in shell_lines(walkthrough()):
            reader.run(line)
        assert reader.client is not None
        reader.client.app.state.engine.dispose()  # type: ignore[attr-defined]

    outputs = {command: results[-1].stdout for command, results in reader.outputs.items()}
    for command, text in EXPECTED_OUTPUT.items():
        assert command in outputs, f"the guide no longer runs `watchkeeper {command}`"
        assert text in " ".join(outputs[command].split()), (command, outputs[command])

    # On call: the business-hours layer on Wednesday, the weekly rotation on Saturday.
    saturday = "oncall who --schedule checkout-primary --at 2026-12-05T12:00:00Z --json"
    assert json.loads(outputs[saturday]) == {
        "schedule": "checkout-primary",
        "at": "2026-12-05T12:00:00Z",
        "oncall": ["cid"],
    }
    # The integrations' URL and key, as the Alertmanager snippet uses them.
    assert re.fullmatch(
        SERVER + r"/api/v1/integrations/[0-9a-f]{32}/alertmanager", reader.variables["URL"]
    )
    assert re.fullmatch(r"[0-9a-f]{32}", reader.variables["KEY"])

    # Intake: the firing alert opened group 1, the PagerDuty trigger group 2, the resolved
    # notification resolved group 1.
    firing, trigger, resolved = reader.answers
    assert firing[2] == {"status": "success", "alert_group_id": 1, "group_status": "firing"}
    assert trigger[1:] == (
        202,
        {"status": "success", "message": "Event processed", "dedup_key": "checkout-latency"},
    )
    assert resolved[2] == {"status": "success", "alert_group_id": 1, "group_status": "resolved"}

    # Routing: the critical alert pages, the warning only notifies.
    listing = reader.outputs["alert list"][0].stdout
    assert "high" in listing and "low" in listing
    assert json.loads(outputs["alert list --status firing --json"]) == []

    # The gate: allow, then require approval naming the incident while the SEV2 is open, then
    # allow again once it is resolved.
    before, during, after = reader.outputs["gate --service checkout"]
    assert before.stdout.startswith("ALLOW deploy of checkout")
    assert during.stdout.startswith("REQUIRE_APPROVAL deploy of checkout")
    assert "open-incident" in during.stdout and "incident #1" in during.stdout
    assert after.stdout.startswith("ALLOW deploy of checkout")

    show = outputs["incident show 1"]
    assert show.startswith("#1 SEV2 resolved: Checkout 5xx")
    for fact in ("commander: bob", "scribe: cid", "responder: ann", "alert groups: #1"):
        assert fact in show
    # The note, whichever way the timeline table folds it.
    cells = show.replace("│", " ").split()
    assert all(word in cells for word in ("rolled", "back", "checkout", "1.4.2"))
    # The budget line: 50 bad of 100 000 in a 30-day window at 99.9 % burned half the budget.
    assert (
        "SLO checkout/availability: 50.00% of its 30d error budget burned (burn rate 0.5)"
        in " ".join(show.split())
    )
    # The timeline merges the linked alert group's log, each entry marked by where it came from.
    assert re.search(r"┃ at +┃ kind +┃ from +┃ actor +┃ text +┃", show)
    detail = invoke("incident", "show", "1", "--json", WATCHKEEPER_DATABASE_URL=reader.database_url)
    timeline = json.loads(detail.stdout)["timeline"]
    merged = [entry["text"] for entry in timeline if entry["source"] == "alert_group"]
    # The page went to whoever the schedule had on call when the group opened (dan in Berlin
    # business hours on weekdays, the weekly rotation otherwise): asked the same way.
    group = json.loads(
        invoke("alert", "show", "1", "--json", WATCHKEEPER_DATABASE_URL=reader.database_url).stdout
    )
    on_call = json.loads(
        invoke(
            "oncall",
            "who",
            "--schedule",
            "checkout-primary",
            "--at",
            group["created_at"],
            "--json",
            WATCHKEEPER_DATABASE_URL=reader.database_url,
        ).stdout
    )["oncall"]
    assert len(on_call) == 1
    assert merged == [
        "alert group #1: opened by alertmanager",
        "alert group #1: 5f1e0c3a9b7d2e41 firing",
        f"alert group #1: page to {on_call[0]} (email)",
        "alert group #1: checkout: step 1 of 2, round 1 of 3",
        "alert group #1: acknowledged",
        "alert group #1: 5f1e0c3a9b7d2e41 resolved",
        "alert group #1: resolved (source)",
    ]
    assert {entry["source"] for entry in timeline} == {"incident", "alert_group"}
    # Resolving did not acknowledge: the one acknowledgement is bob's.
    assert [entry["actor"] for entry in timeline if entry["kind"] == "acknowledged"] == ["bob"]

    metrics = " ".join(outputs["incident metrics --since 30d"].replace("│", " ").split())
    assert "1 incident started" in metrics and "0 open now" in metrics and "MTTA" in metrics
    # Alert noise: two checkout groups, none auto-resolved unacknowledged, the latency one
    # never acknowledged.
    assert "alert noise" in metrics and "checkout 2 0 (0%) 1 (50%)" in metrics


def test_the_alertmanager_snippet_points_at_both_intakes() -> None:
    section = walkthrough()
    [snippet] = re.findall(r"```yaml\n(.*?)```", section, flags=re.DOTALL)
    assert "webhook_configs:" in snippet and "pagerduty_configs:" in snippet
    assert re.search(r"url: http\S+/api/v1/integrations/\S+/alertmanager", snippet)
    assert re.search(r"url: http\S+/v2/enqueue", snippet)
    assert "send_resolved: true" in snippet


@pytest.mark.parametrize(
    "page",
    ["docs/incident-response.md", "docs/migrating.md", "docs/cli.md", "docs/api.md", "README.md"],
    ids=str,
)
def test_relative_links_lead_somewhere(page: str) -> None:
    path = ROOT / page
    for target in re.findall(r"\]\((?!https?://|#)([^)#\s]+)", path.read_text()):
        assert (path.parent / target).exists(), f"{page} links to missing {target}"


def documented_commands() -> list[str]:
    """The alerting rows of docs/cli.md's table: each ``watchkeeper …`` usage in them."""
    table = (ROOT / "docs" / "cli.md").read_text()
    rows = [
        row
        for row in table.splitlines()
        if row.startswith(
            ("| `watchkeeper integration", "| `watchkeeper alert", "| `watchkeeper silence")
        )
    ]
    return [usage for row in rows for usage in re.findall(r"`(watchkeeper [^`]+)`", row)]


@pytest.mark.parametrize("usage", documented_commands(), ids=str)
def test_the_cli_reference_names_real_commands_and_options(usage: str) -> None:
    words = usage.replace("\\|", "|").split()[1:]
    path = list(itertools.takewhile(lambda word: re.fullmatch(r"[a-z]+", word), words))
    result = invoke(*path, "--help", COLUMNS="200")
    assert result.exit_code == 0, result.output
    for option in set(re.findall(r"--[a-z][a-z-]*", usage)):
        assert option in result.output, f"`{' '.join(path)}` has no {option}"
