"""``events ingest`` and ``slo eval`` report every bad row and unknown SLI name of a data
file in one run (bounded), exit 1 and store or evaluate nothing; a file that holds no
events at all is one file error."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import Result
from sqlalchemy import func, select

from tests.cli_runner import invoke
from tests.events.support import registered_data_dir
from tests.slo import scenario
from watchkeeper.config import Settings
from watchkeeper.db import make_engine
from watchkeeper.events.models import SLIBucket

T0 = 1_795_428_000  # 2026-11-23T10:00:00Z
MOMENT = 1_795_435_140  # a minute before scenario.AT
DIGITS_400 = "1" + "0" * 400
EXPECTED = "expected time,sli,good,total or time,sli,value"


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """A SQLite data dir that knows the SLIs 'checkout' (counts) and 'latency' (values)."""
    return registered_data_dir(tmp_path)


def run(data_dir: Path, *args: str) -> Result:
    return invoke(*args, data_dir=data_dir)


def stored(data_dir: Path) -> int:
    engine = make_engine(Settings(data_dir=data_dir).resolved_database_url())
    with engine.connect() as connection:
        buckets = connection.execute(select(func.count()).select_from(SLIBucket)).scalar_one()
    engine.dispose()
    return int(buckets)


@pytest.mark.parametrize("literal", [DIGITS_400, "1e400", "NaN", "Infinity", "-Infinity"])
def test_ingest_refuses_a_value_beyond_float_range_at_its_line(
    data_dir: Path, tmp_path: Path, literal: str
) -> None:
    path = tmp_path / "events.jsonl"
    path.write_text(
        f'{{"time": {T0}, "sli": "latency", "value": 0.1}}\n'
        f'{{"time": {T0}, "sli": "latency", "value": {literal}}}\n'
    )
    result = run(data_dir, "events", "ingest", str(path))
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.startswith(f"{path}:2: value: must be a finite number, got ")
    assert result.stderr.endswith(f"error: 1 invalid event in {path}; nothing was stored\n")
    assert stored(data_dir) == 0


def test_ingest_lists_bad_rows_and_unknown_names_in_one_run(data_dir: Path, tmp_path: Path) -> None:
    path = tmp_path / "events.csv"
    path.write_text(
        "time,sli,good,total\n"
        f"{T0},checkout,1,1\n"
        f"{T0},chekout,1,1\n"
        f"{T0},checkout,1,{DIGITS_400}\n"
        f"{T0},chekout,-1,1\n"
    )
    result = run(data_dir, "events", "ingest", str(path))
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"{path}:4: total: is too large: '100000000000...0000' (401 digits) is over the largest "
        "count the store keeps exactly, 9007199254740991 (2**53 - 1)",
        f"{path}:5: good: must not be negative, got -1",
        f"{path}:3: sli: unknown SLI 'chekout' (did you mean 'checkout'?) in 2 rows: lines 3, 5",
        "an SLI is registered when an SLO that uses it is applied",
        f"error: 2 invalid events and 1 unknown SLI name in {path}; nothing was stored",
    ]
    assert stored(data_dir) == 0


def test_ingest_output_is_bounded_for_a_huge_bad_file(data_dir: Path, tmp_path: Path) -> None:
    path = tmp_path / "events.csv"
    path.write_text("time,sli,good,total\n" + f"{T0},checkout,2,1\n" * 5000)
    result = run(data_dir, "events", "ingest", str(path))
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert len(lines) == 52
    assert lines[0] == f"{path}:2: good: good (2) exceeds total (1)"
    assert lines[49] == f"{path}:51: good: good (2) exceeds total (1)"
    assert lines[50] == "... and 4,950 more problems"
    assert lines[51] == f"error: 5,000 invalid events in {path}; nothing was stored"


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("sli,good,total\n", "missing column 'time'"),
        ("time,good,total\n", "missing column 'sli'"),
        ("time,sli\n", "missing columns 'good' and 'total', or 'value'"),
        (
            "time,sli,good,bad\n",
            "missing column 'total'; unknown column 'bad' (rows carry good and total, not bad)",
        ),
        ("time,sli,good,total,total\n", "duplicate column 'total'"),
        ("", "the file is empty"),
    ],
)
def test_a_wrong_header_is_one_file_error(
    data_dir: Path, tmp_path: Path, content: str, problem: str
) -> None:
    path = tmp_path / "events.csv"
    path.write_text(content + f"{T0},checkout,1,1\n" * bool(content))
    for args in (("events", "ingest", str(path)), ("slo", "eval", "{spec}", "--data", str(path))):
        spec = tmp_path / "shop.yaml"
        spec.write_text(scenario.SPEC)
        result = run(data_dir, *(a.replace("{spec}", str(spec)) for a in args))
        assert result.exit_code == 1, args
        assert result.stderr == f"error: {path}: header: {problem}; {EXPECTED}\n", args
    assert stored(data_dir) == 0


def test_a_file_that_is_not_events_at_all(data_dir: Path, tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    path.write_text("apiVersion: watchkeeper/v1\nkind: SLO\n")
    result = run(data_dir, "events", "ingest", str(path))
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: {path}: not a JSONL file: no line is JSON (line 1")
    binary = tmp_path / "events.csv"
    binary.write_bytes(b"\x00\x01\x02\xff")
    result = run(data_dir, "events", "ingest", str(binary))
    assert result.exit_code == 1
    assert "it holds binary data, not UTF-8 text" in result.stderr


def test_eval_lists_every_bad_row_and_unknown_name(tmp_path: Path) -> None:
    spec = tmp_path / "shop.yaml"
    spec.write_text(scenario.SPEC)
    data = tmp_path / "events.jsonl"
    data.write_text(
        f'{{"time": {MOMENT}, "sli": "shop-requests", "good": 1, "total": 1}}\n'
        f'{{"time": {MOMENT}, "sli": "shop-request", "good": 1, "total": 1}}\n'
        f'{{"time": {MOMENT}, "sli": "shop-requests", "good": 2, "total": 1}}\n'
        f'{{"time": {MOMENT}, "sli": "shop-latency", "value": {DIGITS_400}}}\n'
        f'{{"time": {MOMENT}, "sli": "shop-latency", "good": 1, "total": 1}}\n'
        f'{{"time": "noon", "sli": "shop-requests", "good": 1, "total": 1}}\n'
    )
    at = ("--at", scenario.AT_TEXT)
    result = run(tmp_path / "data", "slo", "eval", str(spec), "--data", str(data), *at)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"{data}:3: good: good (2) exceeds total (1)",
        f"{data}:4: value: must be a finite number, got 100000000000...0000 (401 digits)",
        f"{data}:5: good: SLI 'shop-latency' takes observations: send value, not good and total",
        f"{data}:6: time: malformed time 'noon': expected RFC 3339 such as "
        "2026-11-23T10:00:00Z, or Unix seconds",
        f"{data}:2: sli: unknown SLI 'shop-request' (did you mean 'shop-requests'?) in 1 row",
        "the specs declare: shop-latency, shop-requests (use --ignore-unknown to skip rows "
        "naming other SLIs)",
        f"error: 4 invalid events and 1 unknown SLI name in {data}; nothing was evaluated",
    ]
    ignoring = run(
        tmp_path / "data", "slo", "eval", str(spec), "--data", str(data), *at, "--ignore-unknown"
    )
    assert ignoring.exit_code == 1
    assert "unknown SLI" not in ignoring.stderr
    assert f"error: 4 invalid events in {data}; nothing was evaluated" in ignoring.stderr
