"""Data files at the edges: numbers past float or count range, files that hold no events at
all, and messages that stay short however long the bad input is."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from tests.events.support import problems_of, write
from watchkeeper.events.datafile import EventRow, parse_records, read_rows
from watchkeeper.events.exceptions import (
    InvalidEventFile,
    ProblemLog,
    shown,
)
from watchkeeper.events.rows import MAX_COUNT

T0 = 1_795_428_000
DIGITS_400 = "1" + "0" * 400  # 1e400 written out: far beyond the float range
DIGITS_5000 = "1" + "0" * 5000  # past Python's 4300-digit limit for int()
VALID = json.dumps({"time": T0, "sli": "latency", "value": 0.25})
VALID_COUNTS = json.dumps({"time": T0, "sli": "checkout", "good": 1, "total": 1})


@pytest.mark.parametrize(
    ("literal", "shown_as"),
    [
        (DIGITS_400, "100000000000...0000 (401 digits)"),
        (DIGITS_5000, "'100000000000...0000' (5001 digits)"),
        ("1e400", "inf"),
        ("-1e400", "-inf"),
        ("NaN", "nan"),
        ("Infinity", "inf"),
        ("-Infinity", "-inf"),
    ],
)
def test_jsonl_values_beyond_float_range_are_refused_at_their_line(
    tmp_path: Path, literal: str, shown_as: str
) -> None:
    # The valid rows around it take the fast path for the same SLI: the bad row must not.
    bad = f'{{"time": {T0}, "sli": "latency", "value": {literal}}}'
    path = write(tmp_path, "e.jsonl", "\n".join([VALID, bad, VALID]) + "\n")
    [problem] = problems_of(path)
    assert (problem.line, problem.field) == (2, "value")
    assert problem.message == f"must be a finite number, got {shown_as}"


@pytest.mark.parametrize("literal", [DIGITS_400, "1e400", "NaN", "Infinity", "-Infinity", "inf"])
def test_csv_values_beyond_float_range_are_refused_at_their_line(
    tmp_path: Path, literal: str
) -> None:
    path = write(
        tmp_path,
        "e.csv",
        f"time,sli,value\n{T0},latency,0.25\n{T0},latency,{literal}\n{T0},latency,0.5\n",
    )
    [problem] = problems_of(path)
    assert (problem.line, problem.field) == (3, "value")
    assert problem.message.startswith("must be a finite number, got '")


@pytest.mark.parametrize(
    ("good", "total", "field", "message"),
    [
        ("1", DIGITS_400, "total", "is too large: 100000000000...0000 (401 digits) is over"),
        ("1", DIGITS_5000, "total", "is too large: '100000000000...0000' (5001 digits) is over"),
        ("1", str(MAX_COUNT + 1), "total", f"is too large: {MAX_COUNT + 1} is over"),
        ("1", str(2**63), "total", f"is too large: {2**63} is over"),
        ("-1", "1", "good", "must not be negative, got -1"),
        ("1", "-" + DIGITS_400, "total", "must not be negative, got -100000000000...0000"),
        ("0.5", "1", "good", "must be an integer, got 0.5"),
        ("1", "1e400", "total", "must be an integer, got inf"),
        ("1", "NaN", "total", "must be an integer, got nan"),
        ("true", "1", "good", "must be a non-negative integer, got true"),
    ],
)
def test_jsonl_counts_that_do_not_fit_are_refused(
    tmp_path: Path, good: str, total: str, field: str, message: str
) -> None:
    bad = f'{{"time": {T0}, "sli": "checkout", "good": {good}, "total": {total}}}'
    path = write(tmp_path, "e.jsonl", "\n".join([VALID_COUNTS, bad, VALID_COUNTS]) + "\n")
    [problem] = problems_of(path)
    assert (problem.line, problem.field) == (2, field)
    assert problem.message.startswith(message), problem.message


@pytest.mark.parametrize(
    ("good", "total", "field", "message"),
    [
        ("1", DIGITS_5000, "total", "is too large: '100000000000...0000' (5001 digits)"),
        ("1", str(MAX_COUNT + 1), "total", "is too large"),
        ("1", "1e400", "total", "must be an integer, got '1e400'"),
        ("-" + DIGITS_5000, "1", "good", "must not be negative"),
        ("1.5", "2", "good", "must be an integer, got '1.5'"),
        ("1", "true", "total", "must be an integer, got 'true'"),
    ],
)
def test_csv_counts_that_do_not_fit_are_refused(
    tmp_path: Path, good: str, total: str, field: str, message: str
) -> None:
    path = write(
        tmp_path,
        "e.csv",
        f"time,sli,good,total\n{T0},checkout,1,1\n{T0},checkout,{good},{total}\n",
    )
    [problem] = problems_of(path)
    assert (problem.line, problem.field) == (3, field)
    assert problem.message.startswith(message), problem.message


def test_the_largest_exact_count_is_accepted(tmp_path: Path) -> None:
    path = write(tmp_path, "e.csv", f"time,sli,good,total\n{T0},checkout,0,{MAX_COUNT}\n")
    assert list(read_rows(path)) == [EventRow(T0, "checkout", 0, MAX_COUNT, None, 2)]


def test_api_records_beyond_float_range_are_refused_by_index() -> None:
    records: list[object] = [
        {"time": T0, "sli": "latency", "value": 0.25},
        {"time": T0, "sli": "latency", "value": int(DIGITS_400)},
        {"time": T0, "sli": "latency", "value": float("inf")},
        {"time": T0, "sli": "checkout", "good": 1, "total": int(DIGITS_400)},
        {"time": T0, "sli": "checkout", "good": 1, "total": 10**5000},
    ]
    log = ProblemLog()
    chunk = parse_records(records, problems=log)
    assert len(chunk) == 1
    assert [(p.index, p.field) for p in log.problems] == [
        (1, "value"),
        (2, "value"),
        (3, "total"),
        (4, "total"),
    ]
    assert log.problems[3].message.startswith("is too large: an integer of over 4000 digits")


def test_a_json_array_with_a_5000_digit_number_is_refused_at_its_index(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "e.json",
        f'[{VALID}, {{"time": {T0}, "sli": "latency", "value": {DIGITS_5000}}}]',
    )
    [problem] = problems_of(path)
    assert (problem.index, problem.field) == (1, "value")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (5, "5"),
        (True, "true"),
        ("short", "'short'"),
        (int(DIGITS_400), "100000000000...0000 (401 digits)"),
        (-int(DIGITS_400), "-100000000000...0000 (401 digits)"),
        (10**5000, "an integer of over 4000 digits"),
        ("x" * 500, "'xxxxxxxxxxxxxxxxxxxxxxxx'... (500 characters)"),
        ([0] * 100, "[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, ... (300 characters)"),
    ],
    ids=["int", "bool", "text", "400 digits", "-400 digits", "5000 digits", "long text", "list"],
)
def test_shown_keeps_messages_short(raw: object, expected: str) -> None:
    assert shown(raw) == expected


def test_a_huge_bad_field_gives_a_short_message(tmp_path: Path) -> None:
    path = write(tmp_path, "e.csv", f"time,sli,value\n{T0},latency,{'x' * 100_000}\n")
    [problem] = problems_of(path)
    assert (
        problem.message == "must be a number, got 'xxxxxxxxxxxxxxxxxxxxxxxx'... (100000 characters)"
    )


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("e.csv", gzip.compress(b"time,sli,good,total\n"), "it is gzip-compressed"),
        ("e.jsonl", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary data, not UTF-8"),
        ("e.csv", b"time,sli,value\x00\n", "binary data, not UTF-8"),
    ],
)
def test_binary_files_are_file_errors(
    tmp_path: Path, name: str, content: bytes, message: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(InvalidEventFile) as caught:
        list(read_rows(path))
    assert caught.value.detail.startswith(f"{path}: not a CSV or JSONL file: ")
    assert message in caught.value.detail


def test_a_file_with_no_line_of_json_is_not_jsonl(tmp_path: Path) -> None:
    path = write(tmp_path, "e.jsonl", f"time,sli,good,total\n{T0},checkout,1,1\n")
    with pytest.raises(InvalidEventFile) as caught:
        list(read_rows(path))
    assert caught.value.detail.startswith(
        f"{path}: not a JSONL file: no line is JSON (line 1: not valid JSON: "
    )
    assert "or CSV with a header (expected time,sli,good,total or time,sli,value)" in (
        caught.value.detail
    )


def test_a_jsonl_file_with_some_bad_lines_reports_each(tmp_path: Path) -> None:
    path = write(tmp_path, "e.jsonl", f"{{broken\n{VALID}\n{'[' * 100_000}\n")
    problems = problems_of(path)
    assert [(p.line, p.message) for p in problems][1] == (3, "not valid JSON: nested too deeply")
    assert problems[0].line == 1


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("[{", "not valid JSON: "),
        ('{"events": []}', None),  # an object is read as JSONL: one line, one event
        ("[" * 100_000 + "]" * 100_000, "JSON nested too deeply"),
    ],
)
def test_json_array_files_that_cannot_hold_events(
    tmp_path: Path, content: str, message: str | None
) -> None:
    path = write(tmp_path, "e.json", content)
    if message is None:
        problems = problems_of(path)
        assert [(p.line, p.field) for p in problems] == [(1, "time"), (1, "sli"), (1, None)]
        return
    with pytest.raises(InvalidEventFile) as caught:
        list(read_rows(path))
    assert caught.value.detail.startswith(f"{path}: {message}")


def test_jsonl_in_a_csv_named_file_is_pointed_out(tmp_path: Path) -> None:
    path = write(tmp_path, "events.csv", VALID_COUNTS + "\n")
    with pytest.raises(InvalidEventFile) as caught:
        list(read_rows(path))
    assert caught.value.detail.startswith(f"{path}: header: no known column")
    assert caught.value.detail.endswith("; JSONL files need a .jsonl name)")
