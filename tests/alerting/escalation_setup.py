"""Shared set-up of the escalation tests: people, a schedule, a policy, an integration."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.alerting.conftest import am_alert, am_message
from watchkeeper.alerting import intake, service
from watchkeeper.alerting.models import AlertGroup
from watchkeeper.alerting.schemas import AlertmanagerMessage
from watchkeeper.auth import people
from watchkeeper.notify.message import Message
from watchkeeper.notify.models import Notification
from watchkeeper.oncall import service as oncall_service
from watchkeeper.oncall.documents import read_text

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)  # a Monday: ann is on call (daily from 1 March)

TEAM = """
kind: Schedule
name: primary
time_zone: UTC
layers:
  - name: daily
    users: [bob, ann]
    start: 2026-03-01T00:00
    turn: daily
---
kind: EscalationPolicy
name: shop
repeat: 1
steps:
  - wait: 5m
    targets:
      - schedule: primary
  - wait: 10m
    targets:
      - user: cid
"""


def make_team(session: Session, policy_text: str = TEAM) -> None:
    """Users ann, bob, cid (console and email contacts), the schedule and the policy."""
    for name in ("ann", "bob", "cid"):
        people.create_user(session, name=name, role="editor", email=f"{name}@example.com", now=NOW)
        people.add_contact(session, name=name, kind="console", address=f"tty-{name}", now=NOW)
    apply_team(session, policy_text)


def make_policies(session: Session, *names: str) -> None:
    """Escalation policies ``names``, each paging user ann (created here)."""
    people.create_user(session, name="ann", role="editor", now=NOW)
    for name in names:
        apply_team(
            session,
            f"kind: EscalationPolicy\nname: {name}\nsteps:\n"
            "  - wait: 5m\n    targets: [user: ann]\n",
        )


def apply_team(session: Session, text: str) -> None:
    """Apply schedule and policy documents."""
    oncall_service.apply(session, documents=read_text(text, "team.yaml"), now=NOW)


def open_alertmanager(
    session: Session,
    *,
    policy: str | None = "shop",
    at: datetime = NOW,
    alerts: tuple[dict[str, Any], ...] | None = None,
    name: str = "prom",
    existing: bool = False,
    **options: Any,
) -> AlertGroup:
    """Create an integration routed to ``policy`` (or use the ``existing`` one named ``name``)
    and post one Alertmanager group to it."""
    integration = (
        service.get_integration(session, name=name)
        if existing
        else service.create_integration(
            session, name=name, type="alertmanager", escalation_policy=policy, now=at, **options
        )
    )
    body = am_message(
        *(alerts or (am_alert("a1", runbook="x"),)),
    )
    body["alerts"][0]["annotations"]["runbook_url"] = "https://runbooks.example/checkout"
    message = AlertmanagerMessage.model_validate(body)
    group = intake.ingest_alertmanager(session, integration=integration, message=message, now=at)
    session.commit()  # the first step runs as the intake's transaction commits
    return group


def outbox(session: Session, group_id: int | None = None) -> list[Notification]:
    """Notifications, oldest first."""
    query = select(Notification).order_by(Notification.id)
    if group_id is not None:
        query = query.where(Notification.alert_group_id == group_id)
    return list(session.scalars(query))


def message_of(notification: Notification) -> Message:
    """The stored message of a notification."""
    return Message.from_json(notification.message)


def later(minutes: float) -> datetime:
    """``minutes`` after NOW."""
    return NOW + timedelta(minutes=minutes)
