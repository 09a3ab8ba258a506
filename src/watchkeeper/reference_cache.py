"""Paging's reference rows, kept per process for as long as the database says they hold.

Every alert group that opens reads routing rules, silences, its escalation policy, the
schedules and people it pages, and the link-signing key; they change rarely. Database
triggers (migration 0011) set ``config_version.token`` to a new random value in any
transaction that writes one of those tables, whichever process writes it. A transaction
that opts in (:func:`enable`; intake does, and never writes those tables itself) reads the
token once, and each value loaded under the same token is served again without a query, in
this transaction and later ones, until a write anywhere changes the token. Other
transactions load every time. Values cached here are plain, immutable data, never ORM
objects (they outlive the session that loaded them).

A SQLite migration that rebuilds one of the watched tables (batch mode copies it) drops its
triggers: such a migration must create them again (0011's ``WATCHED``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar
from weakref import WeakKeyDictionary

from sqlalchemy import CheckConstraint, Integer, String, event, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from watchkeeper.db import Base

T = TypeVar("T")
_ENABLED = "watchkeeper.reference_cache.enabled"
_TOKEN = "watchkeeper.reference_cache.token"


class ConfigVersion(Base):
    """The single row whose token every write to paging's reference tables changes."""

    __tablename__ = "config_version"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    token: Mapped[str] = mapped_column(String(64))


# Per database connection source (engine, or the connection a session is bound to): key ->
# (token it was loaded under, value). Weak, so a disposed engine's values go with it.
_values: WeakKeyDictionary[Any, dict[str, tuple[str, Any]]] = WeakKeyDictionary()
_lock = threading.Lock()


def enable(session: Session) -> None:
    """Let this transaction serve reference reads from the process cache (only for one that
    does not write the watched tables: its own writes would not be seen)."""
    session.info[_ENABLED] = True


def read(session: Session, key: str, load: Callable[[], T]) -> T:
    """``load()``, or the value it gave under the database's current token (see module)."""
    if not session.info.get(_ENABLED):
        return load()
    token = session.info.get(_TOKEN)
    if token is None:
        token = session.scalar(select(ConfigVersion.token).where(ConfigVersion.id == 1))
        if token is None:  # a database without the row: nothing can be trusted to hold
            return load()
        session.info[_TOKEN] = token
    source = session.get_bind()
    with _lock:
        entries = _values.setdefault(source, {})
        hit = entries.get(key)
    if hit is not None and hit[0] == token:
        found: T = hit[1]
        return found
    value = load()
    with _lock:
        entries[key] = (token, value)
    return value


# The tables migration 0011 watches (a test checks the two lists agree).
WATCHED_TABLES = frozenset(
    {
        "alert_routing_rule",
        "silence",
        "escalation_policy",
        "oncall_schedule",
        "app_user",
        "contact_method",
        "notification_rule",
        "integration",
        "alerting_secret",
    }
)


def _writes_watched(rows: Any) -> bool:
    return any(getattr(row, "__tablename__", None) in WATCHED_TABLES for row in rows)


@event.listens_for(Session, "after_flush")
def _flushed(session: Session, context: Any) -> None:
    # A transaction that writes a watched table sees its own change only if it reads afresh:
    # the cache is off for the rest of it (intake never gets here; a test or a CLI might).
    if session.info.get(_ENABLED) and _writes_watched(
        [*session.new, *session.dirty, *session.deleted]
    ):
        session.info.pop(_ENABLED, None)
        session.info.pop(_TOKEN, None)


@event.listens_for(Session, "do_orm_execute")
def _executed(state: Any) -> None:
    session = state.session
    if session.info.get(_ENABLED) and (state.is_insert or state.is_update or state.is_delete):
        table = getattr(state.statement, "table", None)
        if getattr(table, "name", None) in WATCHED_TABLES:
            session.info.pop(_ENABLED, None)
            session.info.pop(_TOKEN, None)


@event.listens_for(Session, "after_transaction_end")
def _forget(session: Session, transaction: Any) -> None:
    if transaction.parent is None:  # the outermost transaction, not a savepoint
        session.info.pop(_ENABLED, None)
        session.info.pop(_TOKEN, None)
