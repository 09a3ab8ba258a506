"""Use cases of alerting: integrations, alert-group actions and listings, silences and
maintenance windows, routing rules, and SLO burn-rate alerts fed into intake.

Integration keys are stored as they are (unique index), like PagerDuty routing keys: a key
only lets its holder send alerts, and ``integration show`` can print the URL again.
"""

from __future__ import annotations

import re
import secrets
import threading
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from watchkeeper.alerting import escalation, grouping, repository
from watchkeeper.alerting.exceptions import (
    AlertGroupNotFound,
    IntegrationNameTaken,
    IntegrationNotFound,
    InvalidAlertAction,
    InvalidIntegration,
    InvalidSilence,
)
from watchkeeper.alerting.grouping import ACKNOWLEDGED, FIRING, RESOLVED, SILENCED
from watchkeeper.alerting.models import (
    AlertGroup,
    Integration,
)
from watchkeeper.errors import InvalidInput, WatchkeeperError
from watchkeeper.messages import did_you_mean
from watchkeeper.oncall import service as oncall_service

INTEGRATION_TYPES = ("alertmanager", "pagerduty", "webhook")
URGENCIES = ("high", "low")
SILENCE_COMMENT_LIMIT = 4000
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@:-]{0,199}")
KEY_PATTERN = re.compile(r"[0-9a-f]{32}")
_PATHS = {
    "alertmanager": "/api/v1/integrations/{key}/alertmanager",
    "pagerduty": "/v2/enqueue",
    "webhook": "/api/v1/integrations/{key}/webhook",
    "slo": "",
}


def url_of(integration: Integration, *, base_url: str) -> str:
    """The intake URL of an integration (PagerDuty's takes the key as routing_key); the
    internal SLO integration has none."""
    if integration.type == "slo":
        return ""
    return base_url.rstrip("/") + _PATHS[integration.type].format(key=integration.key)


def create_integration(
    session: Session,
    *,
    name: str,
    type: str,
    now: datetime,
    escalation_policy: str | None = None,
    default_urgency: str = "high",
) -> Integration:
    """Create an integration with a fresh 32-hex-character key."""
    cleaned = name.strip()
    if not NAME_PATTERN.fullmatch(cleaned):
        raise InvalidIntegration(
            f"name: {name!r} is not valid: 1-200 letters, digits and . _ @ : -, "
            "starting with a letter or digit"
        )
    if type not in INTEGRATION_TYPES:
        raise InvalidIntegration(
            f"type: unknown integration type {type!r}; choose one of "
            f"{', '.join(INTEGRATION_TYPES)}{did_you_mean(type, INTEGRATION_TYPES)}"
        )
    if default_urgency not in URGENCIES:
        raise InvalidIntegration(f"default_urgency: must be high or low, not {default_urgency!r}")
    if repository.integration_by_name(session, cleaned) is not None:
        raise IntegrationNameTaken(f"an integration named {cleaned!r} already exists")
    if escalation_policy is not None:
        # An integration whose policy does not exist would page nobody.
        try:
            oncall_service.escalation_policy(session, escalation_policy)
        except WatchkeeperError as exc:
            raise InvalidIntegration(f"escalation_policy: {exc}") from None
    integration = Integration(
        name=cleaned,
        type=type,
        key=secrets.token_hex(16),
        escalation_policy=escalation_policy,
        default_urgency=default_urgency,
        created_at=now,
    )
    repository.add(session, integration)
    return integration


def list_integrations(session: Session) -> list[Integration]:
    """Every integration by name."""
    return repository.integrations(session)


def get_integration(session: Session, *, name: str) -> Integration:
    """The integration named ``name``, or IntegrationNotFound."""
    found = repository.integration_by_name(session, name)
    if found is None:
        names = [i.name for i in repository.integrations(session)]
        raise IntegrationNotFound(f"no integration named {name!r}{did_you_mean(name, names)}")
    return found


def delete_integration(session: Session, *, name: str) -> None:
    """Delete an integration with its alert groups."""
    integration = get_integration(session, name=name)
    forget_intake_key(integration.key)
    repository.delete_integration(session, integration)


def set_disabled(session: Session, *, name: str, disabled: bool, now: datetime) -> Integration:
    """Disable an integration (its key answers 404 until enabled again) or enable it."""
    integration = get_integration(session, name=name)
    forget_intake_key(integration.key)
    if disabled and integration.disabled_at is None:
        integration.disabled_at = now
    elif not disabled:
        integration.disabled_at = None
    session.flush()
    return integration


def integration_for_key(session: Session, *, key: str) -> Integration:
    """The enabled integration with ``key``; the same 404 for unknown and disabled keys."""
    found = repository.integration_by_key(session, key) if KEY_PATTERN.fullmatch(key) else None
    if found is None or found.disabled_at is not None or found.type == "slo":
        raise IntegrationNotFound("no such integration")
    return found


# --- integration keys seen by intake ---------------------------------------------------------
#
# Intake resolves a key on every request, before the body is read. A short-lived in-process
# cache of key -> integration saves that unit of work (and the re-read of the integration in
# the request's transaction). Disabling or deleting an integration through this process
# forgets its key at once; another process (the CLI, another ``serve`` replica) is seen within
# KEY_CACHE_SECONDS, during which a disabled key still delivers alerts and a deleted one is
# refused with a 5xx by its foreign key (the sender retries, then gets the 404). Unknown keys
# are never cached, so a new integration works at once everywhere.
KEY_CACHE_SECONDS = 10.0
_KEY_CACHE_SIZE = 10_000
_key_cache: dict[str, tuple[float, dict[str, Any]]] = {}
_key_cache_lock = threading.Lock()
_CACHED_FIELDS = ("id", "name", "type", "key", "escalation_policy", "default_urgency")


def _copy(fields: dict[str, Any]) -> Integration:
    # A transient copy per request: never added to a session, so never written back.
    return Integration(**fields, disabled_at=None)


def intake_integration(session: Session, *, key: str, at: float) -> Integration:
    """The enabled integration of an intake key, from the cache while it is fresh (``at`` is a
    monotonic clock reading); a transient copy that must not be modified."""
    with _key_cache_lock:
        entry = _key_cache.get(key)
    if entry is not None and entry[0] > at:
        return _copy(entry[1])
    integration = integration_for_key(session, key=key)
    fields = {name: getattr(integration, name) for name in _CACHED_FIELDS}
    with _key_cache_lock:
        if len(_key_cache) >= _KEY_CACHE_SIZE:
            _key_cache.clear()
        _key_cache[key] = (at + KEY_CACHE_SECONDS, fields)
    return _copy(fields)


def cached_intake_integration(*, key: str, at: float) -> Integration | None:
    """The cached integration of an intake key while it is fresh, else None (no database)."""
    with _key_cache_lock:
        entry = _key_cache.get(key)
    return _copy(entry[1]) if entry is not None and entry[0] > at else None


def forget_intake_key(key: str) -> None:
    """Drop a key from the intake cache (its integration was disabled, deleted or changed)."""
    with _key_cache_lock:
        _key_cache.pop(key, None)


def integration_by_id(session: Session, *, integration_id: int) -> Integration:
    """An integration by id (intake resolved its key in an earlier unit of work)."""
    found = repository.integration_by_id(session, integration_id)
    if found is None or found.disabled_at is not None:
        raise IntegrationNotFound("no such integration")
    return found


# --- alert groups -------------------------------------------------------------------------


def get_group(session: Session, *, group_id: int) -> AlertGroup:
    """The group with that id, or AlertGroupNotFound."""
    found = repository.group(session, group_id)
    if found is None:
        raise AlertGroupNotFound(f"no alert group {group_id}")
    return found


def acknowledge(session: Session, *, group_id: int, actor: str, now: datetime) -> AlertGroup:
    """Acknowledge a firing (or silenced) group: escalation stops."""
    group = get_group(session, group_id=group_id)
    if group.status == RESOLVED:
        raise InvalidAlertAction(f"alert group {group_id} is resolved; it cannot be acknowledged")
    grouping.acknowledge(session, group, now=now, actor=actor, message="acknowledged")
    return group


def unacknowledge(session: Session, *, group_id: int, actor: str, now: datetime) -> AlertGroup:
    """Take back an acknowledgement: the group fires (and escalates) again."""
    group = get_group(session, group_id=group_id)
    if group.status == RESOLVED:
        raise InvalidAlertAction(f"alert group {group_id} is resolved")
    if group.acknowledged_at is None:
        return group
    group.acknowledged_at = group.acknowledged_by = None
    grouping.log(
        session, group, kind="unacknowledged", message="unacknowledged", at=now, actor=actor
    )
    if group.status == ACKNOWLEDGED:
        group.status = FIRING
        escalation.start(session, group, now=now)
    session.flush()
    return group


def resolve(session: Session, *, group_id: int, actor: str, now: datetime) -> AlertGroup:
    """Resolve a group by hand (its alerts are marked resolved too)."""
    group = get_group(session, group_id=group_id)
    grouping.resolve_with_alerts(session, group, now=now, how="user", actor=actor)
    return group


def silence(
    session: Session,
    *,
    group_id: int,
    until: datetime,
    actor: str,
    now: datetime,
    comment: str = "",
) -> AlertGroup:
    """Silence one group until ``until``: no paging; it fires again afterwards if unresolved.

    ``comment`` (why) goes into the group's log."""
    group = get_group(session, group_id=group_id)
    if group.status == RESOLVED:
        raise InvalidAlertAction(f"alert group {group_id} is resolved; it cannot be silenced")
    if until <= now:
        raise InvalidSilence("until: the silence must end in the future")
    reason = comment.strip()
    if len(reason) > SILENCE_COMMENT_LIMIT:
        raise InvalidSilence(
            f"comment: at most {SILENCE_COMMENT_LIMIT} characters (got {len(reason)})"
        )
    group.status, group.silenced_until, group.silence_id = SILENCED, until, None
    grouping.log(
        session,
        group,
        kind="silenced",
        message=f"silenced until {until.isoformat()}" + (f": {reason}" if reason else ""),
        at=now,
        actor=actor,
        details={"comment": reason} if reason else None,
    )
    escalation.stop(session, group)
    return group


def list_groups(
    session: Session, *, status: str | None = None, service: str | None = None, limit: int = 100
) -> list[AlertGroup]:
    """Groups newest first."""
    if status is not None and status not in grouping.STATUSES:
        raise InvalidInput(
            f"status: unknown status {status!r}; choose one of {', '.join(grouping.STATUSES)}"
        )
    return repository.groups(session, status=status, service=service, limit=limit)


def firing_by_urgency(session: Session) -> dict[str, int]:
    """How many alert groups fire now, by urgency (``high`` pages, ``low`` notifies)."""
    return repository.group_counts_by_urgency(session, status=FIRING)


OPEN_STATUSES = (FIRING, ACKNOWLEDGED, SILENCED)


def group_page(
    session: Session, *, statuses: Sequence[str] | None, page: int, per_page: int
) -> tuple[list[AlertGroup], int]:
    """Page ``page`` (from 1) of groups newest first, of any of ``statuses`` (None: all),
    and how many groups match in all."""
    for status in statuses or ():
        if status not in grouping.STATUSES:
            raise InvalidInput(
                f"status: unknown status {status!r}; choose one of {', '.join(grouping.STATUSES)}"
            )
    if page < 1 or per_page < 1:
        raise InvalidInput("page: must be at least 1")
    return repository.groups_page(
        session, statuses=statuses, offset=(page - 1) * per_page, limit=per_page
    )


def groups_with_ids(session: Session, *, group_ids: Sequence[int]) -> list[AlertGroup]:
    """The groups with these ids (unknown ids are left out), by id."""
    return repository.groups_by_ids(session, group_ids)


def group_summaries(session: Session, groups: Sequence[AlertGroup]) -> list[dict[str, Any]]:
    """JSON documents of groups, as the list API and CLI show them."""
    counts = repository.alert_counts(session, [g.id for g in groups])
    names = repository.integration_names(session, [g.integration_id for g in groups])
    return [_summary(g, names.get(g.integration_id, ""), counts.get(g.id, (0, 0))) for g in groups]


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _summary(group: AlertGroup, integration: str, counts: tuple[int, int]) -> dict[str, Any]:
    return {
        "id": group.id,
        "status": group.status,
        "dedup_key": group.dedup_key,
        "integration": integration,
        "title": group.title,
        "service": group.service,
        "severity": group.severity,
        "urgency": group.urgency,
        "source": group.source,
        "slo_key": group.slo_key,
        "alerts_firing": counts[0],
        "alerts_total": counts[1],
        "truncated_alerts": group.truncated_alerts,
        "escalation_policy": group.escalation_policy,
        "created_at": _iso(group.created_at),
        "last_event_at": _iso(group.last_event_at),
        "acknowledged_at": _iso(group.acknowledged_at),
        "acknowledged_by": group.acknowledged_by,
        "resolved_at": _iso(group.resolved_at),
        "resolved_by": group.resolved_by,
        "resolved_how": group.resolved_how,
        "silenced_until": _iso(group.silenced_until),
    }


def group_detail(session: Session, *, group_id: int) -> dict[str, Any]:
    """A group's document with its alerts and log."""
    group = get_group(session, group_id=group_id)
    document = group_summaries(session, [group])[0]
    document["labels"] = group.labels
    document["annotations"] = group.annotations
    document["alerts"] = [
        {
            "fingerprint": a.fingerprint,
            "status": a.status,
            "labels": a.labels,
            "annotations": a.annotations,
            "starts_at": _iso(a.starts_at),
            "ends_at": _iso(a.ends_at),
            "generator_url": a.generator_url,
            "last_changed_at": _iso(a.last_changed_at),
        }
        for a in repository.alerts_of(session, group.id)
    ]
    document["log"] = [
        {
            "at": _iso(entry.at),
            "kind": entry.kind,
            "message": entry.message,
            "actor": entry.actor,
            "details": entry.details,
        }
        for entry in repository.log_of(session, group.id)
    ]
    return document


# --- silences ---------------------------------------------------------------------------


def expire_silences(session: Session, *, now: datetime) -> int:
    """Groups whose silence ended fire again (and escalate); returns how many were released.

    Also silences the open firing groups matched by a silence that started since the last call.
    """
    for started in repository.silences_to_apply(session, now):
        grouping.apply_silence(session, started, now=now)
    due = repository.silenced_groups_due(session, now)
    for group in due:
        grouping.unsilence(session, group, now=now)
    session.flush()
    return len(due)


def change_documents(
    session: Session, *, service: str | None, since: datetime | None, limit: int = 100
) -> list[dict[str, Any]]:
    """The change timeline, newest first, as the API shows it."""
    return [
        {
            "id": c.id,
            "at": _iso(c.at),
            "summary": c.summary,
            "source": c.source,
            "service": c.service,
            "custom_details": c.custom_details,
            "links": c.links,
            "received_at": _iso(c.received_at),
        }
        for c in repository.changes(session, service=service, since=since, limit=limit)
    ]


# --- action links --------------------------------------------------------------------------


def perform_action(
    session: Session, *, group_id: int, action: str, actor: str, now: datetime
) -> AlertGroup:
    """Do ``action`` (ack, unack, resolve) to a group as ``actor``."""
    if action == "ack":
        return acknowledge(session, group_id=group_id, actor=actor, now=now)
    if action == "unack":
        return unacknowledge(session, group_id=group_id, actor=actor, now=now)
    if action == "resolve":
        return resolve(session, group_id=group_id, actor=actor, now=now)
    raise InvalidInput(f"action: unknown action {action!r}; choose ack, unack or resolve")


def unresolved_groups(session: Session) -> list[AlertGroup]:
    """Every alert group not resolved yet (their escalations may still run)."""
    return repository.unresolved_groups(session)
