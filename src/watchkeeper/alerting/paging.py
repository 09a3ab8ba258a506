"""The page: what a notification about an alert group says, per recipient.

A page names what fired, for which service, since when and how many alerts it folds; for a
group raised by an SLO burn-rate alert it adds the SLO context as the worker last stored it
(objective, budget left, burn rates of the alert's windows, forecast exhaustion), so the page
shows the same figures as ``watchkeeper slo status``. Its acknowledge and resolve links are
signed for one recipient and expire (alerting/links.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cached_property
from typing import Any, Protocol

from sqlalchemy.orm import Session

from watchkeeper import reference_cache
from watchkeeper.alerting import links, repository
from watchkeeper.core.duration import format_duration
from watchkeeper.errors import WatchkeeperError
from watchkeeper.notify.message import Message
from watchkeeper.slo import service as slo_service

MAX_SUMMARY = 2000


class PagedGroup(Protocol):
    """The columns of an alert group a page reads (an ``AlertGroup`` or a lighter row)."""

    @property
    def id(self) -> int: ...
    @property
    def integration_id(self) -> int: ...
    @property
    def title(self) -> str: ...
    @property
    def service(self) -> str | None: ...
    @property
    def severity(self) -> str | None: ...
    @property
    def urgency(self) -> str: ...
    @property
    def annotations(self) -> dict[str, Any]: ...
    @property
    def created_at(self) -> datetime: ...
    @property
    def truncated_alerts(self) -> int: ...
    @property
    def slo_key(self) -> str | None: ...
    @property
    def acknowledged_by(self) -> str | None: ...
    @property
    def resolved_by(self) -> str | None: ...
    @property
    def resolved_how(self) -> str | None: ...


@dataclass(frozen=True)
class SLOFacts:
    """An SLO's figures as a page shows them (None where there is no data)."""

    objective: str
    budget_left: str
    burn_rate: str
    forecast: str
    runbook_url: str | None


@dataclass(frozen=True)
class PageFacts:
    """What a page says about a group besides the group's own columns."""

    integration: str
    firing: int
    total: int
    since: datetime | None
    source_url: str | None
    slo: SLOFacts | None = None


@dataclass(frozen=True)
class LinkSigning:
    """How action links are made: secret, base URL and lifetime."""

    secret: str
    base_url: str
    ttl: timedelta

    @cached_property
    def signer(self) -> links.LinkSigner:
        """The signer of this secret, prepared once for every link signed with it."""
        return links.LinkSigner(self.secret)


def page_facts(
    session: Session,
    groups: Sequence[PagedGroup],
    *,
    slo_cache: dict[str, SLOFacts | None] | None = None,
    opened: bool = False,
) -> dict[int, PageFacts]:
    """The facts of many groups' pages in a few queries ({group id: facts}); ``opened``: the
    groups were inserted in this transaction, so the alert counts of those whose alerts it
    wrote in bulk are taken from memory instead of an aggregate query."""
    ids = [g.id for g in groups]
    figures = repository.written_figures(session, ids) if opened else {}
    missing = [group_id for group_id in ids if group_id not in figures]
    if missing:
        figures.update(repository.page_figures(session, missing))
    wanted = {g.integration_id for g in groups}
    names = reference_cache.read(
        session, "integration_names", lambda: repository.integration_names(session, None)
    )
    if not wanted <= names.keys():
        # An integration the cached map lacks was created in this very transaction.
        names = repository.integration_names(session, None)
    cache = {} if slo_cache is None else slo_cache
    found: dict[int, PageFacts] = {}
    for group in groups:
        firing, total, since, source_url = figures.get(group.id, (0, 0, None, None))
        slo: SLOFacts | None = None
        if group.slo_key:
            key = f"{group.slo_key}|{_window_key(group.annotations)}"
            if key not in cache:
                cache[key] = slo_facts(session, group)
            slo = cache[key]
        found[group.id] = PageFacts(
            integration=names.get(group.integration_id, "?"),
            firing=firing,
            total=total,
            since=since,
            source_url=source_url,
            slo=slo,
        )
    return found


def _window_key(annotations: Mapping[str, Any]) -> str:
    return f"{annotations.get('long_window_seconds')}/{annotations.get('short_window_seconds')}"


def _percent(value: float | None) -> str:
    return "no data" if value is None else f"{value * 100:.1f}%"


def _rate(value: Any) -> str:
    return "no data" if value is None else f"{float(value):.3g}x"


def _window(seconds: Any) -> str | None:
    try:
        return format_duration(timedelta(seconds=float(seconds)))
    except (TypeError, ValueError):
        return None


def slo_facts(session: Session, group: PagedGroup) -> SLOFacts | None:
    """The SLO context of an SLO group from the figures the worker stored, or None when the
    SLO is gone or was never evaluated."""
    if not group.slo_key:
        return None
    try:
        record = slo_service.get(session, key=group.slo_key)
        slo = slo_service.to_core(record)
    except WatchkeeperError:
        return None
    status = slo_service.stored_status(session, record=record)
    severity = group.severity if group.severity in ("page", "ticket") else "page"
    target = slo.alerting.page if severity == "page" else slo.alerting.ticket
    objective = f"{slo.objective * 100:.6g}% over {status.window if status else '?'}"
    annotations = group.annotations
    long_window = _window(annotations.get("long_window_seconds"))
    short_window = _window(annotations.get("short_window_seconds"))
    rates = status.burn_rates if status is not None else {}
    # The current burn over the windows of the alert that fired; the alert's own figures
    # when the stored status has none for them.
    long_rate = (
        rates.get(long_window) if long_window in rates else annotations.get("long_burn_rate")
    )
    short_rate = (
        rates.get(short_window) if short_window in rates else annotations.get("short_burn_rate")
    )
    burn = (
        f"{_rate(long_rate)} over {long_window} / {_rate(short_rate)} over {short_window}"
        if long_window and short_window
        else "no data"
    )
    if status is None or status.error is not None:
        budget, forecast = "no data", "no data"
    else:
        budget = _percent(status.error_budget_remaining)
        forecast = (
            f"would exhaust at {status.exhaustion_at.isoformat(timespec='minutes')}"
            if status.exhaustion_at is not None
            else "not at this rate"
        )
    return SLOFacts(
        objective=objective,
        budget_left=budget,
        burn_rate=burn,
        forecast=forecast,
        runbook_url=target.runbook_url,
    )


def title_of(group: PagedGroup, kind: str, firing: int) -> str:
    """``[FIRING:3] title`` for a page or notice, ``[ACKNOWLEDGED]``/``[RESOLVED]`` after."""
    if kind in ("page", "reminder", "notice"):
        return f"[FIRING:{firing}] {group.title}"
    return f"[{kind.upper()}] {group.title}"


def build(
    group: PagedGroup,
    facts: PageFacts,
    *,
    kind: str,
    recipient: str,
    escalation: str | None,
    signing: LinkSigning,
    now: datetime,
) -> Message:
    """The message of one notification about ``group`` to ``recipient``."""
    annotations = group.annotations
    summary = str(
        annotations.get("summary")
        or annotations.get("description")
        or annotations.get("message")
        or ""
    )[:MAX_SUMMARY]
    alerts = f"{facts.firing} firing of {facts.total}"
    if group.truncated_alerts:
        alerts += f" ({group.truncated_alerts} more truncated by Alertmanager)"
    fields: list[tuple[str, str]] = [
        ("Service", group.service or "-"),
        ("Severity", group.severity or "-"),
        ("Urgency", group.urgency),
        ("Since", (facts.since or group.created_at).isoformat(timespec="seconds")),
        ("Alerts", alerts),
        ("Integration", facts.integration),
    ]
    if escalation:
        fields.append(("Escalation", escalation))
    if kind == "acknowledged" and group.acknowledged_by:
        fields.append(("Acknowledged by", group.acknowledged_by))
    if kind == "resolved":
        fields.append(("Resolved by", group.resolved_by or group.resolved_how or "-"))
    if facts.slo is not None:
        fields += [
            ("SLO", group.slo_key or "-"),
            ("Objective", facts.slo.objective),
            ("Budget left", facts.slo.budget_left),
            ("Burn rate", facts.slo.burn_rate),
            ("Forecast exhaustion", facts.slo.forecast),
        ]
    base = signing.base_url.rstrip("/")
    page_links: list[tuple[str, str]] = []
    if kind in ("page", "reminder", "notice"):
        for label, action in (("Acknowledge", "ack"), ("Resolve", "resolve")):
            url = links.action_url(
                secret=signing.signer,
                base_url=base,
                group_id=group.id,
                action=action,
                recipient=recipient,
                expires_in=signing.ttl,
                now=now,
            )
            page_links.append((label, url))
    runbook = annotations.get("runbook_url") or (facts.slo.runbook_url if facts.slo else None)
    if runbook:
        page_links.append(("Runbook", str(runbook)))
    if facts.source_url:
        page_links.append(("Source", facts.source_url))
    page_links.append(("View", f"{base}/api/v1/alert-groups/{group.id}"))
    return Message(
        kind=kind,
        title=title_of(group, kind, facts.firing),
        summary=summary,
        urgency="low" if group.urgency == "low" else "high",
        fields=tuple(fields),
        links=tuple(page_links),
        alert_group_id=group.id,
    )
