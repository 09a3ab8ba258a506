"""Offline evaluation (``slo eval``) of specs against CSV and JSONL data files."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from tests.slo import scenario
from tests.slo.scenario import AT
from watchkeeper.core.evaluation import SLOStatus
from watchkeeper.events.exceptions import InvalidEvents, UnknownSLI
from watchkeeper.slo.offline import OfflineResult, evaluate_file
from watchkeeper.specs import load_text

SLOS = load_text(scenario.SPEC).slos


def by_key(result: OfflineResult) -> dict[str, SLOStatus]:
    return {slo.key: status for slo, status in result.statuses}


def write_jsonl(path: Path, rows: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


@pytest.mark.parametrize("data_format", ["csv", "jsonl"])
def test_evaluates_the_hand_worked_scenario(tmp_path: Path, data_format: str) -> None:
    if data_format == "csv":
        data = scenario.write_csv(tmp_path / "events.csv")
    else:
        data = write_jsonl(tmp_path / "events.jsonl", scenario.event_rows())
    result = evaluate_file(SLOS, data, at=AT)
    assert (result.skipped, result.ignored_slis) == ([], [])
    statuses = {slo.key: status for slo, status in result.statuses}
    availability = statuses["shop/availability"]
    assert (availability.good, availability.total) == (19900.0, 20000.0)
    assert availability.sli == pytest.approx(0.995)
    assert availability.error_budget_remaining == pytest.approx(0.5)
    burn = {f"{int(w.total_seconds() // 60)}m": rate for w, rate in availability.burn_rates.items()}
    assert burn == pytest.approx(
        {"5m": 100, "30m": 20, "60m": 20, "120m": 12.5, "360m": 8.75, "1440m": 0.875, "4320m": 0.35}
    )
    assert [(a.severity.value, a.firing) for a in availability.alerts] == [
        ("page", True),
        ("page", True),
        ("ticket", False),
        ("ticket", False),
    ]
    assert availability.exhaustion_at is not None
    gap = availability.exhaustion_at - scenario.AVAILABILITY_EXHAUSTION
    assert abs(gap.total_seconds()) < 1e-3
    latency = statuses["shop/latency"]
    assert (latency.good, latency.total, latency.sli) == (2.0, 4.0, 0.5)
    assert latency.error_budget_remaining == pytest.approx(-4.0)


def test_rfc3339_times_count_like_unix_seconds(tmp_path: Path) -> None:
    # 11:59:00Z is one minute before AT: inside every window; 12:00:00Z is AT itself: outside.
    data = tmp_path / "events.csv"
    data.write_text(
        "time,sli,good,total\n"
        "2026-11-23T11:59:00Z,shop-requests,3,4\n"
        "2026-11-23T13:00:00+01:00,shop-requests,0,50\n"
    )
    result = evaluate_file(SLOS, data, at=AT)
    availability = by_key(result)["shop/availability"]
    assert (availability.good, availability.total) == (3.0, 4.0)


def test_an_slo_without_rows_has_no_figures(tmp_path: Path) -> None:
    data = write_jsonl(
        tmp_path / "events.jsonl", [{"time": 1, "sli": "shop-requests", "good": 1, "total": 1}]
    )
    latency = by_key(evaluate_file(SLOS, data, at=AT))["shop/latency"]
    assert latency.total == 0
    assert latency.sli is None
    assert latency.error_budget_remaining is None
    assert all(rate is None for rate in latency.burn_rates.values())
    assert not any(alert.firing for alert in latency.alerts)


def test_unknown_sli_is_an_error_with_a_suggestion(tmp_path: Path) -> None:
    data = tmp_path / "events.csv"
    data.write_text(
        "time,sli,good,total\n"
        f"{int(AT.timestamp()) - 60},shop-requests,1,1\n"
        f"{int(AT.timestamp()) - 60},shop-request,1,1\n"
        f"{int(AT.timestamp()) - 60},payments,1,1\n"
    )
    with pytest.raises(UnknownSLI) as caught:
        evaluate_file(SLOS, data, at=AT)
    error = caught.value
    assert error.unknown == ["shop-request", "payments"]  # in order of first appearance
    assert error.lines() == [
        f"{data}:3: sli: unknown SLI 'shop-request' (did you mean 'shop-requests'?) in 1 row",
        f"{data}:4: sli: unknown SLI 'payments' in 1 row",
        "the specs declare: shop-latency, shop-requests "
        "(use --ignore-unknown to skip rows naming other SLIs)",
    ]
    assert error.detail.startswith(
        f"unknown SLIs: 'shop-request' (did you mean 'shop-requests'?) first at {data}:3, "
        f"'payments' first at {data}:4; the specs declare: shop-latency, shop-requests"
    )


def test_ignore_unknown_skips_those_rows_and_lists_them(tmp_path: Path) -> None:
    moment = int(AT.timestamp()) - 60
    data = write_jsonl(
        tmp_path / "events.jsonl",
        [
            {"time": moment, "sli": "shop-requests", "good": 9, "total": 10},
            {"time": moment, "sli": "zeta", "good": 0, "total": 100},
            {"time": moment, "sli": "alpha", "value": 1.0},
        ],
    )
    result = evaluate_file(SLOS, data, at=AT, ignore_unknown=True)
    assert result.ignored_slis == ["alpha", "zeta"]
    availability = by_key(result)["shop/availability"]
    assert (availability.good, availability.total) == (9.0, 10.0)


@pytest.mark.parametrize(
    ("name", "row", "line", "message"),
    [
        (
            "value for a ratio SLI",
            {"sli": "shop-requests", "value": 0.2},
            3,
            "value: SLI 'shop-requests' takes counts: send good and total, not value",
        ),
        (
            "counts for a threshold SLI",
            {"sli": "shop-latency", "good": 1, "total": 1},
            3,
            "good: SLI 'shop-latency' takes observations: send value, not good and total",
        ),
    ],
)
def test_rows_of_the_wrong_shape_are_refused(
    tmp_path: Path, name: str, row: dict[str, object], line: int, message: str
) -> None:
    moment = int(AT.timestamp()) - 60
    rows = [
        {"time": moment, "sli": "shop-requests", "good": 1, "total": 1},
        {"time": moment, "sli": "shop-latency", "value": 0.1},
        {"time": moment, **row},
    ]
    data = write_jsonl(tmp_path / "events.jsonl", rows)
    with pytest.raises(InvalidEvents) as caught:
        evaluate_file(SLOS, data, at=AT)
    # The line named is the row of the wrong shape, with the field to change.
    assert caught.value.detail == f"{data}:{line}: {message}", name


@pytest.mark.parametrize(
    ("operator", "good"),
    [("lt", 1), ("lte", 2), ("gt", 2), ("gte", 3)],
)
def test_threshold_operators(tmp_path: Path, operator: str, good: int) -> None:
    # Values 0.1, 0.3, 0.5, 0.7 against threshold 0.3: lt keeps 0.1; lte 0.1 and 0.3;
    # gt 0.5 and 0.7; gte 0.3, 0.5 and 0.7.
    spec = f"""\
apiVersion: watchkeeper/v1
kind: SLO
service: shop
name: latency
objective: 0.9
window: 7d
sli: {{name: shop-latency, kind: threshold, threshold: 0.3, operator: {operator}}}
"""
    moment = int(AT.timestamp())
    data = write_jsonl(
        tmp_path / "events.jsonl",
        [
            {"time": moment - 60, "sli": "shop-latency", "value": value}
            for value in (0.1, 0.3, 0.5, 0.7)
        ],
    )
    [(_, status)] = evaluate_file(load_text(spec).slos, data, at=AT).statuses
    assert (status.good, status.total) == (good, 4.0)


def test_prometheus_raw_slis_are_skipped_with_a_note(tmp_path: Path) -> None:
    examples = Path(__file__).resolve().parents[2] / "examples" / "sloth" / "payments-raw.yaml"
    slos = load_text(examples.read_text()).slos
    data = write_jsonl(tmp_path / "events.jsonl", [])
    result = evaluate_file(slos, data, at=AT, ignore_unknown=True)
    assert result.statuses == []
    assert result.skipped == [
        "payments-gateway/authorisations: raw error-ratio SLIs are evaluated by Prometheus only"
    ]


def test_openslo_objectives_with_two_thresholds_share_one_stream(tmp_path: Path) -> None:
    from watchkeeper.specs import load_text

    spec = """\
apiVersion: openslo/v1
kind: SLO
metadata: {name: api-latency}
spec:
  service: api
  budgetingMethod: Occurrences
  timeWindow: [{duration: 7d, isRolling: true}]
  indicator:
    metadata: {name: api-latency}
    spec:
      thresholdMetric: {metricSource: {type: watchkeeper}}
  objectives:
    - {displayName: fast, op: lte, value: 0.25, target: 0.9}
    - {displayName: bounded, op: lte, value: 1, target: 0.99}
"""
    slos = load_text(spec).slos
    moment = int(AT.timestamp()) - 120
    values = [0.1, 0.2, 0.5, 2.0]
    data = write_jsonl(
        tmp_path / "events.jsonl",
        [{"time": moment + i, "sli": "api-latency", "value": v} for i, v in enumerate(values)],
    )
    result = by_key(evaluate_file(slos, data, at=AT))
    # Within 250 ms: 0.1 and 0.2 (2 of 4); within 1 s: 0.1, 0.2 and 0.5 (3 of 4).
    assert (result["api/api-latency-fast"].good, result["api/api-latency-fast"].total) == (2, 4)
    bounded = result["api/api-latency-bounded"]
    assert (bounded.good, bounded.total) == (3, 4)
    # All four values arrived two minutes ago: the 5m window holds them, with the same SLI.
    assert bounded.window_counts[timedelta(minutes=5)].total == 4


def test_every_bad_row_is_reported_with_the_unknown_names(tmp_path: Path) -> None:
    moment = int(AT.timestamp()) - 60
    rows: list[dict[str, object]] = [
        {"time": moment, "sli": "shop-requests", "good": 2, "total": 1},
        {"time": moment, "sli": "shop-latency", "value": 0.1},
        {"time": moment, "sli": "shop-requests", "value": 0.2},
        {"time": moment, "sli": "payments", "good": 1, "total": 1},
        {"time": moment, "sli": "shop-requests", "good": 1, "total": -3},
    ]
    data = write_jsonl(tmp_path / "events.jsonl", rows)
    with pytest.raises(InvalidEvents) as caught:
        evaluate_file(SLOS, data, at=AT)
    error = caught.value
    assert [(p.line, p.field) for p in error.problems] == [(1, "good"), (3, "value"), (5, "total")]
    assert error.unknown == ["payments"]
    assert error.summary() == "3 invalid events and 1 unknown SLI name"
    # Ignoring unknown names drops them from the report, not the bad rows.
    with pytest.raises(InvalidEvents) as ignoring:
        evaluate_file(SLOS, data, at=AT, ignore_unknown=True)
    assert type(ignoring.value) is InvalidEvents
    assert ignoring.value.unknown == []
    assert ignoring.value.total == 3


@pytest.mark.parametrize("literal", ["1" + "0" * 400, "1e400", "NaN", "Infinity", "-Infinity"])
def test_values_beyond_float_range_are_refused(tmp_path: Path, literal: str) -> None:
    moment = int(AT.timestamp()) - 60
    data = tmp_path / "events.jsonl"
    data.write_text(
        f'{{"time": {moment}, "sli": "shop-latency", "value": 0.1}}\n'
        f'{{"time": {moment}, "sli": "shop-latency", "value": {literal}}}\n'
    )
    with pytest.raises(InvalidEvents) as caught:
        evaluate_file(SLOS, data, at=AT)
    [problem] = caught.value.problems
    assert (problem.line, problem.field) == (2, "value")
    assert problem.message.startswith("must be a finite number")


def test_rows_are_counted_across_chunks(tmp_path: Path) -> None:
    # More rows than one chunk holds: the per-SLI arrays of every chunk are joined.
    moment = int(AT.timestamp()) - 60
    rows: list[dict[str, object]] = [
        {"time": moment, "sli": "shop-requests", "good": i % 2, "total": 1} for i in range(70_000)
    ]
    data = write_jsonl(tmp_path / "events.jsonl", rows)
    availability = by_key(evaluate_file(SLOS, data, at=AT))["shop/availability"]
    assert (availability.good, availability.total) == (35_000.0, 70_000.0)
