"""SQL for API tokens, users, contact methods and notification rules."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Row, delete, select
from sqlalchemy.orm import Session

from watchkeeper.auth.models import APIToken, ContactMethod, NotificationRule, User


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


def get_user(session: Session, name: str) -> User | None:
    """The user with this name."""
    return session.scalars(select(User).where(User.name == name)).first()


def list_users(session: Session) -> list[User]:
    """Every user, by name."""
    return list(session.scalars(select(User).order_by(User.name)))


def user_names(session: Session) -> list[str]:
    """Every user's name."""
    return list(session.scalars(select(User.name).order_by(User.name)))


def users_named(session: Session, names: Sequence[str]) -> list[User]:
    """The users among ``names`` that exist."""
    if not names:
        return []
    return list(session.scalars(select(User).where(User.name.in_(list(names)))))


def add_user(session: Session, user: User) -> User:
    """Insert a user row."""
    session.add(user)
    session.flush()
    return user


def delete_user(session: Session, user: User) -> None:
    """Delete a user with its contact methods and rules."""
    session.execute(delete(NotificationRule).where(NotificationRule.user_id == user.id))
    session.execute(delete(ContactMethod).where(ContactMethod.user_id == user.id))
    session.delete(user)
    session.flush()


def contact_methods(session: Session, user_ids: Sequence[int]) -> list[ContactMethod]:
    """The contact methods of these users, oldest first."""
    if not user_ids:
        return []
    query = select(ContactMethod).where(ContactMethod.user_id.in_(list(user_ids)))
    return list(session.scalars(query.order_by(ContactMethod.id)))


def contact_rows(session: Session, names: Sequence[str]) -> list[Row[str, int, str, str]]:
    """(user name, contact id, kind, address) of the named users' contact methods, oldest
    first: only the columns a page needs, without loading ORM objects."""
    if not names:
        return []
    query = (
        select(User.name, ContactMethod.id, ContactMethod.kind, ContactMethod.address)
        .join(ContactMethod, ContactMethod.user_id == User.id)
        .where(User.name.in_(list(names)))
        .order_by(ContactMethod.id)
    )
    return list(session.execute(query))


def rule_rows(session: Session, names: Sequence[str]) -> list[Row[str, int, str, int]]:
    """(user name, contact method id, urgency, delay seconds) of the named users'
    notification rules, oldest first, without loading ORM objects."""
    if not names:
        return []
    query = (
        select(
            User.name,
            NotificationRule.contact_method_id,
            NotificationRule.urgency,
            NotificationRule.delay_seconds,
        )
        .join(NotificationRule, NotificationRule.user_id == User.id)
        .where(User.name.in_(list(names)))
        .order_by(NotificationRule.id)
    )
    return list(session.execute(query))


def notification_rules(session: Session, user_ids: Sequence[int]) -> list[NotificationRule]:
    """The notification rules of these users, oldest first."""
    if not user_ids:
        return []
    query = select(NotificationRule).where(NotificationRule.user_id.in_(list(user_ids)))
    return list(session.scalars(query.order_by(NotificationRule.id)))


def delete_contact(session: Session, contact: ContactMethod) -> None:
    """Delete a contact method with the notification rules that use it."""
    session.execute(
        delete(NotificationRule).where(NotificationRule.contact_method_id == contact.id)
    )
    session.delete(contact)
    session.flush()


def delete_rule(session: Session, rule: NotificationRule) -> None:
    """Delete a notification rule."""
    session.delete(rule)
    session.flush()


def add_row(session: Session, row: ContactMethod | NotificationRule) -> None:
    """Insert a contact method or notification rule."""
    session.add(row)
    session.flush()
