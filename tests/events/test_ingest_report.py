"""One ingest reports everything wrong with its input at once, and stores nothing then.

Bad rows, rows of the wrong kind and unknown SLI names (even on rows that are bad in other
ways too) come in one InvalidEvents error; buckets whose sums would pass the exact count
limit are refused before anything is written. Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from watchkeeper.core.slo import SLI, SLIKind
from watchkeeper.events import service
from watchkeeper.events.datafile import EventRow
from watchkeeper.events.exceptions import InvalidEvents, UnknownSLI
from watchkeeper.events.models import SLIBucket
from watchkeeper.events.rows import MAX_COUNT

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
T0 = 1_795_428_000  # 2026-11-23T10:00:00Z
HINT = "an SLI is registered when an SLO that uses it is applied"


@pytest.fixture
def slis(session: Session) -> None:
    service.register_slis(
        session,
        [SLI("checkout"), SLI("latency", kind=SLIKind.THRESHOLD, threshold=0.3)],
        now=NOW,
    )


def bucket_totals(session: Session) -> list[tuple[int, int]]:
    query = select(SLIBucket.start, SLIBucket.total).order_by(SLIBucket.start)
    return [(int(start), int(total)) for start, total in session.execute(query)]


def bucket_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(SLIBucket)) or 0


def test_a_file_reports_bad_rows_and_unknown_names_in_one_run(
    session: Session, slis: None, tmp_path: Path
) -> None:
    path = tmp_path / "events.csv"
    path.write_text(
        "time,sli,good,total,value\n"
        f"{T0},checkout,1,1,\n"  # 2: fine
        f"{T0},chekout,1,1,\n"  # 3: unknown, close to checkout
        f"{T0},checkout,5,3,\n"  # 4: good > total
        "soon,chekout,1,1,\n"  # 5: bad time, and the unknown name again
        f"{T0},latency,1,1,\n"  # 6: counts for a threshold SLI
        f"{T0},zzz,,,0.5\n"  # 7: unknown, nothing close
        f"{T0},chekout,1,1,\n"  # 8
    )
    with pytest.raises(InvalidEvents) as caught:
        service.ingest_file(session, path, clock=lambda: NOW)
    error = caught.value
    assert type(error) is InvalidEvents
    assert error.lines() == [
        f"{path}:4: good: good (5) exceeds total (3)",
        f"{path}:5: time: malformed time 'soon': expected RFC 3339 such as "
        "2026-11-23T10:00:00Z, or Unix seconds",
        f"{path}:6: good: SLI 'latency' takes observations: send value, not good and total",
        f"{path}:3: sli: unknown SLI 'chekout' (did you mean 'checkout'?) in 3 rows: lines 3, 5, 8",
        f"{path}:7: sli: unknown SLI 'zzz' in 1 row",
        HINT,
    ]
    assert error.summary() == "3 invalid events and 2 unknown SLI names"
    assert error.extra["unknown"] == ["chekout", "zzz"]
    assert error.extra["unknown_slis"] == [
        {"sli": "chekout", "count": 3, "lines": [3, 5, 8], "did_you_mean": "checkout"},
        {"sli": "zzz", "count": 1, "lines": [7], "did_you_mean": None},
    ]
    assert bucket_count(session) == 0


def test_only_unknown_names_is_an_unknown_sli_error(
    session: Session, slis: None, tmp_path: Path
) -> None:
    rows = "".join(f"{T0 + i},chekout,1,1\n" for i in range(8))
    path = tmp_path / "events.csv"
    path.write_text(f"time,sli,good,total\n{T0},checkout,1,1\n" + rows)
    with pytest.raises(UnknownSLI) as caught:
        service.ingest_file(session, path, clock=lambda: NOW)
    error = caught.value
    # The first five lines are listed, then "...": eight rows in all.
    assert error.lines() == [
        f"{path}:3: sli: unknown SLI 'chekout' (did you mean 'checkout'?) in 8 rows: "
        "lines 3, 4, 5, 6, 7, ...",
        HINT,
    ]
    assert error.detail == (
        f"unknown SLI: 'chekout' (did you mean 'checkout'?) first at {path}:3; {HINT}"
    )
    assert bucket_count(session) == 0


def test_api_records_report_bad_rows_and_unknown_names_by_index(
    session: Session, slis: None
) -> None:
    records = [
        {"time": T0, "sli": "checkout", "good": 1, "total": 1},
        {"time": T0, "sli": "checkout", "good": 1, "total": -1},
        {"time": T0, "sli": "latencyy", "value": 0.1},
        {"time": T0, "sli": "latencyy", "value": float("nan")},
        {"time": T0, "sli": "latency", "value": 10**400},
    ]
    with pytest.raises(InvalidEvents) as caught:
        service.ingest(session, records, now=NOW)
    error = caught.value
    assert [(p.index, p.field) for p in error.problems] == [
        (1, "total"),
        (3, "value"),
        (4, "value"),
    ]
    assert error.unknown == ["latencyy"]
    assert error.extra["unknown_slis"] == [
        {"sli": "latencyy", "count": 2, "indexes": [2, 3], "did_you_mean": "latency"}
    ]
    assert error.detail.startswith("3 invalid events and 1 unknown SLI name; first: event 1:")
    assert bucket_count(session) == 0


def test_event_rows_report_unknown_names_with_their_lines(session: Session, slis: None) -> None:
    rows = [
        EventRow(T0, "checkout", 1, 1, None, 10),
        EventRow(T0, "nope", 1, 1, None, 11),
        EventRow(T0, "checkout", 2, 1, None, 12),
    ]
    with pytest.raises(InvalidEvents) as caught:
        service.ingest(session, rows, now=NOW)
    assert caught.value.lines()[:2] == [
        "line 12: good: good (2) exceeds total (1)",
        "line 11: sli: unknown SLI 'nope' in 1 row",
    ]


def test_unknown_names_past_the_cap_are_counted(session: Session, slis: None) -> None:
    records = [{"time": T0, "sli": f"unknown-{i:03}", "good": 1, "total": 1} for i in range(70)]
    records += [{"time": T0, "sli": "checkout", "good": 2, "total": 1}] * 60
    with pytest.raises(InvalidEvents) as caught:
        service.ingest(session, records, now=NOW)
    error = caught.value
    assert (len(error.problems), error.total, error.extra["errors_omitted"]) == (50, 60, 10)
    assert len(error.unknown) == 50
    assert error.unknown[0] == "unknown-000"
    assert (error.unknown_total, error.extra["unknown_omitted"]) == (70, 20)
    lines = error.lines()
    assert len(lines) == 50 + 1 + 50 + 1 + 1
    assert lines[50] == "... and 10 more problems"
    assert lines[-2] == "... and 20 more unknown SLI names"


def test_a_bucket_summing_past_the_limit_is_refused(session: Session, slis: None) -> None:
    # Each row fits; 1025 of them in one minute would wrap a 64-bit sum around.
    rows = [{"time": T0, "sli": "checkout", "good": 0, "total": MAX_COUNT}] * 1025
    rows.append({"time": T0 + 60, "sli": "checkout", "good": 1, "total": 1})
    with pytest.raises(InvalidEvents) as caught:
        service.ingest(session, rows, now=NOW)
    [problem] = caught.value.problems
    assert problem.field == "total"
    assert problem.message == (
        "SLI 'checkout', 60-second bucket from 2026-11-23T10:00:00Z: the totals would sum to "
        f"more than {MAX_COUNT}, the most a bucket keeps exactly"
    )
    assert bucket_count(session) == 0


def test_two_rows_just_past_the_limit_together_are_refused(session: Session, slis: None) -> None:
    rows = [
        {"time": T0, "sli": "checkout", "good": 0, "total": MAX_COUNT - 1},
        {"time": T0 + 1, "sli": "checkout", "good": 0, "total": 2},
    ]
    with pytest.raises(InvalidEvents, match="the totals would sum to more than"):
        service.ingest(session, rows, now=NOW)
    rows[1]["total"] = 1
    service.ingest(session, rows, now=NOW)
    assert bucket_totals(session) == [(T0, MAX_COUNT)]


def test_a_bucket_full_in_the_store_takes_no_more(session: Session, slis: None) -> None:
    service.ingest(
        session, [{"time": T0, "sli": "checkout", "good": 0, "total": MAX_COUNT}], now=NOW
    )
    more = [
        {"time": T0 + 5, "sli": "checkout", "good": 1, "total": 1},
        {"time": T0 + 60, "sli": "checkout", "good": 1, "total": 1},
    ]
    with pytest.raises(InvalidEvents) as caught:
        service.ingest(session, more, now=NOW)
    [problem] = caught.value.problems
    assert "60-second bucket from 2026-11-23T10:00:00Z" in problem.message
    assert bucket_totals(session) == [(T0, MAX_COUNT)]
    # The next minute's bucket is not full: it takes its events.
    service.ingest(session, more[1:], now=NOW)
    assert bucket_totals(session) == [(T0, MAX_COUNT), (T0 + 60, 1)]


def test_threshold_values_that_overflow_floats_are_refused_after_valid_ones(
    session: Session, slis: None, tmp_path: Path
) -> None:
    path = tmp_path / "events.jsonl"
    good = json.dumps({"time": T0, "sli": "latency", "value": 0.1})
    path.write_text(f'{good}\n{{"time": {T0}, "sli": "latency", "value": 1{"0" * 400}}}\n')
    with pytest.raises(InvalidEvents) as caught:
        service.ingest_file(session, path, clock=lambda: NOW)
    assert caught.value.lines() == [
        f"{path}:2: value: must be a finite number, got 100000000000...0000 (401 digits)"
    ]
    assert bucket_count(session) == 0
