"""Parsing SLI event data files: formats, time forms, and every reason a row is refused."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from tests.events.support import problems_of, write
from watchkeeper.events.datafile import (
    EventRow,
    chunks_from_rows,
    detect_format,
    parse_records,
    parse_time,
    read_chunks,
    read_rows,
)
from watchkeeper.events.exceptions import (
    InvalidEventFile,
    InvalidEvents,
    ProblemLog,
    UnreadableEventFile,
)

T0 = 1_795_428_000  # 2026-11-23T10:00:00Z


def test_csv_rows_with_counts_values_and_line_numbers(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "events.csv",
        "time,sli,good,total,value\n"
        "2026-11-23T10:00:00Z,checkout,9,10,\n"
        "\n"
        "2026-11-23T11:00:30+01:00,latency,,,0.25\n"
        f"{T0 + 5},checkout,0,0,\n"
        f"{T0}.5,latency,,,3\n",
    )
    rows = list(read_rows(path))
    assert rows == [
        EventRow(T0, "checkout", 9, 10, None, 2),
        EventRow(T0 + 30, "latency", None, None, 0.25, 4),
        EventRow(T0 + 5, "checkout", 0, 0, None, 5),
        EventRow(T0 + 0.5, "latency", None, None, 3.0, 6),
    ]


def test_jsonl_rows_with_numbers_strings_and_line_numbers(tmp_path: Path) -> None:
    lines = [
        {"time": "2026-11-23T10:00:00Z", "sli": "checkout", "good": 9, "total": 10},
        {"time": T0 + 1, "sli": "latency", "value": 0.5, "labels": {"ignored": True}},
        {"time": str(T0 + 2), "sli": " checkout ", "good": "3", "total": 4.0},
    ]
    text = json.dumps(lines[0]) + "\n\n" + "\n".join(json.dumps(x) for x in lines[1:]) + "\n"
    rows = list(read_rows(write(tmp_path, "events.jsonl", text)))
    assert rows == [
        EventRow(T0, "checkout", 9, 10, None, 1),
        EventRow(T0 + 1, "latency", None, None, 0.5, 3),
        EventRow(T0 + 2, "checkout", 3, 4, None, 4),
    ]


def test_json_array_file_is_located_by_index(tmp_path: Path) -> None:
    events = [
        {"time": T0, "sli": "a", "good": 1, "total": 1},
        {"time": T0, "sli": "a", "good": 2, "total": 1},
    ]
    path = write(tmp_path, "events.json", json.dumps(events))
    with pytest.raises(InvalidEvents) as caught:
        list(read_rows(path))
    assert [(p.index, p.line, p.field) for p in caught.value.problems] == [(1, None, "good")]
    assert caught.value.detail == f"{path}[1]: good: good (2) exceeds total (1)"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-23T10:00:00Z", T0),
        ("2026-11-23T10:00:00.250Z", T0 + 0.25),
        ("2026-11-23T11:00:00+01:00", T0),
        ("2026-11-23T05:30:00-04:30", T0),
        ("2026-11-23 10:00:00+00:00", T0),
        (str(T0), T0),
        (f"{T0}.75", T0 + 0.75),
        (T0, T0),
        (float(T0) + 0.5, T0 + 0.5),
    ],
)
def test_time_forms(text: str | float, expected: float) -> None:
    assert parse_time(text) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("2026-11-23T10:00:00", "has no UTC offset"),
        ("2026-11-23", "has no UTC offset"),
        ("yesterday", "malformed time"),
        ("2026-13-01T00:00:00Z", "malformed time"),
        ("nan", "out of range"),
        ("-5", "out of range"),
        (1e20, "out of range"),
        (True, "malformed time"),
    ],
)
def test_bad_times(raw: object, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        parse_time(raw)


BAD_CSV_ROWS = [
    # (row, field, message fragment)
    (",checkout,1,1,", "time", "missing field"),
    ("2026-11-23T10:00:00,checkout,1,1,", "time", "no UTC offset"),
    ("10:00,checkout,1,1,", "time", "malformed time"),
    (f"{T0},,1,1,", "sli", "missing field"),
    (f"{T0},  ,1,1,", "sli", "must not be empty"),
    (f"{T0},checkout,-1,1,", "good", "must not be negative"),
    (f"{T0},checkout,1,-2,", "total", "must not be negative"),
    (f"{T0},checkout,5,3,", "good", "good (5) exceeds total (3)"),
    (f"{T0},checkout,1.5,3,", "good", "must be an integer"),
    (f"{T0},checkout,1,many,", "total", "must be an integer"),
    (f"{T0},checkout,1,,", "total", "missing field"),
    (f"{T0},checkout,,1,", "good", "missing field"),
    (f"{T0},checkout,1,1,0.5", "value", "not both"),
    (f"{T0},checkout,,,", None, "give good and total, or value"),
    (f"{T0},latency,,,inf", "value", "finite"),
    (f"{T0},latency,,,nan", "value", "finite"),
    (f"{T0},latency,,,fast", "value", "must be a number"),
    (f"{T0},latency,1,1", None, "has 4 fields but the header has 5"),
]


@pytest.mark.parametrize(("row", "field", "message"), BAD_CSV_ROWS)
def test_each_csv_reason_is_reported_at_its_line(
    tmp_path: Path, row: str, field: str | None, message: str
) -> None:
    good = f"{T0},checkout,1,1,\n"
    path = write(tmp_path, "e.csv", "time,sli,good,total,value\n" + good + row + "\n" + good)
    [problem] = problems_of(path)
    assert problem.line == 3
    assert problem.field == field
    assert message in problem.message


BAD_JSON_RECORDS = [
    ({"sli": "a", "good": 1, "total": 1}, "time", "missing field"),
    ({"time": "2026-11-23T10:00:00", "sli": "a", "good": 1, "total": 1}, "time", "no UTC offset"),
    ({"time": [1], "sli": "a", "good": 1, "total": 1}, "time", "malformed time"),
    ({"time": T0, "good": 1, "total": 1}, "sli", "missing field"),
    ({"time": T0, "sli": 7, "good": 1, "total": 1}, "sli", "must be a string"),
    ({"time": T0, "sli": "", "good": 1, "total": 1}, "sli", "must not be empty"),
    ({"time": T0, "sli": "a", "good": -1, "total": 1}, "good", "must not be negative"),
    ({"time": T0, "sli": "a", "good": 2, "total": 1}, "good", "exceeds total"),
    ({"time": T0, "sli": "a", "good": 0.5, "total": 1}, "good", "must be an integer"),
    ({"time": T0, "sli": "a", "good": True, "total": 1}, "good", "non-negative integer"),
    ({"time": T0, "sli": "a", "good": 1}, "total", "missing field"),
    ({"time": T0, "sli": "a", "good": 1, "total": 1, "value": 2}, "value", "not both"),
    ({"time": T0, "sli": "a"}, None, "give good and total, or value"),
    ({"time": T0, "sli": "a", "value": "NaN"}, "value", "finite"),
    ({"time": T0, "sli": "a", "value": False}, "value", "must be a number"),
    ({"time": T0, "sli": "a", "good": 1, "total": 2**60}, "total", "too large"),
]


@pytest.mark.parametrize(("record", "field", "message"), BAD_JSON_RECORDS)
def test_each_json_reason_is_reported_at_its_line(
    tmp_path: Path, record: dict[str, object], field: str | None, message: str
) -> None:
    good = json.dumps({"time": T0, "sli": "a", "good": 1, "total": 1})
    path = write(tmp_path, "e.jsonl", "\n".join([good, json.dumps(record), good]) + "\n")
    [problem] = problems_of(path)
    assert (problem.line, problem.field) == (2, field)
    assert message in problem.message


def test_jsonl_lines_that_are_not_objects(tmp_path: Path) -> None:
    path = write(tmp_path, "e.ndjson", '{"time": 1, "sli": "a"\n[1, 2]\n"text"\n')
    problems = problems_of(path)
    assert [(p.line, p.message.split(":")[0]) for p in problems] == [
        (1, "not valid JSON"),
        (2, "must be a JSON object, got list"),
        (3, "must be a JSON object, got str"),
    ]


def test_a_row_with_several_problems_reports_each(tmp_path: Path) -> None:
    path = write(tmp_path, "e.csv", "time,sli,good,total\nnoon,,7,3\n")
    problems = problems_of(path)
    assert [(p.line, p.field) for p in problems] == [(2, "time"), (2, "sli"), (2, "good")]


def test_all_problems_are_counted_but_only_50_listed(tmp_path: Path) -> None:
    rows = "".join(f"{T0},a,{i + 2},1\n" for i in range(250))
    path = write(tmp_path, "many.csv", "time,sli,good,total\n" + rows)
    with pytest.raises(InvalidEvents) as caught:
        list(read_chunks(path))
    error = caught.value
    assert error.total == 250
    assert len(error.problems) == 50
    assert [p.line for p in error.problems] == list(range(2, 52))
    assert error.lines()[-1] == "... and 200 more problems"
    assert error.extra["errors_omitted"] == 200
    assert error.detail.startswith(f"250 invalid events; first: {path}:2: good: good (2)")


EXPECTED = "expected time,sli,good,total or time,sli,value"


@pytest.mark.parametrize(
    ("header", "problem"),
    [
        ("when,sli,good,total", "missing column 'time'; unknown column 'when'"),
        ("time,name,good,total", "missing column 'sli'; unknown column 'name'"),
        ("time,sli,good", "missing column 'total'"),
        ("time,sli,total", "missing column 'good'"),
        ("sli,value", "missing column 'time'"),
        ("time,sli", "missing columns 'good' and 'total', or 'value'"),
        (
            "time,sli,bad,total",
            "missing column 'good'; unknown column 'bad' (rows carry good and total, not bad)",
        ),
        ("time,sli,good,total,bad", "unknown column 'bad' (rows carry good and total, not bad)"),
        ("time,sli,value,service", "unknown column 'service'"),
        ("time,sli,good,total,good", "duplicate column 'good'"),
        ("time,Time,sli,SLI,value", "duplicate columns 'time', 'sli'"),
        (
            f"{T0},checkout,1,1",
            "no known column (the first line must be the header); "
            f"{EXPECTED} (got '{T0}', 'checkout', '1', '1')",
        ),
    ],
)
def test_a_wrong_header_is_a_file_error(tmp_path: Path, header: str, problem: str) -> None:
    path = write(tmp_path, "e.csv", header + f"\n{T0},checkout,1,1\n")
    with pytest.raises(InvalidEventFile) as caught:
        list(read_rows(path))
    message = caught.value.detail
    if "no known column" in problem:
        assert message == f"{path}: header: {problem}"
    else:
        assert message == f"{path}: header: {problem}; {EXPECTED}"
    assert caught.value.status_code == 422


def test_a_problem_log_given_by_the_caller_does_not_hide_a_file_error(tmp_path: Path) -> None:
    log = ProblemLog()
    path = write(tmp_path, "e.csv", f"time,sli,total\n{T0},a,1\n")
    with pytest.raises(InvalidEventFile, match="missing column 'good'"):
        list(read_chunks(path, problems=log))
    assert not log


def test_header_is_case_and_space_insensitive_and_order_free(tmp_path: Path) -> None:
    path = write(tmp_path, "e.csv", f" Total ,GOOD, sli ,,Time\n10,9,checkout,,{T0}\n")
    assert list(read_rows(path)) == [EventRow(T0, "checkout", 9, 10, None, 2)]


def test_value_only_header_and_bom(tmp_path: Path) -> None:
    path = tmp_path / "e.csv"
    path.write_bytes(b"\xef\xbb\xbftime,sli,value\n" + f"{T0},latency,0.125\n".encode())
    assert list(read_rows(path)) == [EventRow(T0, "latency", None, None, 0.125, 2)]


def test_quoted_csv_fields(tmp_path: Path) -> None:
    path = write(tmp_path, "e.csv", f'time,sli,good,total\n"{T0}","checkout, eu",1,2\n')
    assert list(read_rows(path)) == [EventRow(T0, "checkout, eu", 1, 2, None, 2)]


def test_invalid_utf8_is_reported_at_its_line(tmp_path: Path) -> None:
    path = tmp_path / "e.csv"
    path.write_bytes(b"time,sli,good,total\n" + f"{T0},caf\xe9,1,1\n".encode("latin-1"))
    [problem] = problems_of(path)
    assert problem.line == 2
    assert "not valid UTF-8" in problem.message


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("a.csv", b"{}", "csv"),
        ("a.jsonl", b"time,sli", "jsonl"),
        ("a.ndjson", b"", "jsonl"),
        ("a.json", b'{"time": 1}', "jsonl"),
        ("a.json", b'  [{"time": 1}]', "json"),
        ("a.txt", b'\n{"time": 1}', "jsonl"),
        ("a.log", b"[]", "json"),
        ("data", b"time,sli,good,total", "csv"),
    ],
)
def test_format_detection(name: str, content: bytes, expected: str) -> None:
    assert detect_format(Path(name), content) == expected


def test_sniffed_jsonl_without_extension(tmp_path: Path) -> None:
    path = write(tmp_path, "events.txt", json.dumps({"time": T0, "sli": "a", "value": 1}) + "\n")
    assert list(read_rows(path)) == [EventRow(T0, "a", None, None, 1.0, 1)]


def test_chunks_are_columns_and_valid_rows_continue_after_a_bad_one(tmp_path: Path) -> None:
    rows = [f"{T0 + i},{'a' if i % 2 else 'b'},{i % 3},{i % 3 + 1}" for i in range(10)]
    rows[4] = f"{T0},a,9,1"
    path = write(tmp_path, "e.csv", "time,sli,good,total\n" + "\n".join(rows) + "\n")
    chunks = []
    with pytest.raises(InvalidEvents):
        for chunk in read_chunks(path, chunk_rows=3):
            chunks.append(chunk)
    assert [len(c) for c in chunks] == [3, 3, 3]
    lines = np.concatenate([c.location for c in chunks]).tolist()
    assert lines == [2, 3, 4, 5, 7, 8, 9, 10, 11]
    assert chunks[-1].names == ("b", "a")
    assert np.isnan(chunks[0].value).all()


def test_progress_reports_bytes_read(tmp_path: Path) -> None:
    rows = "".join(f"{T0 + i},a,1,1\n" for i in range(50_000))
    path = write(tmp_path, "big.csv", "time,sli,good,total\n" + rows)
    seen: list[tuple[int, int]] = []
    count = sum(len(c) for c in read_chunks(path, progress=lambda d, t: seen.append((d, t))))
    assert count == 50_000
    size = path.stat().st_size
    assert seen[-1] == (size, size)
    assert len(seen) >= 2
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)


def test_jsonl_block_fallback_keeps_line_numbers(tmp_path: Path) -> None:
    # Two objects on one line would shift a block-parsed array; it must be caught by line.
    good = json.dumps({"time": T0, "sli": "a", "good": 1, "total": 1})
    path = write(tmp_path, "e.jsonl", f"{good}\n{good} {good}\n{good}\n")
    [problem] = problems_of(path)
    assert problem.line == 2
    assert "not valid JSON" in problem.message


def test_an_empty_csv_file_has_no_header(tmp_path: Path) -> None:
    for name, text in (("e.csv", ""), ("blank.csv", "\n\n"), ("data", "")):
        path = write(tmp_path, name, text)
        with pytest.raises(InvalidEventFile) as caught:
            list(read_rows(path))
        assert caught.value.detail == f"{path}: header: the file is empty; {EXPECTED}"


def test_files_without_rows_have_no_events(tmp_path: Path) -> None:
    # A header alone is a CSV file of no events; JSONL needs no header at all.
    assert list(read_rows(write(tmp_path, "h.csv", "time,sli,good,total\n"))) == []
    assert list(read_rows(write(tmp_path, "e.jsonl", "\n\n"))) == []
    assert list(read_rows(write(tmp_path, "empty.jsonl", ""))) == []
    assert list(read_rows(write(tmp_path, "e.json", "[]"))) == []


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(UnreadableEventFile, match="no such file"):
        list(read_rows(tmp_path / "nope.csv"))
    with pytest.raises(UnreadableEventFile, match="directory"):
        list(read_rows(tmp_path))


def test_parse_records_locates_by_index() -> None:
    chunk = parse_records(
        [{"time": T0, "sli": "a", "good": 1, "total": 2}, {"time": T0, "sli": "b", "value": 3}]
    )
    assert chunk.by_index
    assert list(chunk.rows()) == [
        EventRow(T0, "a", 1, 2, None, 0),
        EventRow(T0, "b", None, None, 3.0, 1),
    ]
    with pytest.raises(InvalidEvents) as caught:
        parse_records([{"time": T0, "sli": "a", "good": 1, "total": 2}, 5])
    assert caught.value.extra["errors"] == [
        {"index": 1, "field": None, "message": "must be a JSON object, got int"}
    ]


def test_chunks_from_rows_revalidates() -> None:
    good = EventRow(T0, "a", 1, 2, None, 7)
    bad = EventRow(math.nan, "a", 1, 2, None, 8)
    [chunk] = list(chunks_from_rows([good]))
    assert list(chunk.rows()) == [good]
    with pytest.raises(InvalidEvents) as caught:
        list(chunks_from_rows([good, bad]))
    assert [(p.line, p.field) for p in caught.value.problems] == [(8, "time")]


def test_malformed_csv_is_reported_and_reading_goes_on(tmp_path: Path) -> None:
    huge = "x" * 200_000  # over csv.field_size_limit()
    path = write(
        tmp_path, "e.csv", f"time,sli,good,total\n{T0},{huge},1,1\n{T0},a,1,1\n{T0},a,2,1\n"
    )
    problems = problems_of(path)
    assert [p.line for p in problems] == [2, 4]
    assert "malformed CSV" in problems[0].message
