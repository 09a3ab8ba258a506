"""Deleting a user, which the on-call domain may still name."""

from __future__ import annotations

from sqlalchemy.orm import Session

from watchkeeper.auth import people
from watchkeeper.auth.exceptions import UserInUse
from watchkeeper.oncall import service as oncall


def delete_user(session: Session, *, name: str) -> None:
    """Delete a user unless a schedule or escalation policy names them (UserInUse)."""
    people.get_user(session, name=name)
    references = oncall.user_references(session, user=name)
    if references:
        raise UserInUse(
            f"{name} is named by {', '.join(references)}: change those first, then delete"
        )
    people.delete_user(session, name=name)
