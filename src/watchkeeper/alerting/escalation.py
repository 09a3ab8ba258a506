"""Hooks the escalation runtime builds on: intake and actions call them when a group starts
or stops paging. For now they only set the group's escalation timer columns."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from watchkeeper.alerting.models import AlertGroup


def start(session: Session, group: AlertGroup, *, now: datetime) -> None:
    """Start escalating a group that opened or reopened in a paging state."""
    group.escalation_round = 0
    group.escalation_step = 0
    group.escalation_due_at = now


def stop(session: Session, group: AlertGroup) -> None:
    """Stop escalating a group (acknowledged, resolved or silenced)."""
    group.escalation_due_at = None
