"""``watchkeeper report trends``: the table, --json and refused input."""

from __future__ import annotations

from tests.cli_runner import Run


def test_trends_cli(run: Run) -> None:
    shown = run("report", "trends", "--months", "2")
    assert shown.exit_code == 0, shown.output
    assert "(so far)" in shown.output and "MTTR" in shown.output
    as_json = run("report", "trends", "--json")
    assert as_json.exit_code == 0
    assert as_json.output.count('"month"') == 6
    assert run("report", "trends", "--months", "0").exit_code == 2
    refused = run("report", "trends", "--zone", "Mars/Base")
    assert refused.exit_code == 1 and "zone:" in refused.output
