"""Settings: database URLs Watchkeeper has a driver for, and nothing else."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from watchkeeper.config import Settings, normalise_database_url


@pytest.mark.parametrize(
    ("url", "resolved"),
    [
        ("postgresql://wk@db:5432/watchkeeper", "postgresql+psycopg://wk@db:5432/watchkeeper"),
        ("postgres://wk@db/watchkeeper", "postgresql+psycopg://wk@db/watchkeeper"),
        ("postgresql+psycopg://wk@db/watchkeeper", "postgresql+psycopg://wk@db/watchkeeper"),
        ("postgres+psycopg://wk@db/watchkeeper", "postgresql+psycopg://wk@db/watchkeeper"),
        ("PostgreSQL://wk@db/watchkeeper", "postgresql+psycopg://wk@db/watchkeeper"),
        ("sqlite:////var/lib/watchkeeper.db", "sqlite:////var/lib/watchkeeper.db"),
        ("SQLite:///watchkeeper.db", "sqlite:///watchkeeper.db"),
    ],
)
def test_supported_urls(url: str, resolved: str) -> None:
    assert Settings(database_url=url).resolved_database_url() == resolved
    assert normalise_database_url(url) == resolved


def test_an_empty_url_means_sqlite_in_the_data_dir(tmp_path: Path) -> None:
    settings = Settings(database_url="", data_dir=tmp_path)
    assert settings.database_url is None
    assert settings.resolved_database_url() == f"sqlite:///{tmp_path.resolve()}/watchkeeper.db"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mysql://root:hunter2@db/watchkeeper", "scheme 'mysql' is not supported"),
        ("postgresql+asyncpg://wk:hunter2@db/wk", "scheme 'postgresql+asyncpg' is not supported"),
        ("oracle://wk:hunter2@db/wk", "scheme 'oracle' is not supported"),
        ("/var/lib/watchkeeper.db", "a URL without a scheme is not supported"),
        ("postgresql://wk:hunter2@db:fivefourthreetwo/wk", "not a valid postgresql URL"),
    ],
)
def test_unsupported_urls_name_the_supported_schemes(url: str, message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        Settings(database_url=url)
    [error] = caught.value.errors()
    assert error["loc"] == ("database_url",)
    assert message in error["msg"]
    if "scheme" in message:
        assert "sqlite, postgresql, postgresql+psycopg, postgres, postgres+psycopg" in error["msg"]
    assert "hunter2" not in str(caught.value)  # a password is never echoed
