"""API tokens: creation, roles and rejection."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from watchkeeper.auth import service
from watchkeeper.auth.exceptions import InvalidToken, RoleNotAllowed, TokenNameTaken, UnknownRole
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
