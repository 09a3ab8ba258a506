"""The settings escalation reads, carried by each session.

Intake and the actions start escalations deep inside a use case; rather than pass the
settings through every intake signature, the app, the CLI and the worker put them in
``Session.info`` (:func:`configure` for a session factory, :func:`bind` for one session) and
the escalation runtime reads them back with :func:`config_of`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker

from watchkeeper.config import Settings

CONFIG_KEY = "watchkeeper.escalation"


@dataclass(frozen=True)
class EscalationConfig:
    """The settings escalation reads, carried by the session (see :func:`configure`)."""

    default_policy: str | None = None
    public_url: str = "http://127.0.0.1:8080"
    secret_key: str | None = None
    link_ttl: timedelta = timedelta(hours=24)

    @classmethod
    def from_settings(cls, settings: Settings) -> EscalationConfig:
        """The escalation part of the settings."""
        return cls(
            default_policy=settings.default_escalation_policy or None,
            public_url=settings.public_url,
            secret_key=settings.secret_key,
            link_ttl=timedelta(hours=settings.action_link_ttl_hours),
        )


def configure(factory: sessionmaker[Session], settings: Settings) -> None:
    """Let every session of ``factory`` carry the escalation settings.

    Intake and the actions call :func:`start` deep inside a use case; the settings travel in
    ``Session.info`` rather than through every intake signature."""
    info = dict(factory.kw.get("info") or {})
    info[CONFIG_KEY] = EscalationConfig.from_settings(settings)
    factory.configure(info=info)


def bind(session: Session, settings: Settings) -> None:
    """Let one session carry the escalation settings."""
    session.info[CONFIG_KEY] = EscalationConfig.from_settings(settings)


def config_of(session: Session) -> EscalationConfig:
    """The escalation settings the session carries (the defaults when none)."""
    found = session.info.get(CONFIG_KEY)
    return found if isinstance(found, EscalationConfig) else EscalationConfig()
