"""The escalation runtime: who is paged for a firing alert group, and when.

When a group starts paging (:func:`start`, called by intake and by the actions), its
escalation policy is resolved (the one routed onto the group, else the
``default_escalation_policy`` setting), snapshotted on the group so later edits do not change
a running escalation, and its first step runs at once, just before the transaction commits
(:func:`run_started`, a ``before_commit`` hook): the notifications are outbox rows of the
intake's own transaction, and the page counts the alerts the intake stored. Each later step
is a durable timer (``escalation_due_at``) that the worker runs (:func:`run_due`); an
acknowledgement, a silence or a resolve stops the timer and cancels pages not yet sent
(:func:`stop`), and the people already paged are told that the group was acknowledged or
resolved.

Position columns: ``escalation_round`` and ``escalation_step`` are the step that runs when
``escalation_due_at`` is reached; a step equal to the number of steps means "the last step's
wait": when it passes unacknowledged, the escalation is exhausted.

Low-urgency groups (ticket-level SLO alerts, low routes) notify only: the first step's people
get one ``notice`` through their low-urgency rules, nothing repeats or escalates.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import event
from sqlalchemy.orm import Session

from watchkeeper import reference_cache
from watchkeeper.alerting import links, paging, repository
from watchkeeper.alerting.escalation_config import config_of
from watchkeeper.alerting.models import AlertGroup, AlertGroupLog
from watchkeeper.core.escalation import (
    EscalationError,
    EscalationPolicy,
    EscalationStep,
    Position,
    Target,
    next_position,
)
from watchkeeper.errors import WatchkeeperError
from watchkeeper.notify import service as notify_service
from watchkeeper.notify.exceptions import InvalidNotification
from watchkeeper.notify.message import Message
from watchkeeper.oncall import service as oncall_service
from watchkeeper.oncall.schemas import Recipient

_STARTED_KEY = "watchkeeper.escalation.started"
PAGE_KINDS = ("page", "reminder", "notice")
_FIRING, _ACKNOWLEDGED, _RESOLVED = "firing", "acknowledged", "resolved"


class _Escalating(paging.PagedGroup, Protocol):
    """A group whose escalation step runs: an ``AlertGroup`` or a :class:`DueGroup`."""

    @property
    def escalation_snapshot(self) -> dict[str, Any] | None: ...
    @property
    def escalation_round(self) -> int: ...
    @property
    def escalation_step(self) -> int: ...


@dataclass(frozen=True, slots=True)
class DueGroup:
    """The columns of a due group a worker tick reads (repository.DUE_COLUMNS)."""

    id: int
    integration_id: int
    status: str
    title: str
    service: str | None
    severity: str | None
    urgency: str
    annotations: dict[str, Any]
    created_at: datetime
    truncated_alerts: int
    slo_key: str | None
    acknowledged_by: str | None
    resolved_by: str | None
    resolved_how: str | None
    escalation_snapshot: dict[str, Any] | None
    escalation_round: int
    escalation_step: int


# Where a group's escalation goes next: (round, step, due at; None when it stops).
_Timer = tuple[int, int, datetime | None]


@dataclass
class _Tick:
    """What one pass shares between groups: signing, recipients, SLO figures."""

    now: datetime
    signing: paging.LinkSigning
    recipients: dict[tuple[tuple[Target, ...], str], list[Recipient]] = field(default_factory=dict)
    slo: dict[str, paging.SLOFacts | None] = field(default_factory=dict)
    outgoing: list[notify_service.Outgoing] = field(default_factory=list)
    valid: set[tuple[str, str]] = field(default_factory=set)
    logs: list[dict[str, Any]] = field(default_factory=list)
    policies: dict[str, EscalationPolicy] = field(default_factory=dict)

    def policy(self, snapshot: dict[str, Any]) -> EscalationPolicy:
        """The policy of a snapshot, parsed once per tick for groups that share it (their
        snapshots differ only by ``started_at``)."""
        key = json.dumps(
            {k: v for k, v in snapshot.items() if k != "started_at"}, sort_keys=True, default=str
        )
        found = self.policies.get(key)
        if found is None:
            found = self.policies[key] = EscalationPolicy.from_json(snapshot)
        return found

    def log(self, group: _Escalating, kind: str, message: str, **details: Any) -> None:
        """Queue a log entry of ``group`` (written by :meth:`write`)."""
        self.logs.append(
            {
                "group_id": group.id,
                "at": self.now,
                "kind": kind,
                "message": message,
                "actor": None,
                "details": details or None,
            }
        )

    def write(self, session: Session, *, new_keys: bool = False) -> None:
        """Write the queued notifications and log entries, a statement or two each
        (``new_keys``: every notification is of a group opened in this transaction)."""
        notify_service.enqueue_many(session, self.outgoing, now=self.now, new_keys=new_keys)
        repository.add_logs(session, self.logs)
        self.outgoing, self.logs = [], []


def _tick(session: Session, now: datetime) -> _Tick:
    config = config_of(session)
    secret = links.link_secret(session, configured=config.secret_key, now=now)
    return _Tick(now, paging.LinkSigning(secret, config.public_url, config.link_ttl))


def _log(
    group: AlertGroup, session: Session, kind: str, message: str, at: datetime, **details: Any
) -> None:
    # grouping.log's row, written here: grouping imports this module.
    session.add(
        AlertGroupLog(group_id=group.id, at=at, kind=kind, message=message, details=details or None)
    )


# A log entry of a group that may not have an id yet: (kind, message).
_Note = tuple[str, str]


def _load_policy(session: Session, name: str, notes: list[_Note]) -> EscalationPolicy | None:
    try:
        return reference_cache.read(
            session, f"policy:{name}", lambda: oncall_service.escalation_policy(session, name)
        )
    except (WatchkeeperError, EscalationError) as exc:
        notes.append(("escalation_error", f"escalation policy {name!r}: {exc}"))
        return None


def _resolve_policy(
    session: Session, group: AlertGroup, notes: list[_Note]
) -> tuple[EscalationPolicy | None, str]:
    default = config_of(session).default_policy
    name = group.escalation_policy
    if name:
        policy = _load_policy(session, name, notes)
        if policy is not None:
            return policy, ""
        if not default or default == name:
            return None, f"escalation policy {name!r} cannot be used and no default is set"
    if not default:
        return None, "no escalation policy is routed to this group and none is the default"
    policy = _load_policy(session, default, notes)
    if policy is None:
        return None, f"the default escalation policy {default!r} cannot be used"
    if name:
        notes.append(("escalation_policy", f"using the default policy {default!r}"))
    return policy, ""


def snapshot(session: Session, group: AlertGroup, *, now: datetime) -> list[_Note]:
    """Set a group's escalation columns for a start at ``now`` (its policy snapshotted, or
    none and why); returns the log entries to write once the group has an id. Writes nothing,
    so a group not inserted yet is inserted with them (one statement, not an insert and an
    update)."""
    notes: list[_Note] = []
    group.escalation_round = 0
    group.escalation_step = 0
    group.escalation_due_at = None
    policy, reason = _resolve_policy(session, group, notes)
    if policy is None:
        group.escalation_snapshot = None
        notes.append(("not_paged", f"nobody paged: {reason}"))
        return notes
    # The start time makes this run's idempotency keys differ from an earlier run's (a group
    # unacknowledged or unsilenced escalates again from the first step).
    group.escalation_snapshot = {**policy.to_json(), "started_at": now.isoformat()}
    group.escalation_due_at = now
    return notes


def begin(session: Session, group: AlertGroup, *, now: datetime, opened: bool = False) -> None:
    """Run the first step of a group whose :func:`snapshot` was taken just before this
    transaction commits, not here: intake starts a group before it stores the group's alerts,
    and the page counts them (``opened``: the group's row was inserted in this transaction)."""
    if group.escalation_snapshot is not None:
        session.info.setdefault(_STARTED_KEY, {})[id(group)] = (group, now, opened)


def start(session: Session, group: AlertGroup, *, now: datetime) -> None:
    """Start escalating a stored group that starts paging again (unacknowledged, unsilenced):
    snapshot its policy; its first step runs in the caller's transaction, as it commits."""
    for kind, message in snapshot(session, group, now=now):
        _log(group, session, kind, message, now)
    begin(session, group, now=now)


def run_started(session: Session) -> int:
    """Run the first step of the groups started in this transaction that still fire (called
    before every commit; returns how many ran)."""
    started = session.info.pop(_STARTED_KEY, None)
    if not started:
        return 0
    groups = [
        (group, now, opened)
        for group, now, opened in started.values()
        if group.status == _FIRING
        and group.escalation_due_at is not None
        and (group.escalation_round, group.escalation_step) == (0, 0)
    ]
    if not groups:
        return 0
    by_time: dict[tuple[datetime, bool], list[AlertGroup]] = {}
    for group, now, opened in groups:
        by_time.setdefault((now, opened), []).append(group)
    for (now, opened), batch in by_time.items():
        tick = _tick(session, now)
        facts = paging.page_facts(session, batch, slo_cache=tick.slo, opened=opened)
        for group in batch:
            timer = _advance(session, group, facts=facts[group.id], tick=tick)
            group.escalation_round, group.escalation_step, group.escalation_due_at = timer
        # A group opened in this transaction has a new id, and its keys name it: no stored
        # notification can have them, so the outbox's existence check is skipped.
        tick.write(session, new_keys=opened)
    session.flush()
    return len(groups)


@event.listens_for(Session, "before_commit")
def _before_commit(session: Session) -> None:
    run_started(session)


@event.listens_for(Session, "after_soft_rollback")
def _after_rollback(session: Session, previous_transaction: Any) -> None:
    if not previous_transaction.nested:  # a savepoint's rollback keeps the transaction's work
        session.info.pop(_STARTED_KEY, None)


def run_due(session: Session, *, now: datetime, limit: int) -> int:
    """Run the due step of up to ``limit`` firing groups (oldest due first); returns how
    many groups were advanced. Their notifications join the caller's transaction."""
    groups = [
        DueGroup(**row._mapping) for row in repository.due_escalations(session, now, limit=limit)
    ]
    if not groups:
        return 0
    tick = _tick(session, now)
    facts = paging.page_facts(session, groups, slo_cache=tick.slo)
    timers = []
    for group in groups:
        next_round, next_step, due_at = _advance(session, group, facts=facts[group.id], tick=tick)
        timers.append(
            {"group_id": group.id, "round": next_round, "step": next_step, "due_at": due_at}
        )
    repository.set_escalation_timers(session, timers)
    tick.write(session)
    session.flush()
    return len(groups)


def _advance(
    session: Session, group: _Escalating, *, facts: paging.PageFacts, tick: _Tick
) -> _Timer:
    position = Position(group.escalation_round, group.escalation_step)
    try:
        policy = tick.policy(group.escalation_snapshot or {})
    except EscalationError as exc:
        tick.log(group, "escalation_error", f"escalation stopped: {exc}")
        return (position.round, position.step, None)
    if position.step >= len(policy.steps):
        tick.log(
            group,
            "escalation_exhausted",
            f"escalation exhausted: {policy.name} ran {position.round + 1} "
            f"round{'s' if position.round else ''} without an acknowledgement",
        )
        return (position.round, position.step, None)
    return _run_step(session, group, policy, position, facts=facts, tick=tick)


def _recipients(
    session: Session, group: _Escalating, step: EscalationStep, tick: _Tick
) -> list[Recipient]:
    key = (step.targets, group.urgency)
    if key not in tick.recipients:
        tick.recipients[key] = oncall_service.recipients(
            session, targets=step.targets, at=tick.now, urgency=group.urgency
        )
    return tick.recipients[key]


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _started(group: _Escalating) -> str:
    snapshot = group.escalation_snapshot or {}
    return _digest(str(snapshot.get("started_at", "")))[:10]


def _run_step(
    session: Session,
    group: _Escalating,
    policy: EscalationPolicy,
    position: Position,
    *,
    facts: paging.PageFacts,
    tick: _Tick,
) -> _Timer:
    now = tick.now
    step = policy.steps[position.step]
    low = group.urgency == "low"
    kind = "notice" if low else "page"
    where = (
        f"step {position.step + 1} of {len(policy.steps)}, "
        f"round {position.round + 1} of {policy.repeat + 1}"
    )
    try:
        found = _recipients(session, group, step, tick)
    except WatchkeeperError as exc:  # a schedule deleted since the snapshot: log, carry on
        tick.log(group, "escalation_error", f"{where}: {exc}")
        found = []
    notified: list[dict[str, Any]] = []
    # One message per person: their channels carry the same links (signed for them).
    messages: dict[str, Message] = {}
    for recipient in found:
        who = recipient.user or f"{recipient.kind}:{recipient.address}"[:200]
        if (recipient.kind, recipient.address) not in tick.valid:
            try:
                notify_service.validate_address(recipient.kind, recipient.address)
            except InvalidNotification as exc:
                tick.log(group, "escalation_error", f"{who}: {exc}")
                continue
            tick.valid.add((recipient.kind, recipient.address))
        message = messages.get(who)
        if message is None:
            message = messages[who] = paging.build(
                group,
                facts,
                kind=kind,
                recipient=who,
                escalation=None if low else where,
                signing=tick.signing,
                now=now,
            )
        key = (
            f"esc:{group.id}:{_started(group)}:{position.round}:{position.step}:"
            f"{recipient.kind}:{_digest(recipient.address)}"
        )
        tick.outgoing.append(
            notify_service.Outgoing(
                channel=recipient.kind,
                address=recipient.address,
                message=message,
                idempotency_key=key,
                recipient=recipient.user,
                not_before=now + recipient.delay,
            )
        )
        notified.append(
            {
                "user": recipient.user,
                "channel": recipient.kind,
                "delay_seconds": int(recipient.delay.total_seconds()),
            }
        )
    if notified:
        tick.log(group, "notified", _notified_text(notified, kind), recipients=notified)
    else:
        tick.log(group, "not_paged", f"{where}: nobody to notify")
    if low:
        tick.log(group, "escalated", "low urgency: notified once, no escalation")
        return (position.round, position.step, None)
    tick.log(
        group,
        "escalated",
        f"{policy.name}: {where}",
        round=position.round + 1,
        step=position.step + 1,
        steps=len(policy.steps),
    )
    following = next_position(policy, position)
    # After the last step of the last round, wait its wait, then mark the escalation exhausted.
    after = following or Position(position.round, len(policy.steps))
    return (after.round, after.step, now + step.wait)


def _notified_text(notified: Sequence[dict[str, Any]], kind: str) -> str:
    by_person: dict[str, list[str]] = {}
    for entry in notified:
        by_person.setdefault(entry["user"] or "channel", []).append(entry["channel"])
    people = ", ".join(f"{who} ({', '.join(channels)})" for who, channels in by_person.items())
    return f"{kind} to {people}"


def stop(session: Session, group: AlertGroup) -> None:
    """Stop escalating a group (acknowledged, resolved or silenced): no further step, pages
    not yet sent are cancelled, and on an ack or a resolve the people already paged hear it."""
    group.escalation_due_at = None
    if group.escalation_snapshot is None:
        return  # it never paged anybody
    status = group.status
    notify_service.cancel_pending(session, alert_group_id=group.id, kinds=PAGE_KINDS)
    if status not in (_ACKNOWLEDGED, _RESOLVED):
        return
    kind = "acknowledged" if status == _ACKNOWLEDGED else "resolved"
    at = (
        group.acknowledged_at if kind == "acknowledged" else group.resolved_at
    ) or group.last_event_at
    actor = group.acknowledged_by if kind == "acknowledged" else group.resolved_by
    paged = notify_service.reached(session, alert_group_id=group.id, kinds=PAGE_KINDS)
    if not paged:
        return
    facts = paging.page_facts(session, [group])[group.id]
    config = config_of(session)
    signing = paging.LinkSigning("", config.public_url, config.link_ttl)  # no action links
    seen: set[tuple[str, str]] = set()
    for channel, address, recipient in paged:
        target = (channel, address)
        if target in seen or (actor is not None and recipient == actor):
            continue  # the acknowledger knows; each address hears once
        seen.add(target)
        message = paging.build(
            group,
            facts,
            kind=kind,
            recipient=recipient or "",
            escalation=None,
            signing=signing,
            now=at,
        )
        notify_service.enqueue(
            session,
            channel=channel,
            address=address,
            message=message,
            idempotency_key=f"{kind}:{group.id}:{_digest(at.isoformat())[:10]}:"
            f"{channel}:{_digest(address)}",
            now=at,
            recipient=recipient,
        )
