"""``watchkeeper events ingest``: exit codes, output and what ends up in the database."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from sqlalchemy import func, select
from typer.testing import CliRunner

from tests.events.support import registered_data_dir
from watchkeeper.cli.events import app as events_app
from watchkeeper.config import Settings
from watchkeeper.db import make_engine
from watchkeeper.events.models import SLIBucket

T0 = 1_795_428_000

# The sub-app mounted as in watchkeeper.cli.main, so the test needs no other domain's CLI.
root = typer.Typer()
root.add_typer(events_app, name="events")


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """A SQLite data dir that knows the SLIs 'checkout' (counts) and 'latency' (values)."""
    return registered_data_dir(tmp_path)


def run(data_dir: Path, *args: str) -> tuple[int, str, str]:
    env = {"WATCHKEEPER_DATA_DIR": str(data_dir), "WATCHKEEPER_DATABASE_URL": ""}
    result = CliRunner().invoke(root, ["events", *args], env=env)
    return result.exit_code, result.stdout, result.stderr


def stored_totals(data_dir: Path) -> tuple[int, int]:
    engine = make_engine(Settings(data_dir=data_dir).resolved_database_url())
    with engine.connect() as connection:
        row = connection.execute(
            select(func.coalesce(func.sum(SLIBucket.good), 0), func.count())
        ).one()
    engine.dispose()
    return int(row[0]), int(row[1])


def test_ingest_csv_prints_json_and_stores(data_dir: Path, tmp_path: Path) -> None:
    path = tmp_path / "events.csv"
    path.write_text(
        "time,sli,good,total,value\n"
        f"{T0},checkout,9,10,\n"
        f"{T0 + 60},checkout,5,5,\n"
        "2026-11-23T10:00:10Z,latency,,,0.2\n"
    )
    code, out, err = run(data_dir, "ingest", str(path), "--json")
    assert code == 0, err
    assert json.loads(out) == {"accepted": 3, "buckets": 3, "file": str(path)}
    assert stored_totals(data_dir) == (15, 3)


def test_ingest_jsonl_prints_a_summary(data_dir: Path, tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    path.write_text(json.dumps({"time": T0, "sli": "checkout", "good": 1, "total": 1}) + "\n")
    code, out, _ = run(data_dir, "ingest", str(path))
    assert code == 0
    assert f"Ingested 1 event into 1 bucket from {path}" in out


def test_invalid_rows_print_file_line_reasons_and_store_nothing(
    data_dir: Path, tmp_path: Path
) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(
        "time,sli,good,total\n"
        f"{T0},checkout,1,1\n"
        "2026-11-23T10:00:00,checkout,1,1\n"
        f"{T0},checkout,5,3\n"
    )
    code, out, err = run(data_dir, "ingest", str(path))
    assert code == 1
    assert out == ""
    assert f"{path}:3: time: time '2026-11-23T10:00:00' has no UTC offset" in err
    assert f"{path}:4: good: good (5) exceeds total (3)" in err
    assert "2 invalid events" in err
    assert "Traceback" not in err
    assert stored_totals(data_dir) == (0, 0)


def test_unknown_sli_exits_1(data_dir: Path, tmp_path: Path) -> None:
    path = tmp_path / "unknown.csv"
    path.write_text(f"time,sli,good,total\n{T0},chekout,1,1\n")
    code, _, err = run(data_dir, "ingest", str(path))
    assert code == 1
    assert "did you mean 'checkout'" in err
    assert stored_totals(data_dir) == (0, 0)


def test_missing_file_exits_1(data_dir: Path, tmp_path: Path) -> None:
    code, _, err = run(data_dir, "ingest", str(tmp_path / "nope.csv"))
    assert code == 1
    assert "nope.csv: no such file" in err
    code, _, err = run(data_dir, "ingest", str(tmp_path))
    assert code == 1
    assert "not a regular file" in err


def test_a_fresh_data_dir_is_refused_not_migrated(tmp_path: Path) -> None:
    path = tmp_path / "events.csv"
    path.write_text(f"time,sli,good,total\n{T0},checkout,1,1\n")
    code, out, err = run(tmp_path / "fresh", "ingest", str(path))
    assert (code, out) == (1, "")
    assert "run `watchkeeper db upgrade`" in err
    assert not (tmp_path / "fresh").exists()  # only `db upgrade` creates a database


def test_usage_error_exits_2(data_dir: Path) -> None:
    code, _, _ = run(data_dir, "ingest")
    assert code == 2
