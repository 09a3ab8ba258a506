"""Fixtures of the CLI tests: a data directory and a runner on its upgraded database."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli_runner import Run, upgraded


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """Where the CLI under test keeps its SQLite database."""
    return tmp_path / "data"


@pytest.fixture
def run(data_dir: Path) -> Run:
    """The real ``watchkeeper`` app against a SQLite file in a temp dir (upgraded)."""
    return upgraded(data_dir)
