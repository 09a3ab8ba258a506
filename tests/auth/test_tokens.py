"""API tokens: creation, roles, expiry, revocation and rejection."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from watchkeeper.auth import service
from watchkeeper.auth.exceptions import (
    InvalidToken,
    InvalidTokenRequest,
    RoleNotAllowed,
    TokenNameTaken,
    TokenNotFound,
    UnknownRole,
)
from watchkeeper.auth.roles import Permission
from watchkeeper.db import utcnow


def test_created_token_authenticates_for_its_role(session: Session) -> None:
    issued = service.create(session, name="ci", role="viewer", now=utcnow())
    assert issued.token.startswith("wk_")
    record = service.authenticate(
        session, token=issued.token, permission=Permission.READ, now=utcnow()
    )
    assert record.name == "ci"
    assert record.last_used_at is not None
    with pytest.raises(RoleNotAllowed):
        service.authenticate(session, token=issued.token, permission=Permission.WRITE, now=utcnow())


def test_unknown_token_and_bad_role_and_duplicate_name(session: Session) -> None:
    with pytest.raises(InvalidToken):
        service.authenticate(session, token="wk_nope", permission=Permission.READ, now=utcnow())
    with pytest.raises(UnknownRole, match="choose one of"):
        service.create(session, name="x", role="root", now=utcnow())
    service.create(session, name="dup", role="admin", now=utcnow())
    with pytest.raises(TokenNameTaken):
        service.create(session, name="dup", role="admin", now=utcnow())


def test_an_expired_token_stops_authenticating_at_its_expiry(session: Session) -> None:
    created = utcnow()
    issued = service.create(
        session, name="short", role="viewer", now=created, expires_in=timedelta(hours=1)
    )
    assert issued.expires_at == created + timedelta(hours=1)
    just_before = created + timedelta(minutes=59)
    assert service.authenticate(
        session, token=issued.token, permission=Permission.READ, now=just_before
    )
    with pytest.raises(InvalidToken, match="'short' expired at"):
        service.authenticate(
            session, token=issued.token, permission=Permission.READ, now=issued.expires_at
        )
    token = service.list_tokens(session)[0]
    assert service.state_of(token, now=just_before) is service.TokenState.ACTIVE
    assert service.state_of(token, now=issued.expires_at) is service.TokenState.EXPIRED


def test_a_revoked_token_stops_authenticating_and_revoking_twice_changes_nothing(
    session: Session,
) -> None:
    issued = service.create(session, name="ci", role="editor", now=utcnow())
    revoked_at = utcnow()
    token, changed = service.revoke(session, name="ci", now=revoked_at)
    assert changed and token.revoked_at == revoked_at
    with pytest.raises(InvalidToken, match="'ci' was revoked at"):
        service.authenticate(session, token=issued.token, permission=Permission.READ, now=utcnow())
    again, changed = service.revoke(session, name="ci", now=utcnow() + timedelta(hours=1))
    assert not changed and again.revoked_at == revoked_at
    assert service.state_of(again, now=utcnow()) is service.TokenState.REVOKED
    with pytest.raises(TokenNotFound, match="no token named 'nope'"):
        service.revoke(session, name="nope", now=utcnow())


def test_last_use_is_kept_to_the_minute(session: Session) -> None:
    issued = service.create(session, name="reader", role="viewer", now=utcnow())
    first = utcnow()
    service.authenticate(session, token=issued.token, permission=Permission.READ, now=first)
    service.authenticate(
        session, token=issued.token, permission=Permission.READ, now=first + timedelta(seconds=30)
    )
    assert service.list_tokens(session)[0].last_used_at == first
    later = first + timedelta(minutes=2)
    service.authenticate(session, token=issued.token, permission=Permission.READ, now=later)
    assert service.list_tokens(session)[0].last_used_at == later


@pytest.mark.parametrize(
    ("name", "expires_in", "message"),
    [
        ("", None, "token name '' is not valid"),
        ("has space", None, "token name 'has space' is not valid"),
        ("ok", timedelta(0), "a token lifetime must be positive"),
        ("ok", timedelta(days=-1), "a token lifetime must be positive"),
        ("ok", timedelta(days=99_999), "at most 3660 days"),
    ],
)
def test_bad_names_and_lifetimes_are_refused(
    session: Session, name: str, expires_in: timedelta | None, message: str
) -> None:
    with pytest.raises(InvalidTokenRequest, match=message):
        service.create(session, name=name, role="viewer", now=utcnow(), expires_in=expires_in)


def test_a_role_refusal_names_the_roles_that_may(session: Session) -> None:
    issued = service.create(session, name="looker", role="viewer", now=utcnow())
    with pytest.raises(
        RoleNotAllowed, match="may not ingest; this needs one of: admin, editor, ingest"
    ):
        service.authenticate(
            session, token=issued.token, permission=Permission.INGEST, now=utcnow()
        )
