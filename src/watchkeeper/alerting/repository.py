"""All SQL of alert intake: integrations, groups, alerts, log, silences, routes, changes."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Row, Table, case, delete, event, func, insert, select, update
from sqlalchemy.orm import Session, object_session
from sqlalchemy.orm.util import identity_key

from watchkeeper.alerting.models import (
    Alert,
    AlertGroup,
    AlertGroupLog,
    AlertingSecret,
    ChangeEvent,
    Integration,
    RoutingRule,
    Silence,
)


def add(session: Session, row: Any) -> None:
    """Stage a new row and flush it (so it has its id)."""
    session.add(row)
    session.flush()


# What this transaction's bulk inserts wrote per group (see :func:`written_figures`).
_WRITTEN_KEY = "watchkeeper.alerting.written"
# Groups whose alerts were also written another way in this transaction (an ORM flush).
_UNTALLIED_KEY = "watchkeeper.alerting.untallied"

PageFigures = tuple[int, int, datetime | None, str | None]


@dataclass
class _Tally:
    firing: int = 0
    total: int = 0
    since: datetime | None = None
    urls: set[str] = field(default_factory=set)


def _tally(session: Session, alerts: Sequence[Alert]) -> None:
    written: dict[int, _Tally] = session.info.setdefault(_WRITTEN_KEY, {})
    for alert in alerts:
        tally = written.setdefault(alert.group_id, _Tally())
        tally.total += 1
        tally.firing += alert.status == "firing"
        if alert.starts_at is not None:
            starts_at = alert.starts_at.astimezone(UTC)  # as the column reads it back
            tally.since = starts_at if tally.since is None else min(tally.since, starts_at)
        if alert.generator_url is not None:
            tally.urls.add(alert.generator_url)


def written_figures(session: Session, group_ids: Collection[int]) -> dict[int, PageFigures]:
    """:func:`page_figures` of groups whose every alert this transaction wrote in bulk, from
    memory. The caller vouches that the groups were inserted in this transaction; a group
    whose alerts were also flushed by the ORM, or with several source URLs (which one is the
    ``max`` depends on the database's collation), is left out for the query to answer."""
    written: dict[int, _Tally] = session.info.get(_WRITTEN_KEY, {})
    untallied: set[int] = session.info.get(_UNTALLIED_KEY, set())
    found: dict[int, PageFigures] = {}
    for group_id in group_ids:
        tally = written.get(group_id)
        if tally is None or group_id in untallied or len(tally.urls) > 1:
            continue
        url = next(iter(tally.urls)) if tally.urls else None
        found[group_id] = (tally.firing, tally.total, tally.since, url)
    return found


def _untallied(_mapper: Any, _connection: Any, alert: Alert) -> None:
    session = object_session(alert)
    if session is not None:
        session.info.setdefault(_UNTALLIED_KEY, set()).add(alert.group_id)


for _event in ("after_insert", "after_update", "after_delete"):
    event.listen(Alert, _event, _untallied)


@event.listens_for(Session, "after_transaction_end")
def _forget_tallies(session: Session, transaction: Any) -> None:
    # The tallies hold for the outermost transaction only: its end (commit or rollback)
    # forgets them, and so does a savepoint's end (a rolled-back savepoint unwrites alerts).
    session.info.pop(_WRITTEN_KEY, None)
    session.info.pop(_UNTALLIED_KEY, None)


def insert_pending(session: Session) -> None:
    """Insert the session's pending alerts and log entries with one multi-row INSERT each.

    The ORM inserts new rows one statement at a time to learn each id (SQLite cannot match a
    multi-row INSERT's RETURNING to its rows); intake needs no id of an alert or log entry it
    creates, so they are written in bulk and leave the session (they stay readable, without
    an id). Rows that an autoflush already wrote are not pending any more.
    """
    # Every pending row leaves the session before the first INSERT runs: that statement's
    # autoflush would otherwise write the other model's rows one at a time.
    batches: list[tuple[type[Any], list[Any], list[dict[str, Any]]]] = []
    for model in (Alert, AlertGroupLog):
        pending = [row for row in session.new if isinstance(row, model)]
        if not pending:
            continue
        columns = [c.key for c in model.__mapper__.column_attrs if c.key != "id"]
        values = [{name: getattr(row, name) for name in columns} for row in pending]
        for row in pending:
            session.expunge(row)
        batches.append((model, pending, values))
    for model, pending, values in batches:
        # The table, not the class: the ORM's bulk insert leaves out None values and splits
        # the rows into one statement per set of columns left; Core sends one executemany.
        session.execute(insert(cast(Table, model.__table__)), values)
        if model is Alert:
            _tally(session, cast(list[Alert], pending))


def integration_by_name(session: Session, name: str) -> Integration | None:
    """The integration named ``name``."""
    return session.scalars(select(Integration).where(Integration.name == name)).first()


def integration_by_key(session: Session, key: str) -> Integration | None:
    """The integration with ``key`` (unique index)."""
    return session.scalars(select(Integration).where(Integration.key == key)).first()


def integration_by_id(session: Session, integration_id: int) -> Integration | None:
    """The integration with that id."""
    return session.get(Integration, integration_id)


def integrations(session: Session) -> list[Integration]:
    """Every integration, by name."""
    return list(session.scalars(select(Integration).order_by(Integration.name)))


def delete_integration(session: Session, integration: Integration) -> None:
    """Delete an integration with its groups (cascade)."""
    session.execute(delete(Alert).where(Alert.group_id.in_(_group_ids(integration.id))))
    session.execute(
        delete(AlertGroupLog).where(AlertGroupLog.group_id.in_(_group_ids(integration.id)))
    )
    session.execute(delete(AlertGroup).where(AlertGroup.integration_id == integration.id))
    session.execute(delete(ChangeEvent).where(ChangeEvent.integration_id == integration.id))
    session.delete(integration)
    session.flush()


def _group_ids(integration_id: int) -> Any:
    return select(AlertGroup.id).where(AlertGroup.integration_id == integration_id)


def open_group(session: Session, integration_id: int, dedup_key: str) -> AlertGroup | None:
    """The unresolved group of a dedup key, if any."""
    return session.scalars(
        select(AlertGroup).where(
            AlertGroup.integration_id == integration_id, AlertGroup.open_key == dedup_key
        )
    ).first()


def latest_group(session: Session, integration_id: int, dedup_key: str) -> AlertGroup | None:
    """The newest group of a dedup key, resolved or not."""
    return session.scalars(
        select(AlertGroup)
        .where(AlertGroup.integration_id == integration_id, AlertGroup.dedup_key == dedup_key)
        .order_by(AlertGroup.id.desc())
        .limit(1)
    ).first()


def group(session: Session, group_id: int) -> AlertGroup | None:
    """The group with that id."""
    return session.get(AlertGroup, group_id)


def groups(
    session: Session,
    *,
    status: str | None = None,
    service: str | None = None,
    limit: int = 100,
) -> list[AlertGroup]:
    """Groups newest first, optionally of one status and service."""
    query = select(AlertGroup).order_by(AlertGroup.created_at.desc(), AlertGroup.id.desc())
    if status is not None:
        query = query.where(AlertGroup.status == status)
    if service is not None:
        query = query.where(AlertGroup.service == service)
    return list(session.scalars(query.limit(limit)))


def group_counts_by_urgency(session: Session, *, status: str) -> dict[str, int]:
    """{urgency: how many groups of ``status``} in one query."""
    rows = session.execute(
        select(AlertGroup.urgency, func.count())
        .where(AlertGroup.status == status)
        .group_by(AlertGroup.urgency)
    )
    return {urgency: int(count) for urgency, count in rows}


def groups_page(
    session: Session, *, statuses: Collection[str] | None, offset: int, limit: int
) -> tuple[list[AlertGroup], int]:
    """One page of groups newest first, of any of ``statuses`` (None: all), and how many
    groups there are in all."""
    query = select(AlertGroup)
    counted = select(func.count()).select_from(AlertGroup)
    if statuses is not None:
        query = query.where(AlertGroup.status.in_(list(statuses)))
        counted = counted.where(AlertGroup.status.in_(list(statuses)))
    query = query.order_by(AlertGroup.created_at.desc(), AlertGroup.id.desc())
    rows = list(session.scalars(query.offset(offset).limit(limit)))
    return rows, int(session.scalar(counted) or 0)


def groups_by_ids(session: Session, group_ids: Collection[int]) -> list[AlertGroup]:
    """The groups with these ids, by id."""
    if not group_ids:
        return []
    query = select(AlertGroup).where(AlertGroup.id.in_(list(group_ids))).order_by(AlertGroup.id)
    return list(session.scalars(query))


def unresolved_groups(session: Session) -> list[AlertGroup]:
    """Every group that is not resolved."""
    return list(session.scalars(select(AlertGroup).where(AlertGroup.open_key.is_not(None))))


def silenced_groups_due(session: Session, now: datetime) -> list[AlertGroup]:
    """Silenced groups whose silence ended at or before ``now``."""
    return list(
        session.scalars(
            select(AlertGroup).where(
                AlertGroup.status == "silenced", AlertGroup.silenced_until <= now
            )
        )
    )


def alert_counts(session: Session, group_ids: Sequence[int]) -> dict[int, tuple[int, int]]:
    """{group id: (firing alerts, all alerts)}."""
    if not group_ids:
        return {}
    firing = func.sum(case((Alert.status == "firing", 1), else_=0))
    rows = session.execute(
        select(Alert.group_id, firing, func.count())
        .where(Alert.group_id.in_(group_ids))
        .group_by(Alert.group_id)
    )
    return {group_id: (int(f or 0), int(n)) for group_id, f, n in rows}


def alerts_of(session: Session, group_id: int) -> list[Alert]:
    """The alerts of a group, oldest first."""
    return list(session.scalars(select(Alert).where(Alert.group_id == group_id).order_by(Alert.id)))


def log_of(session: Session, group_id: int) -> list[AlertGroupLog]:
    """The log of a group, oldest first."""
    return list(
        session.scalars(
            select(AlertGroupLog)
            .where(AlertGroupLog.group_id == group_id)
            .order_by(AlertGroupLog.at, AlertGroupLog.id)
        )
    )


def integration_names(session: Session, ids: Sequence[int] | None) -> dict[int, str]:
    """{integration id: name} of ``ids`` (None: of every integration)."""
    query = select(Integration.id, Integration.name)
    if ids is not None:
        if not ids:
            return {}
        query = query.where(Integration.id.in_(set(ids)))
    return {int(row.id): str(row.name) for row in session.execute(query)}


def silences_from(session: Session, now: datetime) -> list[Silence]:
    """Silences that have not ended at ``now`` (including those yet to start)."""
    return list(session.scalars(select(Silence).where(Silence.ends_at > now).order_by(Silence.id)))


def silences_to_apply(session: Session, now: datetime) -> list[Silence]:
    """Silences that have started (and not ended) but were not applied to open groups yet."""
    return list(
        session.scalars(
            select(Silence)
            .where(Silence.applied_at.is_(None), Silence.starts_at <= now, Silence.ends_at > now)
            .order_by(Silence.id)
        )
    )


def silences(session: Session, *, include_expired: bool, now: datetime) -> list[Silence]:
    """Silences, newest first; expired ones only on request."""
    query = select(Silence).order_by(Silence.id.desc())
    if not include_expired:
        query = query.where(Silence.ends_at > now)
    return list(session.scalars(query))


def silence(session: Session, silence_id: int) -> Silence | None:
    """The silence with that id."""
    return session.get(Silence, silence_id)


def routing_rules(session: Session) -> list[RoutingRule]:
    """Routing rules in order."""
    return list(session.scalars(select(RoutingRule).order_by(RoutingRule.position)))


def replace_routing_rules(session: Session, rules: Sequence[RoutingRule]) -> None:
    """Replace every routing rule with ``rules``."""
    session.execute(delete(RoutingRule))
    session.flush()
    session.add_all(rules)
    session.flush()


def change_by_digest(session: Session, digest: str) -> ChangeEvent | None:
    """The change event stored from a request with that digest."""
    return session.scalars(select(ChangeEvent).where(ChangeEvent.digest == digest)).first()


def changes(
    session: Session, *, service: str | None, since: datetime | None, limit: int
) -> list[ChangeEvent]:
    """Change events newest first."""
    query = select(ChangeEvent).order_by(ChangeEvent.at.desc(), ChangeEvent.id.desc())
    if service is not None:
        query = query.where(ChangeEvent.service == service)
    if since is not None:
        query = query.where(ChangeEvent.at >= since)
    return list(session.scalars(query.limit(limit)))


def secret(session: Session, name: str) -> AlertingSecret | None:
    """A stored secret by name."""
    return session.get(AlertingSecret, name)


# --- incidents (called through alerting.service by other domains) -------------------------


def groups_pending_incident(session: Session, limit: int) -> list[AlertGroup]:
    """Firing groups whose routing rule asked for an incident that is not declared yet."""
    query = (
        select(AlertGroup)
        .where(
            AlertGroup.status == "firing",
            AlertGroup.incident_severity.is_not(None),
            AlertGroup.incident_id.is_(None),
        )
        .order_by(AlertGroup.id)
        .limit(limit)
    )
    return list(session.scalars(query))


def lock_group(session: Session, group_id: int) -> AlertGroup | None:
    """The group, its row locked until the transaction ends (skipped if another holds it)."""
    query = (
        select(AlertGroup)
        .where(AlertGroup.id == group_id)
        .with_for_update(skip_locked=True)
        .execution_options(populate_existing=True)
    )
    return session.scalars(query).first()


def page_figures(session: Session, group_ids: Sequence[int]) -> dict[int, PageFigures]:
    """{group id: (firing alerts, all alerts, first start, a source URL)} for pages."""
    if not group_ids:
        return {}
    firing = func.sum(case((Alert.status == "firing", 1), else_=0))
    rows = session.execute(
        select(
            Alert.group_id,
            firing,
            func.count(),
            func.min(Alert.starts_at),
            func.max(Alert.generator_url),
        )
        .where(Alert.group_id.in_(group_ids))
        .group_by(Alert.group_id)
    )
    return {int(group_id): (int(f or 0), int(n), since, url) for group_id, f, n, since, url in rows}


_GROUP_TABLE = cast(Table, AlertGroup.__table__)
DUE_COLUMNS = (
    "id",
    "integration_id",
    "status",
    "title",
    "service",
    "severity",
    "urgency",
    "annotations",
    "created_at",
    "truncated_alerts",
    "slo_key",
    "acknowledged_by",
    "resolved_by",
    "resolved_how",
    "escalation_snapshot",
    "escalation_round",
    "escalation_step",
)


def due_escalations(session: Session, now: datetime, *, limit: int) -> list[Row[Any]]:
    """The columns (:data:`DUE_COLUMNS`) of firing groups whose next escalation step is due,
    oldest first; on PostgreSQL locked with SKIP LOCKED so concurrent workers take different
    groups. Rows, not ORM objects: a tick reads thousands and changes only their timers."""
    table = _GROUP_TABLE
    query = (
        select(*(table.c[name] for name in DUE_COLUMNS))
        # The escalation_due_at index finds the due groups; open groups not due are not read.
        .where(table.c.escalation_due_at <= now, table.c.status == "firing")
        .order_by(table.c.escalation_due_at, table.c.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return list(session.execute(query))


def set_escalation_timers(session: Session, timers: Sequence[dict[str, Any]]) -> None:
    """Store groups' next escalation positions; each dict has ``group_id``, ``round``,
    ``step`` and ``due_at``. Groups moving to the same position share one UPDATE (a tick's
    groups at one step of one policy all do), so a batch costs a few statements, not one per
    group. Loaded ``AlertGroup`` objects of them are expired."""
    table = _GROUP_TABLE
    by_timer: dict[tuple[int, int, datetime | None], list[int]] = {}
    for timer in timers:
        position = (timer["round"], timer["step"], timer["due_at"])
        by_timer.setdefault(position, []).append(int(timer["group_id"]))
    for (next_round, next_step, due_at), ids in by_timer.items():
        for start in range(0, len(ids), 1000):
            session.execute(
                update(table)
                .where(table.c.id.in_(ids[start : start + 1000]))
                .values(
                    escalation_round=next_round,
                    escalation_step=next_step,
                    escalation_due_at=due_at,
                )
            )
    for timer in timers:
        instance = session.identity_map.get(identity_key(AlertGroup, int(timer["group_id"])))
        if instance is not None:
            session.expire(instance, ["escalation_round", "escalation_step", "escalation_due_at"])


def add_logs(session: Session, rows: list[dict[str, Any]]) -> None:
    """Insert group log entries in one executemany (no ORM objects)."""
    if rows:
        # The table, not the class: a Core executemany skips the ORM's bulk bookkeeping.
        # (Multi-row VALUES via RETURNING was slower: psycopg parses each long statement.)
        session.execute(insert(cast(Table, AlertGroupLog.__table__)), rows)
