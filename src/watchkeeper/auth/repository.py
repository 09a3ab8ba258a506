"""SQL for API tokens, users, contact methods and notification rules."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Row, delete, func, select
from sqlalchemy.orm import Session

from watchkeeper.auth.models import (
    APIToken,
    AuditEvent,
    ContactMethod,
    NotificationRule,
    SignInFailure,
    Team,
    TeamMember,
    TeamService,
    User,
    UserCredential,
    WebSession,
)


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


# --- dashboard sign-in ---------------------------------------------------------------------


def get_credential(session: Session, user_id: int) -> UserCredential | None:
    """The user's stored password hash."""
    return session.get(UserCredential, user_id)


def put_credential(session: Session, credential: UserCredential) -> None:
    """Insert or replace a user's password hash."""
    session.merge(credential)
    session.flush()


def add_web_session(session: Session, row: WebSession) -> WebSession:
    """Insert a browser session."""
    session.add(row)
    session.flush()
    return row


def get_web_session(session: Session, digest: str) -> tuple[WebSession, User] | None:
    """A browser session by the digest of its cookie value, with its user."""
    row = session.execute(
        select(WebSession, User)
        .join(User, User.id == WebSession.user_id)
        .where(WebSession.digest == digest)
    ).first()
    return None if row is None else (row[0], row[1])


def delete_web_session(session: Session, digest: str) -> None:
    """Forget one browser session."""
    session.execute(delete(WebSession).where(WebSession.digest == digest))


def delete_user_sessions(session: Session, user_id: int) -> int:
    """Forget every browser session of a user; returns how many there were."""
    result = session.execute(delete(WebSession).where(WebSession.user_id == user_id))
    return int(getattr(result, "rowcount", 0) or 0)


def delete_expired_sessions(session: Session, now: datetime) -> None:
    """Forget browser sessions past their expiry."""
    session.execute(delete(WebSession).where(WebSession.expires_at <= now))


def add_sign_in_failure(session: Session, row: SignInFailure) -> None:
    """Record a failed sign-in."""
    session.add(row)
    session.flush()


def sign_in_failures(
    session: Session, *, name: str, address: str, since: datetime
) -> tuple[int, int, datetime | None, datetime | None]:
    """Failures since ``since`` for the name and for the address, with the oldest of each."""
    by_name = session.execute(
        select(func.count(), func.min(SignInFailure.at)).where(
            SignInFailure.name == name, SignInFailure.at > since
        )
    ).one()
    by_address = session.execute(
        select(func.count(), func.min(SignInFailure.at)).where(
            SignInFailure.address == address, SignInFailure.at > since
        )
    ).one()
    return int(by_name[0]), int(by_address[0]), by_name[1], by_address[1]


def clear_sign_in_failures(session: Session, *, name: str, before: datetime) -> None:
    """Forget a name's failures (after a successful sign-in) and everyone's older ones."""
    session.execute(
        delete(SignInFailure).where((SignInFailure.name == name) | (SignInFailure.at <= before))
    )


# --- audit log and teams ------------------------------------------------------------------


def audit_events(
    session: Session,
    *,
    since: datetime | None,
    until: datetime | None,
    actor: str | None,
    object_type: str | None,
    limit: int,
    before_id: int | None = None,
    after_id: int | None = None,
    oldest_first: bool = False,
) -> list[AuditEvent]:
    """Audit events matching the filters (and between the ids given), newest first unless
    ``oldest_first``."""
    query = select(AuditEvent)
    if since is not None:
        query = query.where(AuditEvent.at >= since)
    if until is not None:
        query = query.where(AuditEvent.at < until)
    if actor is not None:
        query = query.where(AuditEvent.actor_name == actor)
    if object_type is not None:
        query = query.where(AuditEvent.object_type == object_type)
    if before_id is not None:
        query = query.where(AuditEvent.id < before_id)
    if after_id is not None:
        query = query.where(AuditEvent.id > after_id)
    # Ids grow with time within one database, so they order events and page through them.
    order = AuditEvent.id.asc() if oldest_first else AuditEvent.id.desc()
    return list(session.scalars(query.order_by(order).limit(limit)))


def get_team(session: Session, name: str) -> Team | None:
    """The team with this name."""
    return session.scalars(select(Team).where(Team.name == name)).first()


def list_teams(session: Session) -> list[Team]:
    """Every team, by name."""
    return list(session.scalars(select(Team).order_by(Team.name)))


def teams_by_id(session: Session, team_ids: Sequence[int]) -> list[Team]:
    """The teams with these ids."""
    if not team_ids:
        return []
    return list(session.scalars(select(Team).where(Team.id.in_(list(team_ids)))))


def add_team_row(session: Session, row: Team | TeamMember | TeamService) -> None:
    """Insert a team, a membership or a service's ownership."""
    session.add(row)
    session.flush()


def delete_team_row(session: Session, row: Team | TeamMember | TeamService) -> None:
    """Delete a team, a membership or a service's ownership."""
    session.delete(row)
    session.flush()


def team_rows(session: Session, team_id: int) -> list[TeamMember | TeamService]:
    """The memberships and service ownerships of one team."""
    members = session.scalars(select(TeamMember).where(TeamMember.team_id == team_id))
    services = session.scalars(select(TeamService).where(TeamService.team_id == team_id))
    return [*members, *services]


def membership(session: Session, team_id: int, user_id: int) -> TeamMember | None:
    """The membership of this user in this team."""
    return session.get(TeamMember, (team_id, user_id))


def service_ownership(session: Session, service: str) -> TeamService | None:
    """Which team owns ``service``, as its row."""
    return session.scalars(select(TeamService).where(TeamService.service == service)).first()


def member_names(session: Session, team_ids: Sequence[int]) -> list[Row[int, str]]:
    """(team id, user name) of these teams' members."""
    if not team_ids:
        return []
    query = (
        select(TeamMember.team_id, User.name)
        .join(User, User.id == TeamMember.user_id)
        .where(TeamMember.team_id.in_(list(team_ids)))
    )
    return list(session.execute(query))


def owned_services(session: Session, team_ids: Sequence[int]) -> list[Row[int, str]]:
    """(team id, service) of the services these teams own."""
    if not team_ids:
        return []
    query = select(TeamService.team_id, TeamService.service).where(
        TeamService.team_id.in_(list(team_ids))
    )
    return list(session.execute(query))


def team_names_of_user(session: Session, user_name: str) -> list[str]:
    """The names of the teams this user belongs to, sorted."""
    query = (
        select(Team.name)
        .join(TeamMember, TeamMember.team_id == Team.id)
        .join(User, User.id == TeamMember.user_id)
        .where(User.name == user_name)
        .order_by(Team.name)
    )
    return list(session.scalars(query))
