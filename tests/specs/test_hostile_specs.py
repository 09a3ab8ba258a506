"""Hostile and extreme specs: huge numbers, durations and windows, bad PromQL, YAML bombs.

Each is reported as a problem on its field and line, through the loader, ``slo validate`` /
``slo apply`` (exit 1, no traceback) and ``POST /api/v1/slos`` (422 with the problem list).
"""

from __future__ import annotations

import json
import textwrap
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from watchkeeper.cli.main import app
from watchkeeper.specs import Problem, SpecError, load_paths, load_text, slo_from_dict

TOO_LARGE = "document too large or too deeply nested: "
HUGE = "1" + "0" * 400  # a YAML int far beyond the float range
WINDOW_RANGE = "the SLO window must be from 1h to 400d (how long hour buckets are kept by default)"

NATIVE = """\
apiVersion: watchkeeper/v1
kind: ServiceLevels
service: shop
slos:
  - name: availability
    objective: {objective}
    window: {window}
    sli: {{name: shop-requests}}
"""


def native(objective: str = "0.999", window: str = "30d") -> str:
    return NATIVE.format(objective=objective, window=window)


SLOTH = """\
version: "prometheus/v1"
service: shop
slos:
  - name: availability
    objective: 99.9
    sli:
      events:
        error_query: {error}
        total_query: {total}
  - name: latency
    objective: 99
    sli:
      raw:
        error_ratio_query: {ratio}
"""
GOOD_QUERY = "sum(rate(http_requests_total[{{.window}}]))"

ALIAS_BOMB = "\n".join(
    ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    + [f"a{k}: &a{k} [{', '.join([f'*a{k - 1}'] * 9)}]" for k in range(1, 7)]
)


def problems_of(text: str, **kwargs: Any) -> list[Problem]:
    with pytest.raises(SpecError) as caught:
        load_text(text, filename="hostile.yaml", **kwargs)
    return caught.value.problems


def summary(problems: list[Problem]) -> list[tuple[int | None, str, str]]:
    return [(p.line, p.field, p.message) for p in problems]


# -- numbers ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("objective", "message"),
    [
        (HUGE, "is too large"),
        ("-" + HUGE, "is out of range (too far below zero)"),
        ("1.0e+400", "is too large"),
        ("0x" + "f" * 5000, "is too large"),
        ("9" * 5000, "is too large"),  # past Python's 4300-digit int conversion cap
    ],
)
def test_numbers_out_of_range_are_reported_on_their_line(objective: str, message: str) -> None:
    assert summary(problems_of(native(objective=objective))) == [(6, "slos[0].objective", message)]


def test_every_number_field_reports_out_of_range_values_in_one_run() -> None:
    text = textwrap.dedent(
        f"""\
        apiVersion: watchkeeper/v1
        kind: ServiceLevels
        service: shop
        labels: {{big: {HUGE}}}
        slos:
          - name: a
            objective: 0.99
            window: 30d
            sli: {{kind: threshold, threshold: 1.0e+400}}
            alerting:
              min_events: 99999999999999999999
              windows:
                - {{severity: page, long: 1h, short: 5m, factor: {HUGE}}}
                - {{severity: page, long: 6h, short: 30m, budget_percent: -{HUGE}}}
          - name: b
            objective: 0.99
            window: {{calendar: month, count: {HUGE}}}
            sli: {{kind: timeslices, slice: 1m, slice_target: 1.0e+400}}
        ---
        version: prometheus/v1
        service: shop
        slos:
          - name: c
            objective: {HUGE}
            sli: {{raw: {{error_ratio_query: "1 - x"}}}}
        """
    )
    assert summary(problems_of(text)) == [
        (9, "slos[0].sli.threshold", "is too large"),
        (11, "slos[0].alerting.min_events", "is too large"),
        (13, "slos[0].alerting.windows[0].factor", "is too large"),
        (14, "slos[0].alerting.windows[1].budget_percent", "is out of range (too far below zero)"),
        (17, "slos[1].window.count", "is too large"),
        (18, "slos[1].sli.slice_target", "is too large"),
        (24, "slos[0].objective", "is too large"),
    ]


def test_huge_numbers_in_documents_built_in_code() -> None:
    document = {
        "apiVersion": "watchkeeper/v1",
        "kind": "SLO",
        "service": "shop",
        "name": "availability",
        "objective": 10**400,
        "window": "30d",
        "sli": {"name": "shop-requests"},
        "alerting": {"min_events": 2**64, "page": {"labels": {"n": 10**5000}}},
    }
    with pytest.raises(SpecError) as caught:
        slo_from_dict(document)
    assert [(p.field, p.message) for p in caught.value.problems] == [
        ("objective", "is too large"),
        ("alerting.page.labels.n", "is too large"),
        ("alerting.min_events", "is too large"),
    ]


def test_dates_that_are_no_dates_are_reported_on_their_field() -> None:
    text = native().replace(
        "service: shop\n",
        "service: shop\nmaintenance:\n  - {start: 2026-13-45, end: 2026-01-01T00:00:00+99:00}\n",
    )
    assert summary(problems_of(text)) == [
        (5, "maintenance[0].start", "'2026-13-45' is not a date-time such as 2026-11-01T02:00:00Z"),
        (
            5,
            "maintenance[0].end",
            "'2026-01-01T00:00:00+99:00' is not a date-time such as 2026-11-01T02:00:00Z",
        ),
    ]


def test_out_of_range_label_values_keep_their_text() -> None:
    spec_set = load_text(
        native().replace("service: shop\n", f"service: shop\nlabels: {{n: {HUGE}}}\n")
    )
    assert spec_set.slos[0].labels["n"] == HUGE


# -- durations and windows -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("window", "message"),
    [
        (
            "9999999999999d",
            "'9999999999999d' is too long to be a duration (the longest is 999999999d)",
        ),
        (
            "1" + "0" * 5000 + "d",
            "'10000000000000000000...000000000d' is too long to be a duration",
        ),
        ("5000y", f"{WINDOW_RANGE}, not 5000y"),
        ("401d", f"{WINDOW_RANGE}, not 401d"),
        ("59m", f"{WINDOW_RANGE}, not 59m"),
    ],
)
def test_windows_out_of_range_are_refused_on_their_line(window: str, message: str) -> None:
    (problem,) = problems_of(native(window=window))
    assert (problem.line, problem.field) == (7, "slos[0].window")
    assert problem.message.startswith(message)


CUSTOM_ALERTS = """\
    alerting: {windows: [{severity: page, long: 1h, short: 5m, factor: 14.4}]}
"""


@pytest.mark.parametrize("window", ["1h", "400d"])
def test_windows_at_the_ends_of_the_range_are_accepted(window: str) -> None:
    spec_set = load_text(native(window=window) + CUSTOM_ALERTS)
    assert spec_set.slos[0].window.duration == (  # type: ignore[union-attr]
        timedelta(hours=1) if window == "1h" else timedelta(days=400)
    )


@pytest.mark.parametrize(("unit", "most"), [("week", 52), ("month", 12), ("quarter", 4)])
def test_calendar_windows_span_at_most_a_year(unit: str, most: int) -> None:
    accepted = load_text(native(window=f"{{calendar: {unit}, count: {most}}}"))
    assert accepted.slos[0].window.count == most  # type: ignore[union-attr]
    (problem,) = problems_of(native(window=f"{{calendar: {unit}, count: {most + 1}}}"))
    assert summary([problem]) == [
        (
            7,
            "slos[0].window.count",
            f"the SLO window spans at most a year: at most {most} for calendar {unit}, "
            f"not {most + 1}",
        )
    ]


def test_timeslices_are_at_most_a_day() -> None:
    sli = "sli: {name: shop-requests, kind: timeslices, slice: %s, slice_target: 0.9}"
    text = native().replace("sli: {name: shop-requests}", sli % "1d")
    assert load_text(text).slos[0].sli.slice_duration == timedelta(days=1)
    assert summary(problems_of(text.replace("slice: 1d", "slice: 1d1m"))) == [
        (8, "slos[0].sli.slice", "a timeslice is at most 1d, not 1d1m")
    ]


def test_alert_windows_out_of_range() -> None:
    text = textwrap.dedent(
        """\
        apiVersion: watchkeeper/v1
        kind: ServiceLevels
        service: shop
        slos:
          - name: a
            objective: 0.999
            window: 30d
            sli: {name: a}
            alerting: {windows: [{severity: page, long: 9999999999999d, short: 5m, factor: 2}]}
          - name: b
            objective: 0.999
            window: 30d
            sli: {name: b}
            alerting: {windows: [{severity: page, long: 5000y, short: 5m, factor: 2}]}
        """
    )
    assert summary(problems_of(text)) == [
        (
            9,
            "slos[0].alerting.windows[0].long",
            "'9999999999999d' is too long to be a duration (the longest is 999999999d)",
        ),
        (
            12,
            "slos[1].window",
            "the SLO window (30d) is shorter than the longest alert window (1825000d); "
            "lengthen it or set alerting.windows",
        ),
    ]


def test_sloth_period_out_of_range_is_reported_once_per_document() -> None:
    text = SLOTH.format(error=GOOD_QUERY, total=GOOD_QUERY, ratio="1 - x")
    problems = problems_of(text, default_period=timedelta(days=5000 * 365))
    assert summary(problems) == [
        (
            1,
            "",
            "the SLO period given to Sloth specs (--period) must be from 1h to 400d "
            "(how long hour buckets are kept by default), not 1825000d",
        )
    ]


# -- PromQL ----------------------------------------------------------------------------------


def test_native_promql_is_parsed_and_reported_on_the_query_line() -> None:
    text = textwrap.dedent(
        """\
        apiVersion: watchkeeper/v1
        kind: ServiceLevels
        service: shop
        slos:
          - name: availability
            objective: 0.999
            window: 30d
            sli:
              source: prometheus
              prometheus:
                good: sum(rate(ok_total[{{.window}}])
                total: sum(rate(all_total[{{.window}}])) by
          - name: ratio
            objective: 0.99
            window: 30d
            sli:
              kind: raw
              source: prometheus
              prometheus:
                error_ratio: |
                  1 - {{.ratio}}
        """
    )
    problems = problems_of(text)
    assert [(p.line, p.field) for p in problems] == [
        (11, "slos[0].sli.prometheus.good"),
        (12, "slos[0].sli.prometheus.total"),
        (20, "slos[1].sli.prometheus.error_ratio"),
    ]
    assert problems[0].message.startswith("PromQL does not parse: unclosed left parenthesis")
    assert problems[1].message.startswith("PromQL does not parse")
    assert problems[2].message.startswith("unknown template placeholder {{.ratio}}")


def test_sloth_promql_is_parsed_and_reported_on_the_query_line() -> None:
    text = SLOTH.format(
        error="sum(rate(x[{{.window}}])", total="sum(rate(y[{{.window}}])))", ratio="1 -"
    )
    problems = problems_of(text)
    assert [(p.line, p.field) for p in problems] == [
        (8, "slos[0].sli.events.error_query"),
        (9, "slos[0].sli.events.total_query"),
        (14, "slos[1].sli.raw.error_ratio_query"),
    ]
    assert all(p.message.startswith("PromQL does not parse") for p in problems)


def test_sloth_crd_camel_case_queries_are_parsed() -> None:
    text = textwrap.dedent(
        """\
        apiVersion: sloth.slok.dev/v1
        kind: PrometheusServiceLevel
        metadata: {name: shop}
        spec:
          service: shop
          slos:
            - name: latency
              objective: 99
              sli: {raw: {errorRatioQuery: "1 - (x"}}
        """
    )
    (problem,) = problems_of(text)
    assert (problem.line, problem.field) == (9, "spec.slos[0].sli.raw.errorRatioQuery")


def test_promql_past_the_complexity_limits_is_refused() -> None:
    many = " + ".join(["x"] * 150)
    deep = "(" * 40 + "x" + ")" * 40
    text = SLOTH.format(error=GOOD_QUERY, total=GOOD_QUERY, ratio=many) + (
        f'  - name: deep\n    objective: 99\n    sli: {{raw: {{error_ratio_query: "{deep}"}}}}\n'
    )
    assert summary(problems_of(text)) == [
        (
            14,
            "slos[1].sli.raw.error_ratio_query",
            "the PromQL query has 149 operators, at most 100",
        ),
        (
            17,
            "slos[2].sli.raw.error_ratio_query",
            "the PromQL query nests brackets 40 deep, at most 32",
        ),
    ]


# -- through load_paths, the CLI and the API -------------------------------------------------

HOSTILE: dict[str, tuple[str, int, str, str]] = {
    # name: text, line, field, start of the message
    "alias bomb": (ALIAS_BOMB, 5, "", f"{TOO_LARGE}more than 50000 nodes in the file at alias *a3"),
    "deep nesting": ("[" * 50_000, 1, "", f"{TOO_LARGE}more than 64 levels of nesting"),
    "huge objective": (native(objective=HUGE), 6, "slos[0].objective", "is too large"),
    "huge window": (
        native(window="9999999999999d"),
        7,
        "slos[0].window",
        "'9999999999999d' is too long to be a duration",
    ),
    "5000y window": (native(window="5000y"), 7, "slos[0].window", WINDOW_RANGE),
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_load_paths_names_file_and_line(tmp_path: Path, name: str) -> None:
    text, line, field, message = HOSTILE[name]
    path = tmp_path / "hostile.yaml"
    path.write_text(text)
    with pytest.raises(SpecError) as caught:
        load_paths([path])
    (problem,) = caught.value.problems
    assert (problem.file, problem.line, problem.field) == (str(path), line, field)
    assert problem.message.startswith(message)


def run_cli(tmp_path: Path, *args: str) -> Result:
    env = {"WATCHKEEPER_DATA_DIR": str(tmp_path / "data"), "WATCHKEEPER_DATABASE_URL": ""}
    result = CliRunner().invoke(app, list(args), env=env)
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    return result


@pytest.mark.parametrize("command", ["validate", "apply"])
@pytest.mark.parametrize("name", list(HOSTILE))
def test_cli_exits_1_with_file_and_line(tmp_path: Path, command: str, name: str) -> None:
    text, line, field, message = HOSTILE[name]
    path = tmp_path / "hostile.yaml"
    path.write_text(text)
    result = run_cli(tmp_path, "slo", command, str(path))
    assert result.exit_code == 1
    where = f"{path}:{line}: document 1: " + (f"{field}: " if field else "")
    first_line = result.stderr.splitlines()[0]
    if command == "validate":
        assert first_line.startswith(where + message)
        assert result.stderr.splitlines()[-1] == "1 problem found"
    else:
        assert first_line.startswith(f"error: {where}{message}")


def test_cli_period_out_of_range(tmp_path: Path) -> None:
    path = tmp_path / "sloth.yaml"
    path.write_text(SLOTH.format(error=GOOD_QUERY, total=GOOD_QUERY, ratio="1 - x"))
    far = run_cli(tmp_path, "slo", "validate", "--period", "5000y", str(path))
    assert far.exit_code == 1
    assert "the SLO period given to Sloth specs (--period) must be from 1h to 400d" in far.stderr
    huge = run_cli(tmp_path, "slo", "validate", "--period", "9999999999999d", str(path))
    assert huge.exit_code == 2  # a usage error, named
    assert "is too long to be a duration" in huge.output


SLOS = "/api/v1/slos"
YAML = {"content-type": "application/yaml"}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_api_answers_422_with_the_problem(
    client: TestClient, admin_headers: dict[str, str], name: str
) -> None:
    text, line, field, message = HOSTILE[name]
    response = client.post(SLOS, content=text, headers={**admin_headers, **YAML})
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["error"] == "SpecError"
    (problem,) = body["problems"]
    assert (problem["file"], problem["line"], problem["field"]) == ("request body", line, field)
    assert problem["message"].startswith(message)
    assert client.get(SLOS, headers=admin_headers).json() == []  # nothing was applied


def test_api_json_body_with_a_huge_number(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    document = {
        "apiVersion": "watchkeeper/v1",
        "kind": "SLO",
        "service": "shop",
        "name": "availability",
        "objective": 10**400,
        "window": "5000y",
        "sli": {"name": "shop-requests"},
    }
    response = client.post(
        SLOS,
        content=json.dumps(document),
        headers={**admin_headers, "content-type": "application/json"},
    )
    assert response.status_code == 422, response.text
    fields = {(p["field"], p["message"].split(" (")[0]) for p in response.json()["problems"]}
    assert fields == {
        ("objective", "is too large"),
        ("window", "the SLO window must be from 1h to 400d"),
    }


def test_api_promql_problem(client: TestClient, admin_headers: dict[str, str]) -> None:
    text = SLOTH.format(error=GOOD_QUERY, total=GOOD_QUERY, ratio="'1 - (x'")
    response = client.post(SLOS, content=text, headers={**admin_headers, **YAML})
    assert response.status_code == 422, response.text
    (problem,) = response.json()["problems"]
    assert (problem["line"], problem["field"]) == (14, "slos[1].sli.raw.error_ratio_query")
    assert problem["message"].startswith("PromQL does not parse")
