"""Pydantic schemas of the token and user APIs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from watchkeeper.auth.people import Profile
from watchkeeper.auth.roles import Role
from watchkeeper.auth.service import TokenState
from watchkeeper.notify.schemas import shown_address


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


class UserCreate(BaseModel):
    """A user to create; an email also becomes their first contact method."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(examples=["ann"])
    role: str = Field(examples=["editor"], description="admin, editor, responder or viewer")
    email: str | None = None
    time_zone: str = "UTC"


class ContactCreate(BaseModel):
    """A contact method to add: kind email, slack, webhook or console, and its address."""

    model_config = ConfigDict(extra="forbid")

    kind: str = Field(examples=["slack"])
    address: str = Field(examples=["https://hooks.slack.com/services/T000/B000/XXX"])
    label: str = ""


class RuleCreate(BaseModel):
    """A notification rule: which contact method, for which urgency, how long after the page."""

    model_config = ConfigDict(extra="forbid")

    contact: int
    urgency: str = Field(examples=["high"])
    delay: str = Field(default="0m", examples=["5m"], description="0m, or a duration")


class ContactRead(BaseModel):
    """A contact method."""

    id: int
    kind: str
    address: str
    label: str


class RuleRead(BaseModel):
    """A notification rule; ``delay_seconds`` after the page."""

    id: int
    contact: int
    urgency: str
    delay_seconds: int


class UserRead(BaseModel):
    """A user with their contact methods and notification rules."""

    name: str
    role: str
    email: str | None
    time_zone: str
    created_at: datetime
    contact_methods: list[ContactRead]
    notification_rules: list[RuleRead]


def user_read(profile: Profile, *, secrets: bool = True) -> UserRead:
    """A user's profile as the API and ``--json`` show it; without ``secrets`` URL contact
    addresses are shown up to the host (a Slack hook's path is its key)."""
    user = profile.user
    return UserRead(
        name=user.name,
        role=user.role,
        email=user.email,
        time_zone=user.time_zone,
        created_at=user.created_at,
        contact_methods=[
            ContactRead(
                id=c.id,
                kind=c.kind,
                address=c.address if secrets else shown_address(c.kind, c.address),
                label=c.label,
            )
            for c in profile.contacts
        ],
        notification_rules=[
            RuleRead(
                id=r.id,
                contact=r.contact_method_id,
                urgency=r.urgency,
                delay_seconds=r.delay_seconds,
            )
            for r in profile.rules
        ],
    )


class AuditActor(BaseModel):
    """Who made a change: ``kind`` user, token, cli or system, and a name."""

    kind: str
    name: str


class AuditEventRead(BaseModel):
    """One recorded change. ``before`` and ``after`` hold the changed columns of an update,
    the whole row of a create (after) or delete (before); secrets are ``"***"``."""

    id: int
    at: datetime
    actor: AuditActor
    action: str = Field(description="create, update or delete")
    object_type: str = Field(examples=["schedule"])
    object_id: str = Field(description="The row's primary key ('/' between parts).")
    summary: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None


class AuditPage(BaseModel):
    """A page of audit events, newest first; pass ``next_before_id`` as ``before_id`` for
    the next (older) page, null when this is the last."""

    events: list[AuditEventRead]
    next_before_id: int | None


class TeamCreate(BaseModel):
    """A team to create."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(examples=["payments"])


class TeamRead(BaseModel):
    """A team: its members, and the services, schedules and escalation policies it owns."""

    name: str
    created_at: datetime
    members: list[str]
    services: list[str]
    schedules: list[str]
    escalation_policies: list[str]
