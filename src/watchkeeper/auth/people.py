"""Users (people who go on call), their contact methods and their notification rules.

A user with no notification rules is notified on every contact method at once, whatever the
urgency; once they have rules, only the rules for a page's urgency apply, each after its delay.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from watchkeeper.auth import repository
from watchkeeper.auth.exceptions import InvalidUser, LastAdmin, UserNameTaken, UserNotFound
from watchkeeper.auth.models import ContactMethod, NotificationRule, User
from watchkeeper.auth.roles import Role
from watchkeeper.core.duration import parse_duration
from watchkeeper.messages import did_you_mean, shown
from watchkeeper.notify.exceptions import InvalidNotification
from watchkeeper.notify.service import validate_address as notify_address

USER_NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")
USER_ROLES = (Role.ADMIN, Role.EDITOR, Role.RESPONDER, Role.VIEWER)
MAX_DELAY = timedelta(hours=24)


class ContactKind(StrEnum):
    """How a contact method reaches its user."""

    EMAIL = "email"
    SLACK = "slack"
    WEBHOOK = "webhook"
    CONSOLE = "console"


class Urgency(StrEnum):
    """High urgency pages; low urgency notifies only."""

    HIGH = "high"
    LOW = "low"


@dataclass(frozen=True)
class Profile:
    """A user with their contact methods and notification rules."""

    user: User
    contacts: tuple[ContactMethod, ...]
    rules: tuple[NotificationRule, ...]


@dataclass(frozen=True)
class Delivery:
    """One way to notify one user for one urgency: contact kind, address and delay."""

    user: str
    kind: str
    address: str
    delay: timedelta


def validate_name(name: str) -> str:
    """A user name as stored, or InvalidUser naming the field."""
    if not isinstance(name, str) or USER_NAME.fullmatch(name) is None:
        raise InvalidUser(
            f"name: {shown(name)} is not a user name (1 to 64 characters: lower-case letters, "
            "digits, '.', '_' or '-', starting with a letter or digit)"
        )
    return name


def validate_time_zone(time_zone: str) -> str:
    """An IANA time zone name, or InvalidUser naming the field."""
    try:
        ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise InvalidUser(f"time_zone: unknown time zone {shown(time_zone)}") from None
    return time_zone


def validate_address(kind: str, address: str) -> tuple[ContactKind, str]:
    """A contact kind and address checked for that kind, or InvalidUser naming the field."""
    try:
        contact_kind = ContactKind(kind)
    except ValueError:
        choices = ", ".join(k.value for k in ContactKind)
        raise InvalidUser(f"kind: unknown contact kind {shown(kind)}; use {choices}") from None
    address = address.strip()
    # notify's check: an address accepted here is one the outbox will take at page time.
    try:
        notify_address(contact_kind.value, address)
    except InvalidNotification as exc:
        raise InvalidUser(exc.detail) from None
    return contact_kind, address


def create_user(
    session: Session,
    *,
    name: str,
    role: str,
    now: datetime,
    email: str | None = None,
    time_zone: str = "UTC",
) -> User:
    """Create a user; an email also becomes their first contact method."""
    validate_name(name)
    if role not in {r.value for r in USER_ROLES}:
        choices = ", ".join(r.value for r in USER_ROLES)
        raise InvalidUser(f"role: unknown role {shown(role)}; choose one of: {choices}")
    validate_time_zone(time_zone)
    if email is not None:
        validate_address(ContactKind.EMAIL, email)
    if repository.get_user(session, name) is not None:
        raise UserNameTaken(f"a user named {name!r} exists")
    try:
        user = repository.add_user(
            session,
            User(name=name, role=role, email=email, time_zone=time_zone, created_at=now),
        )
    except IntegrityError:
        # A concurrent request created the name after our look: a conflict, not a 500. The
        # transaction is spoilt; the adapter rolls it back.
        raise UserNameTaken(f"a user named {name!r} exists") from None
    if email is not None:
        add_contact(session, name=name, kind=ContactKind.EMAIL, address=email, now=now)
    return user


def set_role(session: Session, *, name: str, role: str) -> User:
    """Give a user another role; the last admin keeps theirs, so someone can still manage."""
    if role not in {r.value for r in USER_ROLES}:
        choices = ", ".join(r.value for r in USER_ROLES)
        raise InvalidUser(f"role: unknown role {shown(role)}; choose one of: {choices}")
    user = get_user(session, name=name)
    if user.role == Role.ADMIN and role != Role.ADMIN:
        admins = [u for u in repository.list_users(session) if u.role == Role.ADMIN]
        if len(admins) <= 1:
            raise LastAdmin(f"{name} is the only admin; make another user admin first")
    user.role = role
    session.flush()
    return user


def get_user(session: Session, *, name: str) -> User:
    """The user named ``name``, or UserNotFound with a suggestion."""
    user = repository.get_user(session, name)
    if user is None:
        hint = did_you_mean(name, repository.user_names(session))
        raise UserNotFound(f"no user named {shown(name)}{hint}")
    return user


def list_users(session: Session) -> list[Profile]:
    """Every user with contact methods and rules, by name."""
    return _profiles(session, repository.list_users(session))


def profile(session: Session, *, name: str) -> Profile:
    """One user with contact methods and rules."""
    return _profiles(session, [get_user(session, name=name)])[0]


def _profiles(session: Session, users: Sequence[User]) -> list[Profile]:
    ids = [user.id for user in users]
    contacts = repository.contact_methods(session, ids)
    rules = repository.notification_rules(session, ids)
    return [
        Profile(
            user,
            tuple(c for c in contacts if c.user_id == user.id),
            tuple(r for r in rules if r.user_id == user.id),
        )
        for user in users
    ]


def delete_user(session: Session, *, name: str) -> None:
    """Delete a user with their contact methods and rules."""
    repository.delete_user(session, get_user(session, name=name))


def add_contact(
    session: Session, *, name: str, kind: str, address: str, now: datetime, label: str = ""
) -> ContactMethod:
    """Add a contact method to a user."""
    user = get_user(session, name=name)
    contact_kind, cleaned = validate_address(kind, address)
    if len(label) > 200:
        raise InvalidUser("label: at most 200 characters")
    contact = ContactMethod(
        user_id=user.id,
        kind=contact_kind.value,
        address=cleaned,
        label=label or contact_kind.value,
        created_at=now,
    )
    repository.add_row(session, contact)
    return contact


def remove_contact(session: Session, *, name: str, contact_id: int) -> None:
    """Remove a user's contact method and the notification rules that use it."""
    user = get_user(session, name=name)
    contacts = repository.contact_methods(session, [user.id])
    found = next((c for c in contacts if c.id == contact_id), None)
    if found is None:
        ids = ", ".join(str(c.id) for c in contacts) or "none"
        raise UserNotFound(f"{name} has no contact method {contact_id} (theirs: {ids})")
    repository.delete_contact(session, found)


def remove_rule(session: Session, *, name: str, rule_id: int) -> None:
    """Remove a user's notification rule."""
    user = get_user(session, name=name)
    rules = repository.notification_rules(session, [user.id])
    found = next((r for r in rules if r.id == rule_id), None)
    if found is None:
        ids = ", ".join(str(r.id) for r in rules) or "none"
        raise UserNotFound(f"{name} has no notification rule {rule_id} (theirs: {ids})")
    repository.delete_rule(session, found)


def parse_delay(text: str) -> timedelta:
    """A rule's delay: ``0`` (or ``0m``, ``0s``) or a duration such as ``5m``."""
    if text.strip() in ("0", "0m", "0s"):
        return timedelta(0)
    try:
        return parse_duration(text)
    except ValueError as exc:
        raise InvalidUser(f"delay: {exc}") from None


def add_rule(
    session: Session,
    *,
    name: str,
    contact_id: int,
    urgency: str,
    delay: timedelta,
    now: datetime,
) -> NotificationRule:
    """Notify a user's contact method ``delay`` after a page of ``urgency``."""
    user = get_user(session, name=name)
    if urgency not in {u.value for u in Urgency}:
        raise InvalidUser(f"urgency: {shown(urgency)} is not high or low")
    if not timedelta(0) <= delay <= MAX_DELAY:
        raise InvalidUser("delay: must be between 0 and 24h")
    contacts = repository.contact_methods(session, [user.id])
    if contact_id not in {c.id for c in contacts}:
        ids = ", ".join(str(c.id) for c in contacts) or "none"
        raise UserNotFound(f"contact: {name} has no contact method {contact_id} (theirs: {ids})")
    rule = NotificationRule(
        user_id=user.id,
        contact_method_id=contact_id,
        urgency=urgency,
        delay_seconds=int(delay.total_seconds()),
        created_at=now,
    )
    repository.add_row(session, rule)
    return rule


def missing_users(session: Session, *, names: Sequence[str]) -> list[str]:
    """The names among ``names`` that are no user, sorted."""
    found = {user.name for user in repository.users_named(session, sorted(set(names)))}
    return sorted(set(names) - found)


def all_user_names(session: Session) -> list[str]:
    """Every user's name."""
    return repository.user_names(session)


def deliveries(session: Session, *, names: Sequence[str], urgency: str) -> list[Delivery]:
    """How to notify each named user for ``urgency``: their rules, or every contact at once."""
    if not names:
        return []
    # Two column selects, not three ORM loads: this runs in every paging intake transaction.
    contacts: dict[str, dict[int, tuple[str, str]]] = {}
    for user, contact_id, kind, address in repository.contact_rows(session, names):
        contacts.setdefault(user, {})[contact_id] = (kind, address)
    rules: dict[str, list[tuple[int, str, int]]] = {}
    for user, contact_id, rule_urgency, delay_seconds in repository.rule_rows(session, names):
        rules.setdefault(user, []).append((contact_id, rule_urgency, delay_seconds))
    found: list[Delivery] = []
    for name in names:
        own = contacts.get(name, {})
        if name in rules:
            for contact_id, rule_urgency, delay_seconds in rules[name]:
                contact = own.get(contact_id)
                if rule_urgency == urgency and contact is not None:
                    delay = timedelta(seconds=delay_seconds)
                    found.append(Delivery(name, contact[0], contact[1], delay))
        else:
            found.extend(
                Delivery(name, kind, address, timedelta(0)) for kind, address in own.values()
            )
    return found
