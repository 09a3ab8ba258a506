"""The demo's data: checkout SLOs with history, its on-call people, schedule, escalation and
routing, and an admin token. Used by ``watchkeeper demo`` and its tests."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from importlib import resources

from sqlalchemy.orm import Session

from watchkeeper.alerting import routing
from watchkeeper.auth import people, sessions
from watchkeeper.auth import service as auth_service
from watchkeeper.demo.simulator import Profile, backfill
from watchkeeper.flows import demo_history
from watchkeeper.flows import incidents as incident_flows
from watchkeeper.flows import specs as spec_flows
from watchkeeper.oncall import service as oncall_service
from watchkeeper.oncall.documents import read_text
from watchkeeper.specs import load_text
from watchkeeper.specs.problems import SpecError

# Alex is on call and gets the page; Sam is the second escalation step. Both read their pages
# on the demo's console.
ONCALL_USER = "alex"
ESCALATION_USER = "sam"
# Dashboard sign-ins the demo prints: alex (on call, an editor) and an administrator.
ADMIN_USER = "admin"


@dataclass(frozen=True)
class DemoData:
    """What the demo made: the admin token, who is paged and who the page escalates to,
    dashboard sign-ins as (name, password, role), and the ids the live alert group and
    incident will get (after the seeded history's)."""

    token: str
    oncall_user: str
    escalation_user: str
    logins: tuple[tuple[str, str, str], ...] = ()
    live_alert_group_id: int = 1
    live_incident_id: int = 1


def _text(name: str) -> str:
    return resources.files("watchkeeper.demo").joinpath(name).read_text()


# Seeded SLO evaluations: the last days, at this cadence (the live worker keeps every minute).
CHART_DAYS = 2
CHART_INTERVAL = timedelta(minutes=20)


def prepare(
    session: Session, *, now: datetime, history_days: int, history_months: int = 0
) -> DemoData:
    """Apply the demo's specs, people, on-call and routing, and backfill healthy history;
    with ``history_months``, also that many months of past outages, incidents and pages."""
    spec_flows.apply(
        session, spec_set=load_text(_text("checkout.yaml"), filename="demo/checkout.yaml"), now=now
    )
    backfill(session, now=now, days=history_days, profile=Profile())
    for name in (ONCALL_USER, ESCALATION_USER):
        people.create_user(session, name=name, role="editor", now=now)
        people.add_contact(session, name=name, kind="console", address=name, now=now)
    documents = read_text(_text("oncall.yaml"), "demo/oncall.yaml")
    if documents.problems:
        raise SpecError(documents.problems)
    oncall_service.apply(session, documents=documents, now=now)
    incident_flows.apply_routes(
        session, rules=routing.parse_file(_text("routes.yaml"), filename="demo/routes.yaml")
    )
    token = auth_service.create(session, name="demo-admin", role="admin", now=now).token
    people.create_user(session, name=ADMIN_USER, role="admin", now=now)
    logins = []
    for name, role in ((ONCALL_USER, "editor"), (ADMIN_USER, "admin")):
        # A fresh password per demo run, printed once: the demo listens on a real port.
        password = secrets.token_urlsafe(12)
        sessions.set_password(session, name=name, password=password, now=now)
        logins.append((name, password, role))
    incidents = 0
    if history_months > 0:
        seeded = demo_history.seed(
            session,
            now=now,
            months=history_months,
            minutes_from=now - timedelta(days=history_days),
            chart_days=min(CHART_DAYS, history_days),
            interval=CHART_INTERVAL,
            responder=ONCALL_USER,
        )
        incidents = seeded.incidents
    return DemoData(
        token=token,
        oncall_user=ONCALL_USER,
        escalation_user=ESCALATION_USER,
        logins=tuple(logins),
        # A fresh database numbers from 1: the seeded incidents come first, no alert groups.
        live_incident_id=incidents + 1,
    )
