"""Pydantic schemas of the token API."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from watchkeeper.auth.roles import Role
from watchkeeper.auth.service import TokenState


class TokenCreate(BaseModel):
    """A token to create: its unique name, its role and, optionally, its lifetime."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200, examples=["ci-deploys"])
    role: Role
    expires_in: str | None = Field(
        default=None,
        description="Lifetime as a duration such as 90d or 12h; omit for no expiry.",
        examples=["90d"],
    )


class TokenRead(BaseModel):
    """A token as listed: everything but the secret, which is never stored."""

    name: str
    role: str
    prefix: str = Field(description="The first characters of the secret, to recognise it.")
    state: TokenState
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None


class TokenIssued(BaseModel):
    """A created token; ``token`` is the secret, shown this once."""

    token: str
    name: str
    role: str
    expires_at: datetime | None
