"""``watchkeeper alert declare`` / ``incident declare --alert-group`` / ``incident show``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from tests.cli_runner import Run, in_database, upgraded
from tests.incident.conftest import fire
from watchkeeper.db import utcnow


@pytest.fixture
def run(tmp_path: Path) -> Run:
    return upgraded(tmp_path / "data")


def _groups(data_dir: Path) -> list[int]:
    ids: list[int] = []

    def work(session: Session) -> None:
        ids.extend(fire(session, title, service="web", at=utcnow()) for title in ("a", "b"))

    in_database(data_dir, work)
    return ids


def test_declare_from_an_alert_group_both_ways(run: Run, tmp_path: Path) -> None:
    first, second = _groups(tmp_path / "data")
    made = run("alert", "declare", str(first), "--severity", "sev2", "--commander", "ann", "--json")
    assert made.exit_code == 0, made.output
    document = json.loads(made.stdout)
    assert (document["title"], document["service"], document["severity"]) == ("a", "web", "SEV2")
    assert document["alert_group_ids"] == [first]
    again = run("alert", "declare", str(first), "--severity", "SEV1")
    assert again.exit_code == 1
    assert f"open incident #{document['id']}" in again.stderr
    other = run("incident", "declare", "--alert-group", str(second), "--severity", "SEV3")
    assert other.exit_code == 0, other.output
    assert f"from alert group {second}" in other.stdout
    no_title = run("incident", "declare", "--severity", "SEV3")
    assert no_title.exit_code == 1 and "--title" in no_title.stderr
    shown = run("incident", "show", str(document["id"]), "--json")
    sources = {entry["source"] for entry in json.loads(shown.stdout)["timeline"]}
    assert sources == {"incident", "alert_group"}
    unknown = run("alert", "declare", "424242", "--severity", "SEV1")
    assert unknown.exit_code == 1 and "424242" in unknown.stderr
    for args in (
        ("incident", "show", str(2**31)),
        ("alert", "declare", str(2**31), "--severity", "SEV1"),
    ):
        huge = run(*args)
        assert huge.exit_code == 2 and "2147483647" in huge.stderr, huge.output
