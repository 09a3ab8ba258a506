"""SQL for API tokens."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from watchkeeper.auth.models import APIToken


def get_by_digest(session: Session, digest: str) -> APIToken | None:
    """The token with this digest, revoked or not."""
    return session.scalars(select(APIToken).where(APIToken.digest == digest)).first()


def get_by_name(session: Session, name: str) -> APIToken | None:
    """The token with this name."""
    return session.scalars(select(APIToken).where(APIToken.name == name)).first()


def list_all(session: Session) -> list[APIToken]:
    """Every token, oldest first."""
    return list(session.scalars(select(APIToken).order_by(APIToken.id)))


def add(session: Session, token: APIToken) -> APIToken:
    """Insert a token row."""
    session.add(token)
    session.flush()
    return token
