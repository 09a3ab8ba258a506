"""Escalation policies: ordered steps of targets, each with a wait before the next, repeated.

A policy runs its steps in order; after the last step it starts again from the first while
fewer than ``repeat`` extra rounds have run (``repeat = 0``: one round). Where an escalation
stands is a :class:`Position`. The policy is a plain value so an alert group can keep a JSON
snapshot of it (:meth:`EscalationPolicy.to_json`) and later edits do not change a running
escalation.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import Any

from watchkeeper.core.duration import format_duration, parse_duration

MAX_REPEAT = 100
CHANNEL_KINDS = ("slack", "webhook", "email", "console")


class EscalationError(ValueError):
    """An escalation policy is invalid; ``field`` names the offending field."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(f"{field_name}: {message}")
        self.field = field_name
        self.message = message


class TargetKind(StrEnum):
    """What a step notifies."""

    USER = "user"
    SCHEDULE = "schedule"  # whoever is on call in the schedule at the time
    SCHEDULE_LAYER = "schedule_layer"  # every user of one layer's rotation
    CHANNEL = "channel"  # a notification channel, e.g. "slack:https://hooks..."


@dataclass(frozen=True)
class Target:
    """One recipient of a step; ``layer`` only for SCHEDULE_LAYER."""

    kind: TargetKind
    name: str
    layer: str | None = None

    def __post_init__(self) -> None:
        if not self.name:
            raise EscalationError("targets.name", "a target needs a name")
        if (self.kind is TargetKind.SCHEDULE_LAYER) != (self.layer is not None):
            raise EscalationError(
                "targets.layer", "a layer is given exactly for schedule_layer targets"
            )
        if self.kind is TargetKind.CHANNEL:
            channel_kind, colon, address = self.name.partition(":")
            if not colon or channel_kind not in CHANNEL_KINDS or not address:
                raise EscalationError(
                    "targets.channel",
                    f"{self.name!r} is not KIND:ADDRESS with KIND one of "
                    + ", ".join(CHANNEL_KINDS),
                )

    def to_json(self) -> dict[str, Any]:
        """The target as JSON."""
        data: dict[str, Any] = {"kind": self.kind.value, "name": self.name}
        if self.layer is not None:
            data["layer"] = self.layer
        return data


@dataclass(frozen=True)
class EscalationStep:
    """Notify ``targets``, then wait ``wait`` before the next step."""

    targets: tuple[Target, ...]
    wait: timedelta

    def __post_init__(self) -> None:
        if not self.targets:
            raise EscalationError("steps.targets", "a step needs at least one target")
        if self.wait <= timedelta(0):
            raise EscalationError("steps.wait", "the wait must be positive")


@dataclass(frozen=True)
class EscalationPolicy:
    """A named policy: steps in order, run ``1 + repeat`` rounds."""

    name: str
    steps: tuple[EscalationStep, ...]
    repeat: int = 0

    def __post_init__(self) -> None:
        if not self.name:
            raise EscalationError("name", "a policy needs a name")
        if not self.steps:
            raise EscalationError("steps", "a policy needs at least one step")
        if not 0 <= self.repeat <= MAX_REPEAT:
            raise EscalationError("repeat", f"must be between 0 and {MAX_REPEAT}")

    def to_json(self) -> dict[str, Any]:
        """A JSON-serialisable snapshot (waits as durations such as ``15m``)."""
        return {
            "name": self.name,
            "repeat": self.repeat,
            "steps": [
                {
                    "targets": [t.to_json() for t in step.targets],
                    "wait": format_duration(step.wait),
                }
                for step in self.steps
            ],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> EscalationPolicy:
        """Read a snapshot written by :meth:`to_json`; EscalationError names a bad field."""
        try:
            steps = tuple(
                EscalationStep(
                    tuple(
                        Target(TargetKind(t["kind"]), str(t["name"]), t.get("layer"))
                        for t in step["targets"]
                    ),
                    parse_duration(str(step["wait"])),
                )
                for step in data["steps"]
            )
            return cls(str(data["name"]), steps, int(data.get("repeat", 0)))
        except EscalationError:
            raise
        except (KeyError, TypeError, ValueError) as exc:
            raise EscalationError("policy", f"not an escalation policy snapshot ({exc})") from None


@dataclass(frozen=True)
class Position:
    """Where an escalation stands: ``round`` (0-based) and ``step`` (0-based)."""

    round: int
    step: int


def first_position(policy: EscalationPolicy) -> Position:
    """The first step of the first round."""
    del policy
    return Position(0, 0)


def next_position(policy: EscalationPolicy, position: Position) -> Position | None:
    """The step after ``position``; after the last step, the next round or None when done."""
    if position.step + 1 < len(policy.steps):
        return Position(position.round, position.step + 1)
    if position.round < policy.repeat:
        return Position(position.round + 1, 0)
    return None


def step_at(policy: EscalationPolicy, position: Position) -> EscalationStep:
    """The step a position points at."""
    return policy.steps[position.step]
