"""Routing rules: an ordered global list; the first rule whose matchers all match an alert
group's labels (and whose ``integration``, if set, is the group's) picks its escalation policy
and urgency; the integration's defaults apply otherwise. A rule's optional ``incident`` (a
severity name) is copied onto the groups it opens, and the worker declares an incident for
them; its name is checked by a validator the caller passes (alerting does not know incidents)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy.orm import Session

from watchkeeper.alerting import repository, service
from watchkeeper.alerting.exceptions import InvalidRoutes
from watchkeeper.alerting.models import RoutingRule
from watchkeeper.core.matchers import parse_matchers
from watchkeeper.errors import WatchkeeperError
from watchkeeper.oncall import service as oncall_service
from watchkeeper.specs.yaml_nodes import parse_documents

# The longest name, integration and policy columns of alert_routing_rule hold.
_MAX_FIELD_CHARS = 200
_ROUTE_FIELDS = ("name", "match", "integration", "escalation_policy", "urgency", "incident")


def _route_field(rule: Mapping[str, Any], index: int, field: str) -> str | None:
    value = rule.get(field)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise InvalidRoutes(f"routes[{index}].{field}: must be a non-empty string")
    if len(value.strip()) > _MAX_FIELD_CHARS:
        raise InvalidRoutes(f"routes[{index}].{field}: longer than {_MAX_FIELD_CHARS} characters")
    return value.strip()


def apply(
    session: Session,
    *,
    rules: Sequence[Any],
    incident_severity: Callable[[str], str] | None = None,
) -> list[RoutingRule]:
    """Replace the routing rules (first match wins) after checking every one of them.

    ``incident_severity`` checks a rule's ``incident`` field and returns the severity's
    configured spelling (raising on an unknown one); without it the field is refused.
    """
    built: list[RoutingRule] = []
    for index, rule in enumerate(rules):
        if not isinstance(rule, Mapping):
            raise InvalidRoutes(f"routes[{index}]: must be a mapping")
        unknown = sorted(set(map(str, rule)) - set(_ROUTE_FIELDS))
        if unknown:
            raise InvalidRoutes(
                f"routes[{index}].{unknown[0]}: unknown field; "
                f"fields are {', '.join(_ROUTE_FIELDS)}"
            )
        match = rule.get("match", [])
        if isinstance(match, str):
            match = [match]
        if not isinstance(match, list) or not all(isinstance(m, str) for m in match):
            raise InvalidRoutes(f"routes[{index}].match: must be a list of matchers")
        try:
            parsed = parse_matchers(match)
        except ValueError as exc:
            raise InvalidRoutes(f"routes[{index}].match: {exc}") from None
        urgency = _route_field(rule, index, "urgency")
        if urgency is not None and urgency not in service.URGENCIES:
            raise InvalidRoutes(f"routes[{index}].urgency: must be high or low, not {urgency!r}")
        integration = _route_field(rule, index, "integration")
        if integration is not None:
            try:
                service.get_integration(session, name=integration)
            except WatchkeeperError as exc:
                raise InvalidRoutes(f"routes[{index}].integration: {exc}") from None
        policy = _route_field(rule, index, "escalation_policy")
        if policy is not None:
            # A rule routing to a policy that does not exist would page nobody: refused, as
            # Alertmanager refuses a route to an unknown receiver.
            try:
                oncall_service.escalation_policy(session, policy)
            except WatchkeeperError as exc:
                raise InvalidRoutes(f"routes[{index}].escalation_policy: {exc}") from None
        incident = _route_field(rule, index, "incident")
        if incident is not None:
            if incident_severity is None:
                raise InvalidRoutes(
                    f"routes[{index}].incident: incident severities are unknown here"
                )
            try:
                incident = incident_severity(incident)
            except WatchkeeperError as exc:
                raise InvalidRoutes(f"routes[{index}].incident: {exc}") from None
        built.append(
            RoutingRule(
                position=index,
                name=_route_field(rule, index, "name") or f"route {index + 1}",
                matchers=[str(m) for m in parsed],
                integration=integration,
                escalation_policy=policy,
                urgency=urgency,
                incident=incident,
            )
        )
    repository.replace_routing_rules(session, built)
    return built


def parse_file(text: str, *, filename: str) -> list[Any]:
    """The ``routes:`` list of a routing-rules YAML file (bounded loading)."""
    documents, problem = parse_documents(text, filename)
    if problem is not None:
        raise InvalidRoutes(str(problem))
    if len(documents) != 1 or not isinstance(documents[0].value, Mapping):
        raise InvalidRoutes(f"{filename}: expected one YAML document with a 'routes:' list")
    routes = documents[0].value.get("routes")
    if not isinstance(routes, list):
        raise InvalidRoutes(f"{filename}: routes: must be a list of rules")
    return routes


def list_rules(session: Session) -> list[RoutingRule]:
    """Routing rules in order."""
    return repository.routing_rules(session)


def document(rule: RoutingRule) -> dict[str, Any]:
    """A routing rule as the API and CLI show it."""
    return {
        "position": rule.position,
        "name": rule.name,
        "match": rule.matchers,
        "integration": rule.integration,
        "escalation_policy": rule.escalation_policy,
        "urgency": rule.urgency,
        "incident": rule.incident,
    }
