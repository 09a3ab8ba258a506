"""The explicit registry of metrics sources, built once from the settings.

``WATCHKEEPER_PROMETHEUS_URL`` configures the default source, named ``prometheus``; a YAML
file (``WATCHKEEPER_PROMETHEUS_SOURCES_FILE``) may add more, which an SLI picks with
``prometheus: {source: NAME}``. The registry travels with the sessions of a session factory
(``Session.info``), as the escalation settings do, so the use cases deep inside a request or
a command (``slo status``, the deploy gate) reach it without a new parameter everywhere.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy.orm import Session, sessionmaker

from watchkeeper.config import Settings
from watchkeeper.core.slo import SLO
from watchkeeper.errors import InvalidInput
from watchkeeper.sources.exceptions import SourceNotConfigured
from watchkeeper.sources.prometheus import PrometheusConfig, PrometheusSource

DEFAULT_SOURCE = "prometheus"
REGISTRY_KEY = "watchkeeper.sources"
_FILE_FIELDS = {
    "name",
    "url",
    "bearer_token",
    "bearer_token_file",
    "username",
    "password",
    "password_file",
    "headers",
    "ca_file",
    "client_cert",
    "client_key",
    "insecure_skip_verify",
    "timeout_seconds",
    "connect_timeout_seconds",
}


class InvalidSourcesFile(InvalidInput):
    """The named-sources file cannot be read or has a bad entry."""


class SourceRegistry:
    """The configured Prometheus sources by name."""

    def __init__(self, prometheus: Mapping[str, PrometheusSource] | None = None) -> None:
        self._prometheus = dict(prometheus or {})

    @property
    def names(self) -> list[str]:
        """The configured Prometheus source names."""
        return sorted(self._prometheus)

    def prometheus(self, name: str | None = None) -> PrometheusSource:
        """The Prometheus source ``name`` (the default one when None), or SourceNotConfigured."""
        wanted = name or DEFAULT_SOURCE
        source = self._prometheus.get(wanted)
        if source is not None:
            return source
        if wanted == DEFAULT_SOURCE:
            raise SourceNotConfigured(
                "no Prometheus source configured: set WATCHKEEPER_PROMETHEUS_URL"
            )
        known = ", ".join(self.names) or "none"
        raise SourceNotConfigured(
            f"no Prometheus source named {wanted!r} is configured (configured: {known}); "
            "add it to WATCHKEEPER_PROMETHEUS_SOURCES_FILE"
        )

    def for_slo(self, slo: SLO) -> PrometheusSource:
        """The Prometheus source an SLO's SLI reads, or SourceNotConfigured."""
        return self.prometheus(slo.sli.queries.source if slo.sli.queries is not None else None)

    def close(self) -> None:
        """Close every source's connections."""
        for source in self._prometheus.values():
            source.close()


def _secret(value: Any) -> str | None:
    if value is None:
        return None
    getter = getattr(value, "get_secret_value", None)
    return str(getter()) if callable(getter) else str(value)


def default_config(settings: Settings) -> PrometheusConfig | None:
    """The default source from ``WATCHKEEPER_PROMETHEUS_*``, or None without a URL."""
    if not settings.prometheus_url:
        return None
    return PrometheusConfig(
        name=DEFAULT_SOURCE,
        url=settings.prometheus_url,
        bearer_token=_secret(settings.prometheus_bearer_token),
        username=settings.prometheus_username,
        password=_secret(settings.prometheus_password),
        headers=dict(settings.prometheus_headers),
        ca_file=settings.prometheus_ca_file,
        client_cert=settings.prometheus_client_cert,
        client_key=settings.prometheus_client_key,
        insecure_skip_verify=settings.prometheus_insecure_skip_verify,
        timeout_seconds=settings.prometheus_timeout_seconds,
        connect_timeout_seconds=settings.prometheus_connect_timeout_seconds,
        retries=settings.prometheus_retries,
        concurrency=settings.prometheus_concurrency,
    )


def _read_secret_file(path: Path, *, where: str) -> str:
    try:
        return path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise InvalidSourcesFile(f"{where}: cannot read {path}: {exc.strerror}") from None


def file_configs(path: Path, settings: Settings) -> list[PrometheusConfig]:
    """The named sources of a YAML file: ``sources: [{name, url, ...}]``."""
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InvalidSourcesFile(f"{path}: cannot read: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise InvalidSourcesFile(f"{path}: not valid YAML: {exc}") from None
    entries = document.get("sources") if isinstance(document, dict) else None
    if not isinstance(entries, list):
        raise InvalidSourcesFile(f"{path}: expected a mapping with a list under 'sources'")
    configs: list[PrometheusConfig] = []
    for index, entry in enumerate(entries):
        where = f"{path}: sources[{index}]"
        if not isinstance(entry, dict):
            raise InvalidSourcesFile(f"{where}: must be a mapping with name and url")
        unknown = sorted(set(entry) - _FILE_FIELDS)
        if unknown:
            raise InvalidSourcesFile(f"{where}: unknown field(s) {', '.join(unknown)}")
        name, url = entry.get("name"), entry.get("url")
        if not isinstance(name, str) or not name or not isinstance(url, str) or not url:
            raise InvalidSourcesFile(f"{where}: name and url are required strings")
        headers = entry.get("headers") or {}
        if not isinstance(headers, dict):
            raise InvalidSourcesFile(f"{where}.headers: must be a mapping of header to value")
        token = entry.get("bearer_token")
        if entry.get("bearer_token_file"):
            token = _read_secret_file(Path(str(entry["bearer_token_file"])), where=where)
        password = entry.get("password")
        if entry.get("password_file"):
            password = _read_secret_file(Path(str(entry["password_file"])), where=where)
        try:
            timeout = float(entry.get("timeout_seconds", settings.prometheus_timeout_seconds))
            connect = float(
                entry.get("connect_timeout_seconds", settings.prometheus_connect_timeout_seconds)
            )
        except (TypeError, ValueError):
            raise InvalidSourcesFile(f"{where}: timeouts must be numbers of seconds") from None
        if timeout <= 0 or connect <= 0:
            raise InvalidSourcesFile(f"{where}: timeouts must be positive")
        configs.append(
            PrometheusConfig(
                name=name,
                url=url,
                bearer_token=None if token is None else str(token),
                username=None if entry.get("username") is None else str(entry["username"]),
                password=None if password is None else str(password),
                headers={str(k): str(v) for k, v in headers.items()},
                ca_file=entry.get("ca_file"),
                client_cert=entry.get("client_cert"),
                client_key=entry.get("client_key"),
                insecure_skip_verify=bool(entry.get("insecure_skip_verify", False)),
                timeout_seconds=timeout,
                connect_timeout_seconds=connect,
                retries=settings.prometheus_retries,
                concurrency=settings.prometheus_concurrency,
            )
        )
    return configs


def registry_from_settings(settings: Settings) -> SourceRegistry:
    """Every configured source (no connection is opened here)."""
    configs: list[PrometheusConfig] = []
    default = default_config(settings)
    if default is not None:
        configs.append(default)
    if settings.prometheus_sources_file is not None:
        configs.extend(file_configs(settings.prometheus_sources_file, settings))
    sources: dict[str, PrometheusSource] = {}
    for config in configs:
        if config.name in sources:
            raise InvalidSourcesFile(f"Prometheus source {config.name!r} is configured twice")
        sources[config.name] = PrometheusSource(config)
    return SourceRegistry(sources)


def configure(factory: sessionmaker[Session], registry: SourceRegistry) -> None:
    """Let every session of ``factory`` carry ``registry``."""
    info = dict(factory.kw.get("info") or {})
    info[REGISTRY_KEY] = registry
    factory.configure(info=info)


def bind(session: Session, registry: SourceRegistry) -> None:
    """Let one session carry ``registry``."""
    session.info[REGISTRY_KEY] = registry


_EMPTY = SourceRegistry()


def registry_of(session: Session) -> SourceRegistry:
    """The registry the session carries (an empty one when none was configured)."""
    found = session.info.get(REGISTRY_KEY)
    return found if isinstance(found, SourceRegistry) else _EMPTY
