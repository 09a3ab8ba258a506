"""Deleting a user, which the on-call domain may still name."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from watchkeeper.alerting import service as alerting
from watchkeeper.auth import people
from watchkeeper.auth.exceptions import UserInUse
from watchkeeper.core.escalation import EscalationPolicy, TargetKind
from watchkeeper.oncall import service as oncall


def delete_user(session: Session, *, name: str) -> None:
    """Delete a user unless a schedule, an escalation policy or the policy snapshot of an
    unresolved alert group names them (UserInUse)."""
    people.get_user(session, name=name)
    references = oncall.user_references(session, user=name)
    references.extend(
        f"the running escalation of alert group #{group.id}"
        for group in alerting.unresolved_groups(session)
        if group.escalation_snapshot and _names_user(group.escalation_snapshot, name)
    )
    if references:
        raise UserInUse(
            f"{name} is named by {', '.join(references)}: change those first, then delete"
        )
    people.delete_user(session, name=name)


def _names_user(snapshot: dict[str, Any], user: str) -> bool:
    """Whether a group's escalation snapshot pages ``user`` directly."""
    policy = EscalationPolicy.from_json(snapshot)
    return any(
        target.kind is TargetKind.USER and target.name == user
        for step in policy.steps
        for target in step.targets
    )
