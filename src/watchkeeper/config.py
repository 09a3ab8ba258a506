"""The one Settings class: every knob Watchkeeper reads from its environment."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

# URL schemes Watchkeeper has drivers for: the stdlib's sqlite3 and psycopg 3.
SUPPORTED_SCHEMES = (
    "sqlite",
    "postgresql",
    "postgresql+psycopg",
    "postgres",
    "postgres+psycopg",
)

# A generous bound on the bytes of one SLI event in a JSON batch.
EVENT_BYTES = 1024


class Settings(BaseSettings):
    """Runtime settings, read from ``WATCHKEEPER_*`` environment variables."""

    # Errors never echo a value: a database URL may hold a password.
    model_config = SettingsConfigDict(
        env_prefix="WATCHKEEPER_", extra="ignore", hide_input_in_errors=True
    )

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
    # incidents
    incident_metrics_window_days: float = Field(
        default=30.0,
        gt=0,
        description="Trailing window (days) of the incident MTTA/MTTR gauges on /metrics.",
    )
    # incidents from alerts (flows/incidents.py): the worker's auto-declare pass
    incident_declare_seconds: float = Field(
        default=2.0,
        gt=0,
        description="How often the worker declares incidents routing rules asked for.",
    )
    # Notifications (notify/): the outbox delivery loop and the notifiers' connections.
    outbox_poll_seconds: float = Field(
        default=0.5, gt=0, description="How often the worker looks for notifications to send."
    )
    notify_max_attempts: int = Field(
        default=10, ge=1, description="Sends of one notification before it is marked failed."
    )
    notify_backoff_base_seconds: float = Field(
        default=5.0, gt=0, description="First retry delay cap; doubles per attempt (full jitter)."
    )
    notify_backoff_cap_seconds: float = Field(
        default=900.0, gt=0, description="Largest retry delay of a notification."
    )
    notify_lease_seconds: float = Field(
        default=120.0,
        gt=0,
        description="How long a claimed notification stays with its sender before another "
        "worker may take it over (a sender that died mid-send).",
    )
    notify_timeout_seconds: float = Field(
        default=10.0, gt=0, description="Timeout of each HTTP or SMTP call of a notifier."
    )
    webhook_secret: SecretStr | None = Field(
        default=None,
        description="HMAC-SHA256 key signing webhook notifications; unset: webhooks fail.",
    )
    smtp_host: str | None = None
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_from: str = "watchkeeper@localhost"
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = False
    # On-call: importing iCalendar feeds by URL (`watchkeeper oncall import --ical URL`).
    ical_fetch_timeout_seconds: float = Field(default=10.0, gt=0, le=300)
    ical_max_bytes: int = Field(
        default=5_242_880, gt=0, description="Largest iCalendar feed or file imported, in bytes."
    )
    # Alerting: intake URLs, intake body limit, signing key of action links.
    public_url: str = Field(
        default="http://127.0.0.1:8080",
        description="Base URL people and senders reach Watchkeeper at (intake and action links).",
    )
    max_alert_body_bytes: int = Field(
        default=1_048_576, gt=0, description="Largest alert intake request body, in bytes."
    )
    secret_key: str | None = Field(
        default=None,
        description="Signs action links; unset: a random key generated once, kept in the database.",
    )
    # Dashboard sign-in (auth/sessions.py, docs/dashboard.md).
    session_lifetime_hours: float = Field(
        default=12.0,
        gt=0,
        le=24 * 30,
        description="A browser session ends this long after sign-in.",
    )
    session_idle_minutes: float = Field(
        default=120.0, gt=0, description="A browser session ends after this long without a request."
    )
    sign_in_max_failures: int = Field(
        default=5, ge=1, description="Failed sign-ins per user name before sign-in is throttled."
    )
    sign_in_max_failures_per_address: int = Field(
        default=50, ge=1, description="Failed sign-ins per client address before it is throttled."
    )
    sign_in_window_minutes: float = Field(
        default=15.0, gt=0, description="How long a failed sign-in counts against the limits."
    )
    cookie_secure: bool | None = Field(
        default=None,
        description="Mark the session cookie Secure; unset: when the request came over HTTPS.",
    )
    public_status: bool = Field(
        default=False,
        description="Serve a public status page at /status: services' health, no internals.",
    )
    # Escalation (alerting/escalation.py): which policy pages, how often due steps run, links.
    default_escalation_policy: str | None = Field(
        default=None,
        description="Escalation policy of groups routed to none; unset: such groups page nobody.",
    )
    escalation_interval_seconds: float = Field(
        default=1.0, gt=0, description="How often the worker runs due escalation steps."
    )
    escalation_batch_size: int = Field(
        default=500, ge=1, description="Due escalation steps run per transaction."
    )
    action_link_ttl_hours: float = Field(
        default=24.0, gt=0, description="Lifetime of the acknowledge/resolve links of a page."
    )
    # Prometheus sources (sources/, docs/prometheus.md): the default source named `prometheus`,
    # more named sources in a YAML file, and how the worker evaluates them.
    prometheus_url: str | None = Field(
        default=None,
        description="Base URL of the default Prometheus-compatible API (source `prometheus`), "
        "e.g. http://prometheus:9090 or https://mimir.example/prometheus.",
    )
    prometheus_bearer_token: SecretStr | None = Field(
        default=None, description="Bearer token sent to the default Prometheus source."
    )
    prometheus_username: str | None = Field(
        default=None, description="Basic-auth user of the default Prometheus source."
    )
    prometheus_password: SecretStr | None = Field(
        default=None, description="Basic-auth password of the default Prometheus source."
    )
    prometheus_headers: dict[str, str] = Field(
        default_factory=dict,
        description='Extra headers (JSON object), e.g. {"X-Scope-OrgID": "team-a"} for Mimir.',
    )
    prometheus_ca_file: str | None = Field(
        default=None, description="CA bundle (PEM) verifying the Prometheus server's certificate."
    )
    prometheus_client_cert: str | None = Field(
        default=None, description="Client certificate (PEM) for mutual TLS with Prometheus."
    )
    prometheus_client_key: str | None = Field(
        default=None, description="Private key (PEM) of the client certificate."
    )
    prometheus_insecure_skip_verify: bool = Field(
        default=False, description="Skip TLS verification of Prometheus (testing only)."
    )
    prometheus_timeout_seconds: float = Field(
        default=10.0, gt=0, description="Read timeout of each Prometheus request."
    )
    prometheus_connect_timeout_seconds: float = Field(
        default=3.0, gt=0, description="Connect timeout of each Prometheus request."
    )
    prometheus_retries: int = Field(
        default=2,
        ge=0,
        le=10,
        description="Retries of a request on timeouts, connection errors, 5xx.",
    )
    prometheus_concurrency: int = Field(
        default=8, ge=1, le=256, description="Queries in flight at once per Prometheus source."
    )
    prometheus_deadline_seconds: float = Field(
        default=20.0,
        gt=0,
        description="Longest the worker waits for Prometheus answers in one tick; queries "
        "still unanswered then count as source unreachable.",
    )
    prometheus_sources_file: Path | None = Field(
        default=None,
        description="YAML file of more named Prometheus sources an SLI picks with "
        "prometheus.source (docs/prometheus.md).",
    )
    # Kept in Settings (not read elsewhere) so tests can point at PostgreSQL.
    test_database_url: str | None = None
    require_integration: bool = False

    def event_body_bytes(self) -> int:
        """Largest body of POST /api/v1/events: a generous 1 KiB per event of a full batch."""
        return self.max_event_batch * EVENT_BYTES

    @field_validator("database_url")
    @classmethod
    def _supported_database_url(cls, value: str | None) -> str | None:
        """Refuse URLs Watchkeeper has no driver for, naming the schemes it supports."""
        if not value:
            return None  # empty means the default SQLite file under data_dir
        scheme = value.partition("://")[0].lower() if "://" in value else ""
        if scheme not in SUPPORTED_SCHEMES:
            shown = f"scheme {scheme!r}" if scheme else "a URL without a scheme"
            raise ValueError(
                f"{shown} is not supported; use one of {', '.join(SUPPORTED_SCHEMES)} "
                "(e.g. postgresql://user@host:5432/watchkeeper or sqlite:///path/watchkeeper.db)"
            )
        try:
            make_url(normalise_database_url(value))
        except (ArgumentError, ValueError) as exc:
            # The URL itself is not echoed: it may hold a password.
            raise ValueError(f"not a valid {scheme} URL: {exc}") from None
        return value

    def resolved_database_url(self) -> str:
        """The database URL in use: the configured one or SQLite under data_dir."""
        if self.database_url:
            return normalise_database_url(self.database_url)
        return f"sqlite:///{(self.data_dir / 'watchkeeper.db').resolve()}"


def normalise_database_url(url: str) -> str:
    """Select the psycopg 3 driver for ``postgresql://`` and ``postgres[+psycopg]://`` URLs."""
    scheme, separator, rest = url.partition("://")
    if not separator:
        return url
    scheme = scheme.lower()
    if scheme in ("postgresql", "postgres", "postgres+psycopg"):
        scheme = "postgresql+psycopg"
    return f"{scheme}://{rest}"
