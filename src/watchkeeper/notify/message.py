"""The notification message every producer builds and every notifier renders."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

KINDS = ("page", "reminder", "acknowledged", "resolved", "notice", "test")
URGENCIES = ("high", "low")


@dataclass(frozen=True)
class Message:
    """What a notification says, independent of the channel that carries it."""

    kind: str
    title: str
    summary: str
    urgency: str = "high"
    fields: tuple[tuple[str, str], ...] = ()
    links: tuple[tuple[str, str], ...] = ()
    alert_group_id: int | None = None
    incident_id: int | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"message kind {self.kind!r} is not one of {', '.join(KINDS)}")
        if self.urgency not in URGENCIES:
            raise ValueError(f"urgency {self.urgency!r} is not one of {', '.join(URGENCIES)}")
        if not self.title.strip():
            raise ValueError("message title is empty")

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (pairs become two-item lists); inverse of :meth:`from_json`."""
        return {
            "kind": self.kind,
            "title": self.title,
            "summary": self.summary,
            "urgency": self.urgency,
            "fields": [[label, value] for label, value in self.fields],
            "links": [[label, url] for label, url in self.links],
            "alert_group_id": self.alert_group_id,
            "incident_id": self.incident_id,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Message:
        """The message stored by :meth:`to_json`."""
        return cls(
            kind=str(data["kind"]),
            title=str(data["title"]),
            summary=str(data.get("summary", "")),
            urgency=str(data.get("urgency", "high")),
            fields=tuple((str(label), str(value)) for label, value in data.get("fields", ())),
            links=tuple((str(label), str(url)) for label, url in data.get("links", ())),
            alert_group_id=_optional_int(data.get("alert_group_id")),
            incident_id=_optional_int(data.get("incident_id")),
        )


def _optional_int(value: Any) -> int | None:
    return None if value is None else int(value)
