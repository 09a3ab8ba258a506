"""FastAPI dependencies shared by every router: settings, a session per request, auth."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session, sessionmaker

from watchkeeper.auth import service as auth_service
from watchkeeper.auth.exceptions import MissingToken
from watchkeeper.auth.models import APIToken
from watchkeeper.auth.roles import Permission
from watchkeeper.config import Settings
from watchkeeper.db import session_scope, utcnow


def get_settings(request: Request) -> Settings:
    """The app's Settings."""
    settings: Settings = request.app.state.settings
    return settings


def get_session(request: Request) -> Iterator[Session]:
    """One session (one transaction) per request: committed on success, rolled back on error."""
    # Used with scope="function" (SessionDep): the commit runs when the endpoint returns and
    # before the response is sent, so a 2xx means stored, and a failing commit reaches the
    # app's error handlers (5xx) instead of failing after the client has its answer.
    factory: sessionmaker[Session] = request.app.state.session_factory
    with session_scope(factory) as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session, scope="function")]
SettingsDep = Annotated[Settings, Depends(get_settings)]


def bearer_token(request: Request) -> str:
    """The bearer token of the request, or MissingToken."""
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise MissingToken("send an API token as 'Authorization: Bearer <token>'")
    return value.strip()


def require(permission: Permission) -> Callable[[Request, Session], APIToken]:
    """A dependency that authenticates the request's token for ``permission``."""

    def dependency(request: Request, session: SessionDep) -> APIToken:
        return auth_service.authenticate(
            session, token=bearer_token(request), permission=permission, now=utcnow()
        )

    return dependency


ReadToken = Annotated[APIToken, Depends(require(Permission.READ))]
WriteToken = Annotated[APIToken, Depends(require(Permission.WRITE))]
IngestToken = Annotated[APIToken, Depends(require(Permission.INGEST))]
