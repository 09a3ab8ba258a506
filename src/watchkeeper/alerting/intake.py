"""Alert intake: Alertmanager webhook v4, PagerDuty Events API v2 (alert and change events)
and the generic webhook, each folded into alert groups idempotently.

Alertmanager (decided from what it sends, see docs/alerting.md):

- Every notification carries the whole group as Alertmanager sees it; alerts are tracked by
  ``fingerprint`` inside the group of ``groupKey`` (opaque, never parsed).
- An alert missing from a later notification is NOT resolved by its absence: with
  ``send_resolved: true`` (the webhook default) Alertmanager sends a resolved alert as
  resolved before it drops out, and with ``send_resolved: false`` absence means nothing.
- A resolved alert never seen firing is stored resolved; it does not open (page) a group.
- ``endsAt`` of ``0001-01-01T00:00:00Z`` (firing alerts) is stored as no end.
- An alert stored resolved that arrives firing again fires again, whatever its ``startsAt``:
  Alertmanager sends a group's notifications in order and retries one until it is accepted,
  so a firing after a resolved one is news (e.g. Prometheus re-sending an alert that
  Alertmanager resolved by its ``endsAt`` while the two could not talk). Exact replays are
  caught by the open group's digest of the last notification.
- The group resolves when every alert in it is resolved, except while Alertmanager truncated
  the notification (``truncatedAlerts`` > 0) and says the group is still firing: the firing
  alerts may be among those left out.

PagerDuty events and webhook alerts follow PagerDuty: a trigger for a key whose group is open
folds into it (an identical one changes nothing); a trigger for a key whose group resolved
opens a new group, even if it is byte for byte the trigger that opened the old one (senders
such as Alertmanager's ``pagerduty_configs`` send exactly that when an alert fires again).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from watchkeeper import reference_cache
from watchkeeper.alerting import grouping, repository
from watchkeeper.alerting.grouping import (
    RESOLVED,
    AlertFacts,
    GroupFacts,
)
from watchkeeper.alerting.models import Alert, AlertGroup, ChangeEvent, Integration
from watchkeeper.alerting.schemas import (
    AlertmanagerAlert,
    AlertmanagerMessage,
    ChangeEventIn,
    PagerDutyEvent,
    WebhookAlert,
)

# Longest label value taken from a PagerDuty event's custom_details.
_LABEL_CHARS = 1000
# Alertmanager's "no end" (Go's zero time).
_ZERO_TIME_YEAR = 1


def _no_zero(value: datetime | None) -> datetime | None:
    if value is None or value.year <= _ZERO_TIME_YEAR:
        return None
    return value.astimezone(UTC)


def _digest(document: Any) -> str:
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _fingerprint(alert: AlertmanagerAlert) -> str:
    if alert.fingerprint:
        return alert.fingerprint
    # Alertmanager always sends one since 0.19; older senders get a stable one from labels.
    return _digest(alert.labels)[:16]


def _alertmanager_facts(alert: AlertmanagerAlert) -> AlertFacts:
    return AlertFacts(
        fingerprint=_fingerprint(alert),
        firing=alert.status == "firing",
        labels=alert.labels,
        annotations=alert.annotations,
        starts_at=_no_zero(alert.startsAt),
        ends_at=_no_zero(alert.endsAt),
        generator_url=alert.generatorURL or None,
    )


# Length of AlertGroup.dedup_key: a longer Alertmanager groupKey (up to 1,000 characters) is
# kept as a prefix plus its SHA-256, unique like the key and short enough for the index.
_DEDUP_KEY_CHARS = 400


def _stored_key(group_key: str) -> str:
    """``group_key`` as stored: itself when it fits the column, else prefix + its digest."""
    if len(group_key) <= _DEDUP_KEY_CHARS:
        return group_key
    digest = hashlib.sha256(group_key.encode()).hexdigest()
    return f"{group_key[: _DEDUP_KEY_CHARS - len(digest) - 8]}…sha256:{digest}"


def _open_and_latest(
    session: Session, integration_id: int, dedup_key: str
) -> tuple[AlertGroup | None, AlertGroup | None]:
    """(the open group, the newest group) of a key in one query: a group opens only when the
    key has no open group and never reopens, so an open group is always the newest."""
    latest = repository.latest_group(session, integration_id, dedup_key)
    return (latest if latest is not None and latest.open_key is not None else None), latest


def ingest_alertmanager(
    session: Session, *, integration: Integration, message: AlertmanagerMessage, now: datetime
) -> AlertGroup:
    """Fold one Alertmanager notification into the group of its ``groupKey``."""
    reference_cache.enable(session)
    actor = integration.name
    # What the notification says about its alerts; the same digest again on the open group
    # (a replay, or a repeat_interval re-send with nothing new) changes nothing, so it is
    # answered without loading the group's alerts.
    digest = hashlib.sha256(
        message.model_dump_json(include={"status", "alerts", "truncatedAlerts"}).encode()
    ).hexdigest()
    group_key = _stored_key(message.groupKey)
    group, latest = _open_and_latest(session, integration.id, group_key)
    if group is not None and group.last_event_digest == digest:
        return group
    facts = [_alertmanager_facts(alert) for alert in message.alerts]
    if group is None:
        fresh = [f for f in facts if f.firing]
        if not fresh:
            return _record_resolved(session, integration, message, facts, latest, now=now)
        labels = {**message.groupLabels, **message.commonLabels}
        group = grouping.open_group(
            session,
            integration,
            GroupFacts(
                dedup_key=group_key,
                title=_alertmanager_title(message),
                source="alertmanager",
                service=_first_label(labels, _SERVICE_LABELS),
                severity=_first_label(labels, _SEVERITY_LABELS),
                labels=labels,
                annotations=message.commonAnnotations,
                digest=digest,
            ),
            now=now,
        )
        facts = fresh + [f for f in facts if not f.firing]
        alerts: dict[str | None, Alert] = {}  # a new group has none yet
    else:
        alerts = _by_fingerprint(repository.alerts_of(session, group.id))
    changed = False
    for fact in facts:
        changed |= grouping.apply_alert(session, group, alerts, fact, now=now, actor=actor)
    if group.truncated_alerts != message.truncatedAlerts:
        group.truncated_alerts = message.truncatedAlerts
        changed = True
    if changed:
        group.last_event_at = now
    group.last_event_digest = digest
    if message.truncatedAlerts == 0 or message.status == "resolved":
        grouping.settle(session, group, alerts, now=now, actor=actor)
    repository.insert_pending(session)
    session.flush()
    return group


def _record_resolved(
    session: Session,
    integration: Integration,
    message: AlertmanagerMessage,
    facts: list[AlertFacts],
    latest: AlertGroup | None,
    *,
    now: datetime,
) -> AlertGroup:
    """Resolved alerts with no open group: stored on the last group, or on a new resolved one."""
    if latest is None:
        labels = {**message.groupLabels, **message.commonLabels}
        latest = AlertGroup(
            integration_id=integration.id,
            dedup_key=_stored_key(message.groupKey),
            open_key=None,
            status=RESOLVED,
            title=_alertmanager_title(message),
            service=_first_label(labels, _SERVICE_LABELS),
            severity=_first_label(labels, _SEVERITY_LABELS),
            urgency=integration.default_urgency,
            labels=labels,
            annotations=dict(message.commonAnnotations),
            source="alertmanager",
            created_at=now,
            last_event_at=now,
            resolved_at=now,
            resolved_how="source",
            resolved_by=integration.name,
            truncated_alerts=message.truncatedAlerts,
            escalation_policy=integration.escalation_policy,
            escalation_round=0,
            escalation_step=0,
        )
        repository.add(session, latest)
        grouping.log(
            session,
            latest,
            kind="resolved",
            message="resolved alerts never seen firing: stored, not paged",
            at=now,
            actor=integration.name,
        )
    alerts = _by_fingerprint(repository.alerts_of(session, latest.id))
    for fact in facts:
        if fact.firing:
            continue  # a stale firing copy of an alert resolved since
        grouping.apply_alert(session, latest, alerts, fact, now=now, actor=integration.name)
    repository.insert_pending(session)
    session.flush()
    return latest


def _by_fingerprint(alerts: Iterable[Alert]) -> dict[str | None, Alert]:
    return {alert.fingerprint: alert for alert in alerts}


# Where a group's service and severity come from, first found first: the plain labels, then
# those of Watchkeeper's generated SLO rules and of Sloth's.
_SERVICE_LABELS = ("service", "watchkeeper_service", "sloth_service")
_SEVERITY_LABELS = ("severity", "sloth_severity")


def _first_label(labels: Mapping[str, str], names: Sequence[str]) -> str | None:
    return next((labels[name] for name in names if labels.get(name)), None)


def _alertmanager_title(message: AlertmanagerMessage) -> str:
    annotations, labels = message.commonAnnotations, {**message.groupLabels, **message.commonLabels}
    for candidate in (
        annotations.get("summary"),
        annotations.get("title"),
        labels.get("alertname"),
    ):
        if candidate:
            return candidate
    return f"alerts of {message.receiver or 'Alertmanager'}"


def _event_digest(event: PagerDutyEvent) -> str:
    return _digest(event.model_dump(mode="json", exclude={"routing_key"}, by_alias=True))


def ingest_pagerduty(
    session: Session, *, integration: Integration, event: PagerDutyEvent, now: datetime
) -> str:
    """Apply one PagerDuty v2 event; returns its dedup key (generated for a keyless trigger)."""
    reference_cache.enable(session)
    actor = integration.name
    if event.event_action != "trigger":
        # PagerDuty accepts acknowledge/resolve for an unknown dedup key and does nothing.
        dedup_key = event.dedup_key or ""
        group = repository.open_group(session, integration.id, dedup_key)
        if group is None:
            return dedup_key
        if event.event_action == "resolve":
            grouping.resolve_with_alerts(session, group, now=now, how="source", actor=actor)
        else:
            # A silenced group records the acknowledgement too, as the API's ack does.
            grouping.acknowledge(
                session, group, now=now, actor=actor, message="acknowledged by event"
            )
        repository.insert_pending(session)
        session.flush()
        return dedup_key
    assert event.payload is not None  # checked by the caller's validation
    digest = _event_digest(event)
    # A keyless trigger gets a key derived from its content (PagerDuty makes a random one):
    # a replay then finds its group, and a different event gets another key.
    dedup_key = event.dedup_key or digest[:32]
    payload = event.payload
    details = payload.custom_details if isinstance(payload.custom_details, dict) else {}
    labels = {
        str(k)[:200]: str(v)[:_LABEL_CHARS]
        for k, v in details.items()
        if isinstance(v, str | int | float)
    }
    labels.update({"severity": payload.severity, "source": payload.source})
    if payload.component:
        labels["component"] = payload.component
        # Silences and routing rules match a service label on every source.
        labels.setdefault("service", payload.component)
    if payload.group:
        labels["group"] = payload.group
    annotations: dict[str, Any] = {"summary": payload.summary}
    if payload.custom_details is not None:
        annotations["custom_details"] = payload.custom_details
    if event.links:
        annotations["links"] = event.links
    if event.client_url:
        annotations["client_url"] = event.client_url
    _trigger(
        session,
        integration,
        GroupFacts(
            dedup_key=dedup_key,
            title=payload.summary,
            source="pagerduty",
            service=payload.component or payload.source,
            severity=payload.severity,
            labels=labels,
            annotations=annotations,
            digest=digest,
        ),
        starts_at=payload.timestamp.astimezone(UTC) if payload.timestamp else None,
        link=event.client_url,
        now=now,
    )
    return dedup_key


def ingest_webhook(
    session: Session, *, integration: Integration, alert: WebhookAlert, now: datetime
) -> AlertGroup | None:
    """Apply one generic webhook alert (``dedup_key`` defaults to the title)."""
    reference_cache.enable(session)
    actor = integration.name
    dedup_key = alert.dedup_key or alert.title[:255]
    digest = _digest(alert.model_dump(mode="json"))
    annotations: dict[str, Any] = {"summary": alert.title}
    if alert.message:
        annotations["description"] = alert.message
    if alert.link:
        annotations["link"] = alert.link
    labels = dict(alert.labels)
    if alert.severity:
        labels.setdefault("severity", alert.severity)
    group = repository.open_group(session, integration.id, dedup_key)
    if alert.state == "resolved":
        if group is None:
            return None
        grouping.resolve_with_alerts(session, group, now=now, how="source", actor=actor)
        repository.insert_pending(session)
        session.flush()
        return group
    return _trigger(
        session,
        integration,
        GroupFacts(
            dedup_key=dedup_key,
            title=alert.title,
            source="webhook",
            service=labels.get("service"),
            severity=alert.severity,
            labels=labels,
            annotations=annotations,
            digest=digest,
        ),
        starts_at=None,
        link=alert.link,
        now=now,
    )


def _trigger(
    session: Session,
    integration: Integration,
    facts: GroupFacts,
    *,
    starts_at: datetime | None,
    link: str | None,
    now: datetime,
) -> AlertGroup:
    """Fire the one alert of a PagerDuty trigger or webhook alert: into the key's open group
    (an identical trigger changes nothing), else into a new group. The alert keeps the start
    it had unless the event states one (``starts_at``)."""
    actor = integration.name
    group = repository.open_group(session, integration.id, facts.dedup_key)
    alerts: dict[str | None, Alert] = {}  # a group opened here has none yet
    if group is None:
        group = grouping.open_group(session, integration, facts, now=now)
    elif group.last_event_digest == facts.digest:
        return group
    else:
        alerts = _by_fingerprint(repository.alerts_of(session, group.id))
        group.title = facts.title[: grouping.TITLE_CHARS]
        if facts.severity is not None:
            group.severity = facts.severity
        group.annotations = dict(facts.annotations or {})
        group.last_event_at = now
        group.last_event_digest = facts.digest
        grouping.log(
            session, group, kind="alert_firing", message="fired again", at=now, actor=actor
        )
    previous = alerts.get(None)
    grouping.apply_alert(
        session,
        group,
        alerts,
        AlertFacts(
            fingerprint=None,
            firing=True,
            labels=facts.labels or {},
            annotations=facts.annotations or {},
            starts_at=starts_at or (previous.starts_at if previous is not None else now),
            ends_at=None,
            generator_url=link,
        ),
        now=now,
        actor=actor,
    )
    repository.insert_pending(session)
    session.flush()
    return group


def ingest_change(
    session: Session, *, integration: Integration, event: ChangeEventIn, now: datetime
) -> ChangeEvent:
    """Store a change event once (a replay finds the stored one)."""
    document = event.model_dump(mode="json", exclude={"routing_key"})
    digest = _digest({"integration": integration.id, "event": document})
    found = repository.change_by_digest(session, digest)
    if found is not None:
        return found
    payload = event.payload
    details = payload.custom_details
    service = details.get("service") if isinstance(details.get("service"), str) else None
    change = ChangeEvent(
        integration_id=integration.id,
        digest=digest,
        at=payload.timestamp.astimezone(UTC) if payload.timestamp else now,
        summary=payload.summary,
        source=payload.source,
        service=service or payload.source,
        custom_details=details,
        links=event.links,
        received_at=now,
    )
    try:
        # A savepoint: the same event sent twice at once inserts one row; the loser reads it.
        with session.begin_nested():
            repository.add(session, change)
    except IntegrityError:
        raced = repository.change_by_digest(session, digest)
        if raced is None:
            raise
        return raced
    return change
