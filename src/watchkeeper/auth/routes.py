"""JSON API of API tokens (admin only): list, create, revoke."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response

from watchkeeper.auth import service
from watchkeeper.auth.exceptions import InvalidTokenRequest
from watchkeeper.auth.models import APIToken
from watchkeeper.auth.roles import Permission
from watchkeeper.auth.schemas import TokenCreate, TokenIssued, TokenRead
from watchkeeper.core.duration import parse_duration
from watchkeeper.db import utcnow
from watchkeeper.dependencies import AdminToken, SessionDep, json_body, json_body_openapi

router = APIRouter(prefix="/api/v1", tags=["tokens"])


def token_read(token: APIToken) -> TokenRead:
    """A token row as the API shows it."""
    return TokenRead(
        name=token.name,
        role=token.role,
        prefix=token.prefix,
        state=service.state_of(token, now=utcnow()),
        created_at=token.created_at,
        expires_at=token.expires_at,
        last_used_at=token.last_used_at,
        revoked_at=token.revoked_at,
    )


@router.get("/tokens", response_model=list[TokenRead])
def list_tokens(session: SessionDep, _token: AdminToken) -> list[TokenRead]:
    """Every API token with its role, state, expiry and last use (never the secret)."""
    return [token_read(token) for token in service.list_tokens(session)]


TokenBody = Annotated[TokenCreate, Depends(json_body(TokenCreate, Permission.ADMIN))]


@router.post(
    "/tokens",
    status_code=201,
    response_model=TokenIssued,
    openapi_extra=json_body_openapi(TokenCreate),
    responses={409: {"description": "A token with that name exists (TokenNameTaken)."}},
)
def create_token(body: TokenBody, session: SessionDep, _token: AdminToken) -> TokenIssued:
    """Create a token; the secret is in this answer only."""
    expires_in = None
    if body.expires_in is not None:
        try:
            expires_in = parse_duration(body.expires_in)
        except ValueError as exc:
            raise InvalidTokenRequest(f"expires_in: {exc}") from None
    issued = service.create(
        session, name=body.name, role=body.role.value, now=utcnow(), expires_in=expires_in
    )
    return TokenIssued(
        token=issued.token, name=issued.name, role=issued.role.value, expires_at=issued.expires_at
    )


@router.delete("/tokens/{name}", status_code=204)
def revoke_token(name: str, session: SessionDep, _token: AdminToken) -> Response:
    """Revoke a token: it stops authenticating at once (revoking it again changes nothing)."""
    service.revoke(session, name=name, now=utcnow())
    return Response(status_code=204)
