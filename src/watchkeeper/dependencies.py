"""FastAPI dependencies shared by every router: settings, a session per request, auth."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Iterator
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Path, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError
from pydantic_core import PydanticCustomError
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from watchkeeper.auth import service as auth_service
from watchkeeper.auth.audit import Actor, ActorKind
from watchkeeper.auth.exceptions import MissingToken
from watchkeeper.auth.models import APIToken
from watchkeeper.auth.roles import Permission
from watchkeeper.config import Settings
from watchkeeper.db import MAX_ROW_ID, session_scope, utcnow
from watchkeeper.limits import read_body

M = TypeVar("M", bound=BaseModel)


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
        # The audit log reads who acts from here at each flush: the token check (or the
        # dashboard's sign-in) sets request.state.actor, in whichever order they run.
        session.info["request_state"] = request.state
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


@functools.cache
def require(permission: Permission) -> Callable[[Request], APIToken]:
    """A dependency that authenticates the request's token for ``permission``."""
    # Cached: one function per permission, so FastAPI checks a request's token once even when
    # both an endpoint and its body reader ask for it.

    def dependency(request: Request) -> APIToken:
        token = bearer_token(request)
        # A unit of work of its own, committed at once (it may record the token's last use):
        # the request's session opens no transaction, and holds no connection or lock, while
        # the body is still arriving.
        factory: sessionmaker[Session] = request.app.state.session_factory
        with session_scope(factory) as session:
            authenticated = auth_service.authenticate(
                session, token=token, permission=permission, now=utcnow()
            )
        request.state.actor = Actor(ActorKind.TOKEN, authenticated.name)
        return authenticated

    return dependency


ReadToken = Annotated[APIToken, Depends(require(Permission.READ))]
RespondToken = Annotated[APIToken, Depends(require(Permission.RESPOND))]
WriteToken = Annotated[APIToken, Depends(require(Permission.WRITE))]
IngestToken = Annotated[APIToken, Depends(require(Permission.INGEST))]
AdminToken = Annotated[APIToken, Depends(require(Permission.ADMIN))]


RowId = Annotated[int, Path(ge=1, le=MAX_ROW_ID, description="A row id.")]
"""A path id; outside what an id column holds it is a 422, not a driver overflow."""


def json_body(model: type[M], permission: Permission) -> Callable[..., Awaitable[M]]:
    """A dependency reading the JSON body as ``model`` once the token may ``permission``."""
    # FastAPI reads and decodes a declared body parameter before it resolves dependencies;
    # reading it here keeps authentication first; the size limit applies while reading, and
    # validation runs off the event loop.

    # A default rather than an Annotated hint: the hint would be a string (postponed
    # annotations) naming this function's local ``permission``, which FastAPI cannot resolve.
    async def dependency(request: Request, _token: APIToken = Depends(require(permission))) -> M:  # noqa: B008
        raw = await read_body(request)
        try:
            return await run_in_threadpool(validated_json, model, raw)
        except ValidationError as exc:
            raise RequestValidationError(exc.errors(include_url=False)) from None

    return dependency


def _nul_location(value: Any, location: tuple[str | int, ...]) -> tuple[str | int, ...] | None:
    if isinstance(value, str):
        return location if "\x00" in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(key, str) and "\x00" in key:
                return (*location, key)
            found = _nul_location(item, (*location, key))
            if found is not None:
                return found
    if isinstance(value, list | tuple):
        for index, item in enumerate(value):
            found = _nul_location(item, (*location, index))
            if found is not None:
                return found
    return None


def validated_json(model: type[M], raw: bytes) -> M:
    """``raw`` (empty means ``{}``) parsed as ``model``; a NUL character in any text is refused
    naming its field, since PostgreSQL cannot store one."""
    parsed = model.model_validate_json(raw or b"{}")
    # Only an escaped \u0000 decodes to NUL (a raw one is invalid JSON): the walk is rare.
    if b"\\u0000" in raw:
        location = _nul_location(parsed.model_dump(by_alias=True), ())
        if location is not None:
            error = PydanticCustomError(
                "nul_character", "text must not contain a NUL character (\\u0000)"
            )
            raise ValidationError.from_exception_data(
                model.__name__, [{"type": error, "loc": location, "input": ""}]
            )
    return parsed


def json_body_openapi(model: type[BaseModel]) -> dict[str, Any]:
    """``openapi_extra`` documenting a body read by :func:`json_body`."""
    schema = model.model_json_schema()
    # Pydantic points nested models at "#/$defs/..." of the model's own schema; placed inside
    # an operation those references would not resolve against the OpenAPI document's root.
    definitions = schema.pop("$defs", {})
    schema = _inline_definitions(schema, definitions, seen=())
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}


def _inline_definitions(node: Any, definitions: dict[str, Any], *, seen: tuple[str, ...]) -> Any:
    if isinstance(node, list):
        return [_inline_definitions(item, definitions, seen=seen) for item in node]
    if not isinstance(node, dict):
        return node
    reference = node.get("$ref")
    if isinstance(reference, str) and reference.startswith("#/$defs/"):
        name = reference.removeprefix("#/$defs/")
        if name in seen:
            raise ValueError(f"{name} refers to itself: a request body cannot be inlined")
        siblings = {key: value for key, value in node.items() if key != "$ref"}
        target = _inline_definitions(definitions[name], definitions, seen=(*seen, name))
        return {**target, **_inline_definitions(siblings, definitions, seen=seen)}
    return {key: _inline_definitions(value, definitions, seen=seen) for key, value in node.items()}
