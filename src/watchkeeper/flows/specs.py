"""Applying a spec set: its SLOs and error-budget policies, all in the caller's transaction.

The steps cross two domains (an SLO may name a policy; policies attach to SLOs), so they live
here rather than in either service: ``slo`` and ``policy`` never import each other for it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Literal

from sqlalchemy.orm import Session

from watchkeeper.incident import service as incident_service
from watchkeeper.incident.exceptions import UnknownSeverity
from watchkeeper.policy import service as policy_service
from watchkeeper.slo import service as slo_service
from watchkeeper.slo.exceptions import UnknownPolicy
from watchkeeper.specs import SpecSet
from watchkeeper.specs.problems import Problem, SpecError


@dataclass
class ApplyResult:
    """What ``apply`` changed, by SLO key and policy name."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    policies_created: list[str] = field(default_factory=list)
    policies_updated: list[str] = field(default_factory=list)
    policies_unchanged: list[str] = field(default_factory=list)


def check_policy_references(session: Session, *, spec_set: SpecSet) -> None:
    """Refuse SLOs naming a policy that neither the spec set nor the database holds."""
    named = {slo.policy: slo.key for slo in spec_set.slos if slo.policy is not None}
    if not named:
        return
    known = {p.name for p in spec_set.policies} | {
        p.name for p in policy_service.list_policies(session)
    }
    missing = sorted(set(named) - known)
    if missing:
        described = ", ".join(f"{name!r} (named by {named[name]})" for name in missing)
        raise UnknownPolicy(
            f"no error-budget policy {described} has been applied; apply the policy first "
            "or in the same command"
        )


def check_incident_severities(session: Session, *, spec_set: SpecSet) -> None:
    """Refuse policies whose ``incidents.severities`` name a severity not configured (a typo
    would otherwise let every incident through the gate); each problem names file and line."""
    problems: list[Problem] = []
    for policy in spec_set.policies:
        for name in policy.incidents.severities or ():
            try:
                incident_service.check_severity(session, name)
            except UnknownSeverity as exc:
                at = spec_set.severities_at.get(policy.name) or Problem(
                    "", 0, None, "incidents.severities", ""
                )
                detail = exc.detail.removeprefix("severity: ")
                problems.append(replace(at, message=f"policy {policy.name!r}: {detail}"))
    if problems:
        raise SpecError(problems)


def apply(session: Session, *, spec_set: SpecSet, now: datetime) -> ApplyResult:
    """Create or update every SLO and policy of a validated spec set (the caller commits)."""
    check_policy_references(session, spec_set=spec_set)
    check_incident_severities(session, spec_set=spec_set)
    slos = slo_service.upsert(session, slos=spec_set.slos, formats=spec_set.formats, now=now)
    result = ApplyResult(created=slos.created, updated=slos.updated, unchanged=slos.unchanged)
    outcomes: dict[Literal["created", "updated", "unchanged"], list[str]] = {
        "created": result.policies_created,
        "updated": result.policies_updated,
        "unchanged": result.policies_unchanged,
    }
    for policy in spec_set.policies:
        outcomes[policy_service.upsert(session, policy=policy, now=now)].append(policy.name)
    session.flush()
    return result
