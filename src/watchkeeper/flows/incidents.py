"""Incidents driven by alerting: routing rules that ask for an incident, auto-declaring it for
the groups they open, and noting when every alert group of an incident has resolved.

Alerting never imports the incident domain; this flow sits above both. The worker runs
:func:`declare_for_group` per pending group and :func:`note_resolved_groups` every few seconds
(``incident_declare_seconds``) in a thread of its own.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from functools import partial
from typing import Any

from sqlalchemy.orm import Session

from watchkeeper.alerting import incident_feed, routing
from watchkeeper.alerting.models import AlertGroup, RoutingRule
from watchkeeper.core.escalation import EscalationPolicy
from watchkeeper.core.incident import TimelineKind
from watchkeeper.errors import WatchkeeperError
from watchkeeper.incident import declaration
from watchkeeper.incident import links as incident_links
from watchkeeper.incident import service as incidents
from watchkeeper.oncall import service as oncall

log = logging.getLogger("watchkeeper.incidents")

AUTO_ACTOR = "watchkeeper"
# Marks the timeline entry written when every linked alert group has resolved.
ALL_RESOLVED = "all_alert_groups_resolved"


def apply_routes(session: Session, *, rules: Sequence[Any]) -> list[RoutingRule]:
    """Replace the routing rules, checking each rule's ``incident`` against the severities."""
    return routing.apply(
        session, rules=rules, incident_severity=partial(incidents.check_severity, session)
    )


def _first_step_oncall(session: Session, group: AlertGroup, *, now: datetime) -> str | None:
    """The first user the group's first escalation step reaches, if any (best effort)."""
    try:
        if group.escalation_snapshot:
            policy = EscalationPolicy.from_json(group.escalation_snapshot)
        elif group.escalation_policy:
            policy = oncall.escalation_policy(session, group.escalation_policy)
        else:
            return None
        found = oncall.recipients(
            session, targets=policy.steps[0].targets, at=now, urgency=group.urgency
        )
    except (WatchkeeperError, ValueError, KeyError, TypeError, IndexError):
        # A policy or schedule deleted since, or a snapshot of another shape: no commander.
        return None
    return next((r.user for r in found if r.user is not None), None)


def pending_group_ids(session: Session, *, limit: int = 100) -> list[int]:
    """Ids of the firing groups whose routing rule asked for an incident not declared yet."""
    return [group.id for group in incident_feed.groups_pending_incident(session, limit=limit)]


def declare_for_group(session: Session, *, group_id: int, now: datetime) -> int | None:
    """Declare the incident a pending group's routing rule asked for; returns its id, None when
    nothing was declared (another worker holds the group, it no longer needs one, or it joined
    an open incident). The group's row is locked while deciding, so two workers never declare
    twice for one group."""
    group = incident_feed.claim_for_incident(session, group_id=group_id)
    if group is None:
        return None
    linked = incident_links.open_incidents_of_group(session, alert_group_id=group.id)
    declared: int | None = None
    if linked:
        incident_id = linked[0].id
    else:
        incident = declaration.declare_from_alert_group(
            session,
            alert_group_id=group.id,
            severity=group.incident_severity or "",
            actor=AUTO_ACTOR,
            now=now,
            commander=_first_step_oncall(session, group, now=now),
        )
        incident_id = declared = incident.id
    incident_feed.mark_incident(session, group_id=group.id, incident_id=incident_id)
    return declared


def give_up(session: Session, *, group_id: int, error: Exception, now: datetime) -> None:
    """Stop auto-declaring for a group whose declaration failed (logged on the group as
    ``incident_failed``), so one broken group is not retried first on every pass."""
    reason = str(error) if isinstance(error, WatchkeeperError) else f"internal error: {error!r}"
    log.warning("alert group %s: incident not declared: %s", group_id, reason)
    incident_feed.drop_incident_request(session, group_id=group_id, reason=reason, now=now)


def declare_pending(session: Session, *, now: datetime) -> list[int]:
    """Declare an incident for every firing group whose routing rule asked for one and that
    has none yet, each group in a savepoint of its own; returns the new incidents' ids.

    A group whose declaration fails (any error) is rolled back alone and given up
    (:func:`give_up`); the other groups go on. The worker commits each group separately
    instead (``Worker.incidents_once``)."""
    declared: list[int] = []
    for group_id in pending_group_ids(session):
        try:
            with session.begin_nested():
                incident_id = declare_for_group(session, group_id=group_id, now=now)
        except Exception as exc:
            if not isinstance(exc, WatchkeeperError):
                log.exception("alert group %s: declaring failed", group_id)
            with session.begin_nested():
                give_up(session, group_id=group_id, error=exc, now=now)
            continue
        if incident_id is not None:
            declared.append(incident_id)
    return declared


def note_resolved_groups(session: Session, *, now: datetime) -> list[int]:
    """Add a timeline entry to each open incident whose linked alert groups have all
    resolved (once per incident, again only after a new link); returns those incidents' ids.

    One query finds them; each is claimed by marking its link rows, so two workers never
    write the note twice. Nothing else is automatic."""
    noted: list[int] = []
    for incident_id, last in incident_links.all_groups_resolved(session):
        if not incident_links.claim_resolved_note(session, incident_id=incident_id):
            continue
        ids = incident_links.alert_group_ids(session, incident_id)
        incidents.add_timeline_entry(
            session,
            incident_id=incident_id,
            kind=TimelineKind.ALERT.value,
            text=f"all {len(ids)} linked alert group(s) resolved",
            at=min(last, now),
            actor=AUTO_ACTOR,
            details={ALL_RESOLVED: True, "alert_group_ids": ids},
        )
        noted.append(incident_id)
    return noted
