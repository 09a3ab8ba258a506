"""The life of an alert group, shared by every intake format and by the actions.

Decisions (docs/alerting.md explains them to users):

- A group is keyed by (integration, dedup key). A resolved group never reopens: an event for
  its key afterwards opens a new group, as PagerDuty opens a new incident for a dedup key
  whose incident is resolved. ``open_key`` (unique per integration) holds the key while the
  group is unresolved, so two open groups for one key cannot exist.
- A group opens ``silenced`` when an active silence or maintenance window matches its labels,
  else ``firing``; only a firing group starts escalation.
- The group resolves by itself (``resolved_how="source"``) when every alert in it is resolved.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from watchkeeper import reference_cache
from watchkeeper.alerting import escalation, repository
from watchkeeper.alerting.models import Alert, AlertGroup, AlertGroupLog, Integration, Silence
from watchkeeper.core.matchers import Matcher, matches_all, parse_matchers

FIRING = "firing"
ACKNOWLEDGED = "acknowledged"
RESOLVED = "resolved"
SILENCED = "silenced"
STATUSES = (FIRING, ACKNOWLEDGED, RESOLVED, SILENCED)
TITLE_CHARS = 4000  # longest title stored


@dataclass(frozen=True)
class GroupFacts:
    """What a source says about a group when it opens it."""

    dedup_key: str
    title: str
    source: str
    service: str | None = None
    severity: str | None = None
    labels: Mapping[str, Any] | None = None
    annotations: Mapping[str, Any] | None = None
    slo_key: str | None = None
    urgency: str | None = None  # None: routing rules, else the integration's default
    digest: str | None = None  # of the event that opens it: its replay changes nothing


def log(
    session: Session,
    group: AlertGroup,
    *,
    kind: str,
    message: str,
    at: datetime,
    actor: str | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """Append an entry to a group's log."""
    session.add(
        AlertGroupLog(
            group_id=group.id, at=at, kind=kind, message=message, actor=actor, details=details
        )
    )


def label_strings(labels: Mapping[str, Any]) -> dict[str, str]:
    """Labels as strings, for matching."""
    return {str(k): str(v) for k, v in labels.items()}


@dataclass(frozen=True)
class _SilenceWindow:
    """What matching needs of a silence, kept apart from its row (see reference_cache)."""

    id: int
    matchers: tuple[Matcher, ...]
    starts_at: datetime
    ends_at: datetime


def matching_silence(session: Session, labels: Mapping[str, Any], now: datetime) -> Silence | None:
    """The active silence (or maintenance window) matching ``labels`` that ends last."""
    found: _SilenceWindow | None = None
    strings = label_strings(labels)
    for window in _silence_windows(session, now):
        if window.starts_at > now or window.ends_at <= now:
            continue
        if matches_all(window.matchers, strings) and (
            found is None or window.ends_at > found.ends_at
        ):
            found = window
    return None if found is None else repository.silence(session, found.id)


def _silence_windows(session: Session, now: datetime) -> list[_SilenceWindow]:
    """Silences not ended at ``now`` (a cached list was read at an earlier instant: callers
    filter out those ended since)."""

    def load() -> list[_SilenceWindow]:
        return [
            _SilenceWindow(s.id, parse_matchers(s.matchers), s.starts_at, s.ends_at)
            for s in repository.silences_from(session, now)
        ]

    return reference_cache.read(session, "silences", load)


@dataclass(frozen=True)
class Routed:
    """What routing decided for a new group: policy, urgency, incident severity to declare."""

    policy: str | None
    urgency: str
    incident: str | None


@dataclass(frozen=True)
class _Route:
    """A routing rule as matching reads it, kept apart from its row (see reference_cache)."""

    integration: str | None
    matchers: tuple[Matcher, ...]
    policy: str | None
    urgency: str | None
    incident: str | None


def _routes(session: Session) -> list[_Route]:
    def load() -> list[_Route]:
        return [
            _Route(
                r.integration,
                parse_matchers(r.matchers),
                r.escalation_policy,
                r.urgency,
                r.incident,
            )
            for r in repository.routing_rules(session)
        ]

    return reference_cache.read(session, "routes", load)


def route(session: Session, integration: Integration, labels: Mapping[str, Any]) -> Routed:
    """The first matching routing rule's choices (the integration's defaults where a rule
    leaves a field out; no rule: the defaults and no incident)."""
    strings = label_strings(labels)
    policy, urgency = integration.escalation_policy, integration.default_urgency
    for rule in _routes(session):
        if rule.integration is not None and rule.integration != integration.name:
            continue
        if matches_all(rule.matchers, strings):
            return Routed(rule.policy or policy, rule.urgency or urgency, rule.incident)
    return Routed(policy, urgency, None)


def open_group(
    session: Session, integration: Integration, facts: GroupFacts, *, now: datetime
) -> AlertGroup:
    """Create a group in its paging state (firing, or silenced when a silence matches)."""
    labels = dict(facts.labels or {})
    routed = route(session, integration, labels)
    silence = matching_silence(session, labels, now)  # read before writing: no autoflush
    group = AlertGroup(
        integration_id=integration.id,
        dedup_key=facts.dedup_key,
        open_key=facts.dedup_key,
        status=FIRING,
        title=facts.title[:TITLE_CHARS],
        service=facts.service,
        severity=facts.severity,
        urgency=facts.urgency or routed.urgency,
        labels=labels,
        annotations=dict(facts.annotations or {}),
        source=facts.source,
        slo_key=facts.slo_key,
        created_at=now,
        last_event_at=now,
        truncated_alerts=0,
        escalation_policy=routed.policy,
        escalation_round=0,
        escalation_step=0,
        incident_severity=routed.incident,
        last_event_digest=facts.digest,
    )
    # Everything the group's row holds is decided before it is inserted: one INSERT, no
    # UPDATE of the row just written.
    notes = [] if silence is not None else escalation.snapshot(session, group, now=now)
    if silence is not None:
        _silence_columns(group, silence)
    repository.add(session, group)
    log(session, group, kind="opened", message=f"opened by {facts.source}", at=now)
    if silence is not None:
        _silence_log(session, group, silence, now=now)
    for kind, message in notes:
        log(session, group, kind=kind, message=message, at=now)
    escalation.begin(session, group, now=now, opened=True)
    return group


def _silence_columns(group: AlertGroup, silence: Silence) -> None:
    group.status = SILENCED
    group.silence_id = silence.id
    group.silenced_until = silence.ends_at
    silence.silenced_count += 1


def _silence_log(session: Session, group: AlertGroup, silence: Silence, *, now: datetime) -> None:
    what = "maintenance window" if silence.kind == "maintenance" else "silence"
    log(
        session,
        group,
        kind="silenced",
        message=f"silenced by {what} {silence.id} until {silence.ends_at.isoformat()}",
        at=now,
        details={"silence_id": silence.id},
    )


def _silence_by(session: Session, group: AlertGroup, silence: Silence, *, now: datetime) -> None:
    _silence_columns(group, silence)
    _silence_log(session, group, silence, now=now)
    escalation.stop(session, group)


def apply_silence(session: Session, silence: Silence, *, now: datetime) -> int:
    """Silence every open firing group that a silence which has started matches (once)."""
    matchers = parse_matchers(silence.matchers)
    silenced = 0
    for group in repository.unresolved_groups(session):
        if group.status == FIRING and matches_all(matchers, label_strings(group.labels)):
            _silence_by(session, group, silence, now=now)
            silenced += 1
    silence.applied_at = now
    return silenced


def resolve(
    session: Session, group: AlertGroup, *, now: datetime, how: str, actor: str | None
) -> None:
    """Resolve a group (no-op when it is resolved already)."""
    if group.status == RESOLVED:
        return
    group.status = RESOLVED
    group.open_key = None
    group.resolved_at = now
    group.resolved_by = actor
    group.resolved_how = how
    group.last_event_at = now
    log(session, group, kind="resolved", message=f"resolved ({how})", at=now, actor=actor)
    escalation.stop(session, group)


def resolve_with_alerts(
    session: Session, group: AlertGroup, *, now: datetime, how: str, actor: str | None
) -> None:
    """Mark the group's unresolved alerts resolved (ending now), then resolve the group."""
    if group.status == RESOLVED:
        return
    for alert in repository.alerts_of(session, group.id):
        if alert.status != RESOLVED:
            alert.status, alert.ends_at, alert.last_changed_at = RESOLVED, now, now
    resolve(session, group, now=now, how=how, actor=actor)


def acknowledge(
    session: Session, group: AlertGroup, *, now: datetime, actor: str, message: str
) -> None:
    """Acknowledge a firing or silenced group (escalation stops); a replay changes nothing."""
    if group.status in (RESOLVED, ACKNOWLEDGED) or group.acknowledged_at is not None:
        return
    group.acknowledged_at, group.acknowledged_by = now, actor
    if group.status == FIRING:
        group.status = ACKNOWLEDGED
    log(session, group, kind="acknowledged", message=message, at=now, actor=actor)
    escalation.stop(session, group)


def unsilence(session: Session, group: AlertGroup, *, now: datetime) -> None:
    """A silenced group whose silence ended: silenced again by another, else firing."""
    silence = matching_silence(session, group.labels, now)
    if silence is not None:
        group.silence_id = silence.id
        group.silenced_until = silence.ends_at
        log(
            session,
            group,
            kind="silenced",
            message=f"still silenced, by silence {silence.id}",
            at=now,
            details={"silence_id": silence.id},
        )
        return
    group.status = FIRING if group.acknowledged_at is None else ACKNOWLEDGED
    group.silence_id = None
    group.silenced_until = None
    log(session, group, kind="unsilenced", message="silence ended", at=now)
    if group.status == FIRING:
        escalation.start(session, group, now=now)


@dataclass(frozen=True)
class AlertFacts:
    """One alert as a source reports it."""

    fingerprint: str | None
    firing: bool
    labels: Mapping[str, Any]
    annotations: Mapping[str, Any]
    starts_at: datetime | None
    ends_at: datetime | None
    generator_url: str | None = None


def apply_alert(
    session: Session,
    group: AlertGroup,
    existing: dict[str | None, Alert],
    facts: AlertFacts,
    *,
    now: datetime,
    actor: str,
) -> bool:
    """Insert or update one alert of a group, logging status changes; True if anything changed."""
    status = FIRING if facts.firing else RESOLVED
    alert = existing.get(facts.fingerprint)
    labels, annotations = dict(facts.labels), dict(facts.annotations)
    name = facts.fingerprint or "alert"
    if alert is None:
        alert = Alert(
            group_id=group.id,
            fingerprint=facts.fingerprint,
            status=status,
            labels=labels,
            annotations=annotations,
            starts_at=facts.starts_at,
            ends_at=facts.ends_at,
            generator_url=facts.generator_url,
            last_changed_at=now,
        )
        session.add(alert)
        existing[facts.fingerprint] = alert
        kind = "alert_firing" if facts.firing else "alert_resolved"
        suffix = "" if facts.firing else " (never seen firing)"
        log(session, group, kind=kind, message=f"{name} {status}{suffix}", at=now, actor=actor)
        return True
    new_values = {
        "status": status,
        "labels": labels,
        "annotations": annotations,
        "starts_at": facts.starts_at,
        "ends_at": facts.ends_at,
        "generator_url": facts.generator_url,
    }
    changed = {k: v for k, v in new_values.items() if getattr(alert, k) != v}
    if not changed:
        return False
    for key, value in changed.items():
        setattr(alert, key, value)
    alert.last_changed_at = now
    if "status" in changed:
        kind = "alert_firing" if facts.firing else "alert_resolved"
        log(session, group, kind=kind, message=f"{name} {status}", at=now, actor=actor)
    return True


def settle(
    session: Session,
    group: AlertGroup,
    alerts: dict[str | None, Alert],
    *,
    now: datetime,
    actor: str,
) -> None:
    """Resolve the group when every alert in it is resolved."""
    if group.status != RESOLVED and alerts and all(a.status == RESOLVED for a in alerts.values()):
        resolve(session, group, now=now, how="source", actor=actor)
