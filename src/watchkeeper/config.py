"""The one Settings class: every knob Watchkeeper reads from its environment."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

# A generous bound on the bytes of one SLI event in a JSON batch.
EVENT_BYTES = 1024


class Settings(BaseSettings):
    """Runtime settings, read from ``WATCHKEEPER_*`` environment variables."""

    model_config = SettingsConfigDict(env_prefix="WATCHKEEPER_", extra="ignore")

    data_dir: Path = Field(
        default=Path("data"), description="Directory for the embedded SQLite database."
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL; PostgreSQL for team deployments. Default: SQLite in data_dir.",
    )
    host: str = "127.0.0.1"
    port: int = 8080
    evaluation_interval_seconds: float = Field(default=30.0, gt=0)
    history_interval_seconds: float = Field(
        default=300.0, gt=0, description="How often an evaluation is kept for charts."
    )
    run_worker_in_process: bool = True
    minute_retention_days: float = Field(
        default=4.0,
        gt=3.0,
        description="Days of 1-minute SLI buckets kept before folding into 1-hour buckets.",
    )
    hour_retention_days: float = Field(default=400.0, gt=0)
    max_event_batch: int = Field(
        default=10_000,
        gt=0,
        description="Events per POST /api/v1/events; its body may hold 1 KiB per event.",
    )
    max_body_bytes: int = Field(
        default=1_048_576,
        gt=0,
        description="Largest request body of any other endpoint (SLO specs included), in bytes.",
    )
    log_level: str = "INFO"
    # Kept in Settings (not read elsewhere) so tests can point at PostgreSQL.
    test_database_url: str | None = None
    require_integration: bool = False

    def event_body_bytes(self) -> int:
        """Largest body of POST /api/v1/events: a generous 1 KiB per event of a full batch."""
        return self.max_event_batch * EVENT_BYTES

    def resolved_database_url(self) -> str:
        """The database URL in use: the configured one or SQLite under data_dir."""
        if self.database_url:
            return normalise_database_url(self.database_url)
        return f"sqlite:///{(self.data_dir / 'watchkeeper.db').resolve()}"


def normalise_database_url(url: str) -> str:
    """Select the psycopg 3 driver for bare ``postgresql://`` URLs."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url
