"""Event store use cases on a real database (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import random
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from watchkeeper.core.slo import SLI, Operator, SLIKind, SourceKind
from watchkeeper.errors import InvalidInput
from watchkeeper.events import repository, service
from watchkeeper.events.datafile import EventRow
from watchkeeper.events.exceptions import InvalidEvents, UnknownSLI
from watchkeeper.events.models import SLIBucket, SLIRecord

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
T0 = 1_795_428_000  # 2026-11-23T10:00:00Z
LATENCY = SLI("latency", kind=SLIKind.THRESHOLD, threshold=0.3, operator=Operator.LTE)


def stored(session: Session) -> dict[tuple[str, int, int], tuple[int, int]]:
    """Every bucket as {(name rows carry, resolution, start): (good, total)} (one threshold
    per name in these tests; see test_one_stream_of_values_counts_for_every_threshold)."""
    query = select(
        SLIRecord.source_name,
        SLIBucket.resolution,
        SLIBucket.start,
        SLIBucket.good,
        SLIBucket.total,
    ).join(SLIRecord, SLIRecord.id == SLIBucket.sli_id)
    return {(n, r, s): (g, t) for n, r, s, g, t in session.execute(query)}


def bucket_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(SLIBucket)) or 0


@pytest.fixture
def slis(session: Session) -> dict[str, int]:
    records = service.register_slis(session, [SLI("checkout"), SLI("search"), LATENCY], now=NOW)
    return {r.name: r.id for r in records}


def test_register_creates_updates_and_skips_non_store_slis(session: Session) -> None:
    prometheus = SLI("from-prom", source=SourceKind.PROMETHEUS)
    records = service.register_slis(session, [SLI("checkout"), LATENCY, prometheus], now=NOW)
    [checkout, latency] = records
    assert (checkout.kind, checkout.threshold, checkout.operator) == ("counts", None, None)
    assert (latency.kind, latency.threshold, latency.operator) == ("observations", 0.3, "lte")
    assert (checkout.name, latency.name) == ("checkout", "latency[lte 0.3]")
    # Another threshold on the same stream is another record; the first keeps counting.
    stricter = SLI("latency", kind=SLIKind.THRESHOLD, threshold=0.2, operator=Operator.LT)
    [other] = service.register_slis(session, [stricter], now=NOW + timedelta(days=1))
    assert other.id != latency.id
    assert (other.name, other.source_name) == ("latency[lt 0.2]", "latency")
    [same] = service.register_slis(session, [LATENCY], now=NOW + timedelta(days=2))
    assert same.id == latency.id
    assert repository.sli_names(session) == ["checkout", "latency"]
    timeslices = SLI("slices", kind=SLIKind.TIMESLICES, slice_kind=SLIKind.THRESHOLD, threshold=1.0)
    [sliced] = service.register_slis(session, [timeslices], now=NOW)
    assert sliced.kind == "observations"
    with pytest.raises(InvalidInput, match="threshold"):
        service.register_slis(session, [SLI("bad", kind=SLIKind.THRESHOLD)], now=NOW)


def test_counts_are_summed_per_minute_like_a_naive_sum(
    session: Session, slis: dict[str, int]
) -> None:
    rng = random.Random(3)
    rows = []
    naive: dict[tuple[str, int, int], list[int]] = defaultdict(lambda: [0, 0])
    for i in range(3000):
        name = rng.choice(["checkout", "search"])
        time = T0 + rng.uniform(0, 7200)
        total = rng.randint(0, 50)
        good = rng.randint(0, total)
        rows.append(EventRow(time, name, good, total, None, i + 2))
        key = (name, 60, int(time // 60 * 60))
        naive[key][0] += good
        naive[key][1] += total
    result = service.ingest(session, rows, now=NOW)
    assert result.accepted == 3000
    assert result.buckets == len(naive)
    assert stored(session) == {k: (g, t) for k, (g, t) in naive.items()}


def test_ingest_adds_to_existing_buckets(session: Session, slis: dict[str, int]) -> None:
    event = {"time": T0 + 1, "sli": "checkout", "good": 3, "total": 4}
    service.ingest(session, [event], now=NOW)
    service.ingest(session, [event, {**event, "time": T0 + 59.9}], now=NOW)
    assert stored(session) == {("checkout", 60, T0): (9, 12)}


@pytest.mark.parametrize("operator", list(Operator))
def test_observations_become_counts_with_each_operator(
    session: Session, operator: Operator
) -> None:
    threshold = 0.3
    sli = SLI("lat", kind=SLIKind.THRESHOLD, threshold=threshold, operator=operator)
    service.register_slis(session, [sli], now=NOW)
    values = [0.1, 0.3, 0.30000001, 0.5, 0.0, 7.0, 0.3]
    rows = [{"time": T0 + i, "sli": "lat", "value": v} for i, v in enumerate(values)]
    service.ingest(session, rows, now=NOW)
    expected_good = sum(operator.is_good(v, threshold) for v in values)
    assert stored(session) == {("lat", 60, T0): (expected_good, len(values))}


def test_mixed_count_and_observation_slis_in_one_batch(
    session: Session, slis: dict[str, int]
) -> None:
    rows = [
        {"time": T0, "sli": "checkout", "good": 5, "total": 5},
        {"time": T0 + 61, "sli": "latency", "value": 0.2},
        {"time": T0 + 62, "sli": "latency", "value": 0.4},
    ]
    assert service.ingest(session, rows, now=NOW) == service.IngestResult(3, 2)
    assert stored(session) == {("checkout", 60, T0): (5, 5), ("latency", 60, T0 + 60): (1, 2)}


def test_unknown_sli_lists_names_with_suggestions_and_writes_nothing(
    session: Session, slis: dict[str, int]
) -> None:
    rows = [
        {"time": T0, "sli": "checkout", "good": 1, "total": 1},
        {"time": T0, "sli": "chekout", "good": 1, "total": 1},
        {"time": T0, "sli": "zzz", "good": 1, "total": 1},
    ]
    with pytest.raises(UnknownSLI) as caught:
        service.ingest(session, rows, now=NOW)
    assert caught.value.unknown == ["chekout", "zzz"]
    assert "'chekout' (did you mean 'checkout'?) first at event 1" in caught.value.detail
    assert "'zzz' first at event 2" in caught.value.detail
    assert caught.value.status_code == 422
    assert bucket_count(session) == 0


def test_one_bad_row_stores_nothing(session: Session, slis: dict[str, int]) -> None:
    rows = [{"time": T0 + i, "sli": "checkout", "good": 1, "total": 1} for i in range(500)]
    rows[250] = {"time": T0, "sli": "checkout", "good": 2, "total": 1}
    with pytest.raises(InvalidEvents) as caught:
        service.ingest(session, rows, now=NOW)
    assert [(p.index, p.field) for p in caught.value.problems] == [(250, "good")]
    assert bucket_count(session) == 0


def test_kind_mismatches_are_located(session: Session, slis: dict[str, int]) -> None:
    rows = [
        EventRow(T0, "checkout", None, None, 0.2, 2),
        EventRow(T0, "latency", 1, 1, None, 3),
        EventRow(T0, "checkout", 1, 1, None, 4),
    ]
    with pytest.raises(InvalidEvents) as caught:
        service.ingest(session, rows, now=NOW)
    assert [(p.line, p.field) for p in caught.value.problems] == [(2, "value"), (3, "good")]
    assert "takes counts" in caught.value.problems[0].message
    assert "takes observations" in caught.value.problems[1].message
    assert bucket_count(session) == 0


def test_ingest_file_csv_and_jsonl_give_the_same_buckets(
    session: Session, slis: dict[str, int], tmp_path: Path
) -> None:
    events = [(T0 + i * 7.5, "checkout", i % 4, 3 + i % 4) for i in range(400)]
    csv_path = tmp_path / "e.csv"
    csv_path.write_text(
        "time,sli,good,total\n" + "".join(f"{t},{s},{g},{n}\n" for t, s, g, n in events)
    )
    jsonl_path = tmp_path / "e.jsonl"
    jsonl_path.write_text(
        "".join(
            json.dumps({"time": t, "sli": s, "good": g, "total": n}) + "\n" for t, s, g, n in events
        )
    )
    progress: list[tuple[int, int]] = []
    first = service.ingest_file(
        session, csv_path, clock=lambda: NOW, progress=lambda d, t: progress.append((d, t))
    )
    after_csv = stored(session)
    second = service.ingest_file(session, jsonl_path, clock=lambda: NOW)
    assert first == second == service.IngestResult(accepted=400, buckets=50)
    assert progress[-1] == (csv_path.stat().st_size,) * 2
    assert stored(session) == {k: (2 * g, 2 * t) for k, (g, t) in after_csv.items()}
    assert sum(t for _, t in after_csv.values()) == sum(e[3] for e in events)


def test_ingest_file_reports_file_and_registry_problems_together(
    session: Session, slis: dict[str, int], tmp_path: Path
) -> None:
    path = tmp_path / "e.csv"
    path.write_text(
        "time,sli,good,total,value\n"
        f"{T0},latency,1,1,\n"  # line 2: counts for an observation SLI
        f"{T0},checkout,1,1,\n"
        f"{T0},checkout,3,1,\n"  # line 4: good > total
    )
    with pytest.raises(InvalidEvents) as caught:
        service.ingest_file(session, path, clock=lambda: NOW)
    assert [p.line for p in caught.value.problems] == [2, 4]
    assert caught.value.lines()[0].startswith(f"{path}:2: good: SLI 'latency' takes observations")
    assert bucket_count(session) == 0


def test_ingest_file_unknown_sli_names_the_line(
    session: Session, slis: dict[str, int], tmp_path: Path
) -> None:
    path = tmp_path / "e.csv"
    path.write_text(f"time,sli,good,total\n{T0},checkout,1,1\n{T0},serch,1,1\n")
    with pytest.raises(UnknownSLI, match=rf"'serch' \(did you mean 'search'\?\) first at {path}:3"):
        service.ingest_file(session, path, clock=lambda: NOW)
    assert bucket_count(session) == 0


def test_hour_resolution_and_bad_resolution(session: Session, slis: dict[str, int]) -> None:
    rows = [{"time": T0 + 3599, "sli": "checkout", "good": 1, "total": 2}]
    service.ingest(session, rows, now=NOW, resolution=3600)
    assert stored(session) == {("checkout", 3600, T0): (1, 2)}
    with pytest.raises(InvalidInput, match="resolution"):
        service.ingest(session, rows, now=NOW, resolution=10)


def test_empty_ingest(session: Session, slis: dict[str, int]) -> None:
    assert service.ingest(session, [], now=NOW) == service.IngestResult(0, 0)


def test_read_buckets_returns_both_resolutions_sorted(
    session: Session, slis: dict[str, int]
) -> None:
    checkout, search = slis["checkout"], slis["search"]
    rows = [{"time": T0 + 120, "sli": "checkout", "good": 1, "total": 1}]
    service.ingest(session, rows, now=NOW)
    hour_rows = [{"time": T0 - 3600, "sli": "checkout", "good": 4, "total": 5}]
    service.ingest(session, hour_rows, now=NOW, resolution=3600)
    service.ingest(session, [{"time": T0, "sli": "checkout", "good": 0, "total": 2}], now=NOW)
    series = service.read_buckets(session, [checkout, search], start=T0 - 3600, end=T0 + 180)
    times, good, total = series[checkout]
    assert times.dtype == np.float64
    assert times.tolist() == [T0 - 3600, T0, T0 + 120]
    assert good.tolist() == [4, 0, 1]
    assert total.tolist() == [5, 2, 1]
    assert series[search].times.size == 0
    narrow = repository.read_buckets(session, [checkout], datetime.fromtimestamp(T0, UTC), T0 + 120)
    assert narrow[checkout].times.tolist() == [T0]


def test_changed_since_returns_buckets_written_since(
    session: Session, slis: dict[str, int]
) -> None:
    later = NOW + timedelta(minutes=5)
    service.ingest(session, [{"time": T0, "sli": "checkout", "good": 1, "total": 1}], now=NOW)
    service.ingest(session, [{"time": T0 + 60, "sli": "search", "good": 1, "total": 2}], now=NOW)
    service.ingest(session, [{"time": T0, "sli": "checkout", "good": 0, "total": 1}], now=later)
    changes = service.changed_since(session, since=later)
    assert list(changes) == [(slis["checkout"], 60, T0, 1, 2)]
    assert changes.total.tolist() == [2]
    assert len(service.changed_since(session, since=NOW)) == 2
    assert len(service.changed_since(session, since=later + timedelta(seconds=1))) == 0


def test_compaction_folds_minutes_into_hours_and_is_idempotent(
    session: Session, slis: dict[str, int]
) -> None:
    now = datetime.fromtimestamp(T0 + 10 * 86_400 + 1800, UTC)  # 10.5 days after T0
    rng = random.Random(5)
    rows = []
    for i in range(4000):
        time = T0 + rng.uniform(0, 10 * 86_400 + 1700)
        total = rng.randint(1, 9)
        rows.append(EventRow(time, rng.choice(["checkout", "search"]), total - 1, total, None, i))
    service.ingest(session, rows, now=now)
    before = stored(session)
    per_hour: dict[tuple[str, int], list[int]] = defaultdict(lambda: [0, 0])
    for (name, _, start), (g, t) in before.items():
        per_hour[(name, start // 3600 * 3600)][0] += g
        per_hour[(name, start // 3600 * 3600)][1] += t

    result = service.compact(
        session, now=now, minute_retention=timedelta(days=4), hour_retention=timedelta(days=400)
    )
    after = stored(session)
    cutoff = (now - timedelta(days=4)).timestamp() // 3600 * 3600
    assert all(start >= cutoff for (_, res, start) in after if res == 60)
    assert all(start < cutoff for (_, res, start) in after if res == 3600)
    assert result.folded == sum(1 for (_, _, s) in before if s < cutoff)
    assert result.hour_buckets == sum(1 for (_, res, _) in after if res == 3600)
    assert result.expired == 0
    regrouped: dict[tuple[str, int], list[int]] = defaultdict(lambda: [0, 0])
    for (name, _, start), (g, t) in after.items():
        regrouped[(name, start // 3600 * 3600)][0] += g
        regrouped[(name, start // 3600 * 3600)][1] += t
    assert regrouped == per_hour
    changes = service.changed_since(session, since=now)
    assert len(changes) == len(after)  # hour rows written now; minute rows from the ingest

    again = service.compact(
        session, now=now, minute_retention=timedelta(days=4), hour_retention=timedelta(days=400)
    )
    assert again == service.CompactResult(folded=0, hour_buckets=0, expired=0)
    assert stored(session) == after

    expired = service.compact(
        session, now=now, minute_retention=timedelta(days=4), hour_retention=timedelta(days=8)
    )
    expire_before = (now - timedelta(days=8)).timestamp() // 3600 * 3600
    assert expired.expired == sum(1 for (_, _, s) in after if s < expire_before) > 0
    assert all(start >= expire_before for (_, _, start) in stored(session))


def test_compaction_adds_late_minutes_to_an_existing_hour(
    session: Session, slis: dict[str, int]
) -> None:
    now = datetime.fromtimestamp(T0 + 5 * 86_400, UTC)
    event = {"time": T0 + 30, "sli": "checkout", "good": 1, "total": 2}
    retention = {"minute_retention": timedelta(days=4), "hour_retention": timedelta(days=30)}
    service.ingest(session, [event], now=now)
    service.compact(session, now=now, **retention)
    service.ingest(session, [{**event, "time": T0 + 1000}], now=now)  # arrives late
    result = service.compact(session, now=now, **retention)
    assert result.folded == 1
    assert stored(session) == {("checkout", 3600, T0): (2, 4)}


def test_import_counts(session: Session, slis: dict[str, int]) -> None:
    buckets = service.import_counts(
        session, [("checkout", T0, 9, 10), ("checkout", T0 + 60, 10, 10)], now=NOW
    )
    assert buckets == 2
    assert service.sli_ids_by_name(session, ["checkout", "nope"]) == {"checkout": slis["checkout"]}


def test_import_counts_accepts_counts_for_threshold_slis(
    session: Session, slis: dict[str, int]
) -> None:
    # History from another system arrives already compared against the threshold.
    buckets = service.import_counts(session, [("latency", T0, 95, 100)], now=NOW)
    assert buckets == 1
    assert stored(session) == {("latency", 60, T0): (95, 100)}
    # Live ingest still refuses counts for a threshold SLI.
    with pytest.raises(InvalidEvents, match="takes observations"):
        service.ingest(session, [{"time": T0, "sli": "latency", "good": 1, "total": 1}], now=NOW)


def test_one_stream_of_values_counts_for_every_threshold(session: Session) -> None:
    # OpenSLO-style: 90 % under 250 ms and 99 % under 1 s, judged from one latency stream.
    fast = SLI("api-latency", kind=SLIKind.THRESHOLD, threshold=0.25)
    slow = SLI("api-latency", kind=SLIKind.THRESHOLD, threshold=1.0)
    ratio = SLI("api-latency")  # a ratio SLO may share the name: it reads good/total rows
    service.register_slis(session, [fast, slow, ratio], now=NOW)
    rows = [
        {"time": T0 + i, "sli": "api-latency", "value": v} for i, v in enumerate([0.1, 0.5, 2.0])
    ]
    rows.append({"time": T0, "sli": "api-latency", "good": 9, "total": 10})
    service.ingest(session, rows, now=NOW)
    query = select(SLIRecord.name, SLIBucket.good, SLIBucket.total).join(
        SLIRecord, SLIRecord.id == SLIBucket.sli_id
    )
    assert {n: (g, t) for n, g, t in session.execute(query)} == {
        "api-latency[lte 0.25]": (1, 3),  # only 0.1 is within 250 ms
        "api-latency[lte 1.0]": (2, 3),  # 0.1 and 0.5 are within 1 s
        "api-latency": (9, 10),
    }
