"""Configurable incident severities: listing them and replacing them from a YAML file.

```yaml
apiVersion: watchkeeper/v1
kind: IncidentSeverities
severities:            # worst first: the first gets rank 1
  - name: SEV1
    description: Critical
    response: 5m       # acknowledge within (optional)
    resolution: 4h     # resolve within (optional)
```
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.orm import Session

from watchkeeper.core.incident import SeverityTargets
from watchkeeper.incident import repository
from watchkeeper.incident.exceptions import SeverityInUse
from watchkeeper.incident.models import SeverityRecord
from watchkeeper.messages import plural
from watchkeeper.specs.cursor import Cursor, DocumentContext
from watchkeeper.specs.problems import Problem, SpecError
from watchkeeper.specs.yaml_nodes import parse_documents

FILE_FIELDS = ("apiVersion", "kind", "severities")
SEVERITY_FIELDS = ("name", "description", "response", "resolution")
SEVERITY_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9\-_.]{0,49}")
SEVERITY_NAME_RULE = "1 to 50 letters, digits, '-', '_' and '.', starting with a letter or digit"


def _read_severity_name(cursor: Cursor) -> str | None:
    return cursor.name(SEVERITY_NAME, SEVERITY_NAME_RULE)


@dataclass(frozen=True)
class Severity:
    """A configured severity with its targets."""

    name: str
    rank: int
    description: str
    response: timedelta | None
    resolution: timedelta | None

    def targets(self) -> SeverityTargets:
        """The core view used by the metrics."""
        return SeverityTargets(self.name, self.rank, self.response, self.resolution)


def _seconds(value: int | None) -> timedelta | None:
    return None if value is None else timedelta(seconds=value)


def list_severities(session: Session) -> list[Severity]:
    """Configured severities, worst first."""
    return [
        Severity(
            name=r.name,
            rank=r.rank,
            description=r.description,
            response=_seconds(r.response_target_seconds),
            resolution=_seconds(r.resolution_target_seconds),
        )
        for r in repository.severities(session)
    ]


def targets(session: Session) -> dict[str, SeverityTargets]:
    """Each severity's targets by name."""
    return {s.name: s.targets() for s in list_severities(session)}


def parse_severities(text: str, filename: str) -> list[Severity]:
    """Severities from an IncidentSeverities YAML document; SpecError naming file:line."""
    documents, problem = parse_documents(text, filename)
    problems: list[Problem] = [problem] if problem is not None else []
    if problem is None and len(documents) != 1:
        problems.append(Problem(filename, 0, None, "", "must hold exactly one YAML document"))
    if problems:
        raise SpecError(problems)
    doc = Cursor(DocumentContext(filename, 1, problems), documents[0].value)
    result: list[Severity] = []
    if doc.fields(FILE_FIELDS):
        if doc.has("kind") and doc.value["kind"] != "IncidentSeverities":
            doc.error_at("kind", "must be 'IncidentSeverities'")
        if doc.has("apiVersion") and doc.value["apiVersion"] != "watchkeeper/v1":
            doc.error_at("apiVersion", "must be 'watchkeeper/v1'")
        listed = doc.require("severities", " (a list, worst first)")
        items = listed.items() if listed is not None else None
        if items == []:
            doc.error_at("severities", "must list at least one severity")
        seen: dict[str, int | None] = {}
        for rank, item in enumerate(items or [], start=1):
            if not item.fields(SEVERITY_FIELDS):
                continue
            name = item.read("name", _read_severity_name, required=True)
            description = item.read("description", Cursor.text) or ""
            response = item.read("response", Cursor.duration)
            resolution = item.read("resolution", Cursor.duration)
            for field, value in (("response", response), ("resolution", resolution)):
                if value is not None and value < timedelta(seconds=1):
                    item.error_at(field, "must be at least 1s")
            if name is None:
                continue
            if name.lower() in seen:
                item.error_at(
                    "name", f"{name!r} is given twice (first on line {seen[name.lower()]})"
                )
            seen.setdefault(name.lower(), item.line)
            result.append(Severity(name, rank, description, response, resolution))
    if problems:
        raise SpecError(problems)
    return result


def replace(session: Session, *, severities: list[Severity]) -> list[Severity]:
    """Replace every severity; refused (SeverityInUse) when an incident uses a dropped one."""
    kept = {s.name for s in severities}
    dropped = sorted(repository.severities_in_use(session) - kept)
    if dropped:
        raise SeverityInUse(
            f"severities: {', '.join(dropped)} still used by incidents; keep "
            f"{'it' if len(dropped) == 1 else 'them'} in the list"
        )
    repository.replace_severities(
        session,
        [
            SeverityRecord(
                name=s.name,
                rank=s.rank,
                description=s.description,
                response_target_seconds=_whole_seconds(s.response),
                resolution_target_seconds=_whole_seconds(s.resolution),
            )
            for s in severities
        ],
    )
    return list_severities(session)


def _whole_seconds(value: timedelta | None) -> int | None:
    return None if value is None else int(value.total_seconds())


def describe(severities: list[Severity]) -> str:
    """``4 severities: SEV1, SEV2, ...``."""
    return f"{plural(len(severities), 'severity')}: {', '.join(s.name for s in severities)}"
