"""The audit log: who changed what, when, with the values before and after.

Adapters name the acting party: the API's token check sets ``request.state.actor`` (the
request's session sees it through ``session.info["request_state"]``), the dashboard does the
same for a signed-in user, and the CLI calls :func:`bind_actor`. Recording is one set of
Session listeners (:func:`install`): after each flush of a session that has an actor, one
``audit_event`` row is written per inserted, updated or deleted row of a tracked table, in
the same transaction, so it commits or rolls back with the change. A session without an actor
(the worker, alert intake by integration key) records nothing.

Only configuration and human actions are tracked (:data:`TRACKED`); event buckets, SLO
status and history, the outbox and alerts are high-volume machine writes and never are.
Secrets are written as ``"***"``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import Table, event, insert, inspect, select
from sqlalchemy.orm import InstanceState, Mapper, ORMExecuteState, Session, UOWTransaction
from sqlalchemy.sql.dml import Delete

from watchkeeper.auth import repository
from watchkeeper.auth.models import AuditEvent
from watchkeeper.db import utcnow
from watchkeeper.errors import InvalidInput

MASK = "***"
SUMMARY_LENGTH = 300
DEFAULT_LIMIT = 100
MAX_LIMIT = 1000


class ActorKind(StrEnum):
    """Who can act: a dashboard user, an API token, a local CLI run, Watchkeeper itself."""

    USER = "user"
    TOKEN = "token"
    CLI = "cli"
    SYSTEM = "system"


@dataclass(frozen=True)
class Actor:
    """The party a change is recorded as: ``kind`` is one of :class:`ActorKind`."""

    kind: str
    name: str

    def __post_init__(self) -> None:
        if self.kind not in set(ActorKind):
            raise ValueError(f"actor kind {self.kind!r} is not one of {', '.join(ActorKind)}")
        if not self.name:
            raise ValueError("an actor needs a name")


class Action(StrEnum):
    """What happened to a row."""

    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"


@dataclass(frozen=True)
class Tracked:
    """How changes to one table are recorded.

    ``label`` names a row in summaries (``str.format`` over its column values); ``secrets``
    are always masked; ``state`` limits recording to updates of these columns (alert groups:
    a person's acknowledge, resolve or silence, not intake's bookkeeping); ``bookkeeping``
    columns change on their own (a token's last use, a silence's tally) and an update of only
    those is not recorded.
    """

    object_type: str
    label: str
    secrets: frozenset[str] = frozenset()
    state: frozenset[str] | None = None
    bookkeeping: frozenset[str] = frozenset()
    mask_address_of: frozenset[str] = field(default_factory=frozenset)


# Id columns a label shows by the referenced row's name: column -> (table, name column).
REFERENCES = {"user_id": ("app_user", "name"), "team_id": ("team", "name")}


ALERT_GROUP_STATE = frozenset(
    {
        "status",
        "acknowledged_at",
        "acknowledged_by",
        "resolved_at",
        "resolved_by",
        "resolved_how",
        "silenced_until",
        "silence_id",
    }
)

# Table name -> how it is recorded. Named by table, not by model class, so auth imports no
# other domain (and tables another change adds, such as dashboard passwords, need no import).
TRACKED: dict[str, Tracked] = {
    "slo": Tracked("slo", "{key}"),
    "error_budget_policy": Tracked("policy", "{name}"),
    "oncall_schedule": Tracked("schedule", "{name}"),
    "escalation_policy": Tracked("escalation_policy", "{name}"),
    "app_user": Tracked("user", "{name}"),
    "contact_method": Tracked(
        "contact_method",
        "#{id} ({kind}) of user {user_id}",
        mask_address_of=frozenset({"webhook", "slack"}),
    ),
    "notification_rule": Tracked("notification_rule", "#{id} of user {user_id}"),
    "user_credential": Tracked(
        "password", "of user {user_id}", secrets=frozenset({"password_hash"})
    ),
    "api_token": Tracked(
        "token",
        "{name}",
        secrets=frozenset({"digest"}),
        bookkeeping=frozenset({"last_used_at"}),
    ),
    "integration": Tracked("integration", "{name}", secrets=frozenset({"key"})),
    "alerting_secret": Tracked("signing_key", "{name}", secrets=frozenset({"value"})),
    "alert_routing_rule": Tracked("routing_rule", "{name}"),
    "silence": Tracked("silence", "#{id}", bookkeeping=frozenset({"silenced_count", "applied_at"})),
    "alert_group": Tracked("alert_group", "#{id}", state=ALERT_GROUP_STATE),
    "incident": Tracked("incident", "#{id} {title}"),
    "incident_severity": Tracked("incident_severity", "{name}"),
    "incident_role": Tracked("incident_role", "{role} {user_name} of incident #{incident_id}"),
    "incident_timeline": Tracked("incident_timeline", "{kind} of incident #{incident_id}"),
    "incident_alert_group": Tracked(
        "incident_alert_group", "alert group #{alert_group_id} of incident #{incident_id}"
    ),
    "incident_slo": Tracked("incident_slo", "{slo_key} of incident #{incident_id}"),
    "team": Tracked("team", "{name}"),
    "team_member": Tracked("team_member", "user {user_id} of team {team_id}"),
    "team_service": Tracked("team_service", "{service} of team {team_id}"),
}

OBJECT_TYPES = sorted({tracked.object_type for tracked in TRACKED.values()})

_PENDING_DELETES = "audit_pending_deletes"


def bind_actor(session: Session, actor: Actor) -> None:
    """Record the session's changes from now on as made by ``actor``."""
    session.info["actor"] = actor


def actor_of(session: Session) -> Actor | None:
    """Who the session's changes are recorded as, if anyone."""
    bound = session.info.get("actor")
    if isinstance(bound, Actor):
        return bound
    request_actor = getattr(session.info.get("request_state"), "actor", None)
    return request_actor if isinstance(request_actor, Actor) else None


def install() -> None:
    """Register the recording listeners on every Session (once per process)."""
    if not event.contains(Session, "after_flush", _after_flush):
        event.listen(Session, "before_flush", _before_flush)
        event.listen(Session, "after_flush", _after_flush)
        event.listen(Session, "do_orm_execute", _before_bulk_delete)


@dataclass(frozen=True)
class _Entry:
    tracked: Tracked
    action: Action
    object_id: str
    row: dict[str, Any]
    before: dict[str, Any] | None
    after: dict[str, Any] | None


def _tracked_state(instance: object) -> tuple[InstanceState[Any], Tracked] | None:
    state: InstanceState[Any] = inspect(instance)
    table = state.mapper.local_table
    tracked = TRACKED.get(table.name) if isinstance(table, Table) else None
    return (state, tracked) if tracked is not None else None


def _column_keys(mapper: Mapper[Any]) -> list[tuple[str, str]]:
    """(attribute key, column name) of each mapped column."""
    return [(prop.key, prop.columns[0].name) for prop in mapper.column_attrs]


def _loaded_row(state: InstanceState[Any]) -> dict[str, Any]:
    """The row's loaded values by column name (nothing is loaded from the database)."""
    loaded = state.dict
    return {name: loaded[key] for key, name in _column_keys(state.mapper) if key in loaded}


def _object_id(state: InstanceState[Any], row: Mapping[str, Any]) -> str:
    if state.identity is not None:
        return "/".join(str(part) for part in state.identity)
    keys = [column.name for column in state.mapper.primary_key]
    return "/".join(str(row.get(key)) for key in keys)


def _before_flush(session: Session, _context: UOWTransaction, _instances: object) -> None:
    # A deleted row's values are read now, while it still exists: after the flush an expired
    # attribute could no longer be loaded.
    # Fresh each flush: a failed flush must not leave its deletions for the next one.
    pending: list[_Entry] = []
    session.info[_PENDING_DELETES] = pending
    if actor_of(session) is None:
        return
    for instance in session.deleted:
        found = _tracked_state(instance)
        if found is None or found[1].state is not None:
            continue
        state, tracked = found
        row = {name: getattr(instance, key) for key, name in _column_keys(state.mapper)}
        pending.append(
            _Entry(tracked, Action.DELETE, _object_id(state, row), row, before=row, after=None)
        )


def _update_entry(state: InstanceState[Any], tracked: Tracked) -> _Entry | None:
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    for key, name in _column_keys(state.mapper):
        if tracked.state is not None and name not in tracked.state:
            continue
        history = state.attrs[key].history
        if not history.added:
            continue
        old = history.deleted[0] if history.deleted else None
        new = history.added[0]
        if history.deleted and old == new:
            continue
        before[name] = old
        after[name] = new
    if not set(after) - tracked.bookkeeping:
        return None
    row = _loaded_row(state)
    return _Entry(tracked, Action.UPDATE, _object_id(state, row), row, before, after)


def _after_flush(session: Session, _context: UOWTransaction) -> None:
    actor = actor_of(session)
    entries: list[_Entry] = session.info.pop(_PENDING_DELETES, [])
    if actor is None:
        return
    for instance in session.new:
        found = _tracked_state(instance)
        if found is None or found[1].state is not None:
            continue
        state, tracked = found
        row = _loaded_row(state)
        entries.append(
            _Entry(tracked, Action.CREATE, _object_id(state, row), row, before=None, after=row)
        )
    for instance in session.dirty:
        found = _tracked_state(instance)
        if found is None or instance in session.deleted:
            continue
        entry = _update_entry(*found)
        if entry is not None:
            entries.append(entry)
    _write(session, actor, entries)


def _before_bulk_delete(execute_state: ORMExecuteState) -> None:
    # Repositories delete dependent rows in one statement (a user's contact methods, the
    # routing rules being replaced): each row is read first so its deletion is recorded too.
    statement = execute_state.statement
    if not isinstance(statement, Delete) or not isinstance(statement.table, Table):
        return
    tracked = TRACKED.get(statement.table.name)
    session = execute_state.session
    actor = actor_of(session)
    if tracked is None or tracked.state is not None or actor is None:
        return
    if session.autoflush:
        session.flush()  # what the DELETE's own autoflush would write, so it is read too
    query = select(*statement.table.c)
    if statement.whereclause is not None:
        query = query.where(statement.whereclause)
    keys = [column.name for column in statement.table.primary_key]
    entries = []
    for found in session.connection().execute(query).mappings():
        row = dict(found)
        object_id = "/".join(str(row[key]) for key in keys)
        entries.append(_Entry(tracked, Action.DELETE, object_id, row, before=row, after=None))
    _write(session, actor, entries)


def _masked(tracked: Tracked, values: dict[str, Any] | None, row: Mapping[str, Any]) -> Any:
    if values is None:
        return None
    secret = set(tracked.secrets)
    if row.get("kind") in tracked.mask_address_of:
        secret.add("address")
    return {
        name: MASK if name in secret and value is not None else _plain(value)
        for name, value in values.items()
    }


def _plain(value: Any) -> Any:
    """``value`` as JSON can hold it (timestamps as RFC 3339 text)."""
    if isinstance(value, date):  # datetimes too
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


class _Blank(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "?"


def _named(session: Session, label: str, row: Mapping[str, Any]) -> dict[str, Any]:
    """``row`` with the user and team ids ``label`` shows replaced by their names."""
    named = dict(row)
    for column, (table_name, name_column) in REFERENCES.items():
        value = row.get(column)
        table = AuditEvent.metadata.tables.get(table_name)
        if value is None or table is None or f"{{{column}}}" not in label:
            continue
        query = select(table.c[name_column]).where(table.c.id == value)
        name = session.connection().execute(query).scalar()
        named[column] = repr(name) if name is not None else f"#{value}"
    return named


def _summary(session: Session, entry: _Entry) -> str:
    label = entry.tracked.label
    label = label.format_map(_Blank(_named(session, label, entry.row)))
    text = f"{entry.action.value}d {entry.tracked.object_type} {label}"
    if entry.action is Action.UPDATE and entry.after:
        text += ": " + ", ".join(entry.after)
    text = " ".join(text.split())
    if len(text) > SUMMARY_LENGTH:
        text = text[: SUMMARY_LENGTH - 1] + "\N{HORIZONTAL ELLIPSIS}"
    return text


def _write(session: Session, actor: Actor, entries: Sequence[_Entry]) -> None:
    if not entries:
        return
    at = utcnow()
    rows = [
        {
            "at": at,
            "actor_kind": actor.kind,
            "actor_name": actor.name[:200],
            "action": entry.action.value,
            "object_type": entry.tracked.object_type,
            "object_id": entry.object_id[:400],
            "summary": _summary(session, entry),
            "before": _masked(entry.tracked, entry.before, entry.row),
            "after": _masked(entry.tracked, entry.after, entry.row),
        }
        for entry in entries
    ]
    # The connection, not the session: no ORM object is added while the session flushes.
    session.connection().execute(insert(AuditEvent.__table__), rows)  # type: ignore[arg-type]


def list_events(
    session: Session,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    actor: str | None = None,
    object_type: str | None = None,
    limit: int = DEFAULT_LIMIT,
    before_id: int | None = None,
) -> list[AuditEvent]:
    """Recorded changes, newest first; ``before_id`` (the last id seen) pages back."""
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"limit: give 1 to {MAX_LIMIT}")
    _check_filters(since=since, until=until, object_type=object_type)
    return repository.audit_events(
        session,
        since=since,
        until=until,
        actor=actor,
        object_type=object_type,
        limit=limit,
        before_id=before_id,
    )


def iter_events(
    session: Session,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    actor: str | None = None,
    object_type: str | None = None,
) -> Iterator[AuditEvent]:
    """Every matching recorded change, oldest first, read a page at a time."""
    _check_filters(since=since, until=until, object_type=object_type)
    after_id = None
    while True:
        page = repository.audit_events(
            session,
            since=since,
            until=until,
            actor=actor,
            object_type=object_type,
            limit=MAX_LIMIT,
            after_id=after_id,
            oldest_first=True,
        )
        yield from page
        if len(page) < MAX_LIMIT:
            return
        after_id = page[-1].id
        session.expunge_all()  # a long export keeps one page in memory, not the whole log


def _check_filters(
    *, since: datetime | None, until: datetime | None, object_type: str | None
) -> None:
    if object_type is not None and object_type not in OBJECT_TYPES:
        raise InvalidInput(f"type: {object_type!r} is not one of {', '.join(OBJECT_TYPES)}")
    if since is not None and until is not None and since >= until:
        raise InvalidInput("since: must be before until")


def document(event_row: AuditEvent) -> dict[str, Any]:
    """An audit event as JSON (the API's and the export's shape)."""
    return {
        "id": event_row.id,
        "at": event_row.at.isoformat(),
        "actor": {"kind": event_row.actor_kind, "name": event_row.actor_name},
        "action": event_row.action,
        "object_type": event_row.object_type,
        "object_id": event_row.object_id,
        "summary": event_row.summary,
        "before": event_row.before,
        "after": event_row.after,
    }


def export_text(documents: Sequence[Mapping[str, Any]]) -> str:
    """Event documents as one JSON array, one event per line (the export format)."""
    lines = ",\n".join(json.dumps(item, sort_keys=True) for item in documents)
    return f"[\n{lines}\n]\n" if documents else "[]\n"
