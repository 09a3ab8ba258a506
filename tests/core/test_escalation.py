"""Escalation policies: positions through steps and rounds, snapshots, validation."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from watchkeeper.core.escalation import (
    EscalationError,
    EscalationPolicy,
    EscalationStep,
    Position,
    Target,
    TargetKind,
    first_position,
    next_position,
    step_at,
)

MINUTE = timedelta(minutes=1)


def policy(steps: int = 2, repeat: int = 0) -> EscalationPolicy:
    return EscalationPolicy(
        "web",
        tuple(
            EscalationStep((Target(TargetKind.USER, f"user{i}"),), (i + 1) * 5 * MINUTE)
            for i in range(steps)
        ),
        repeat,
    )


def walk(p: EscalationPolicy) -> list[Position]:
    positions: list[Position] = []
    position: Position | None = first_position(p)
    while position is not None:
        positions.append(position)
        position = next_position(p, position)
    return positions


@pytest.mark.parametrize(
    ("steps", "repeat", "expected"),
    [
        (1, 0, [(0, 0)]),
        (2, 0, [(0, 0), (0, 1)]),
        (2, 1, [(0, 0), (0, 1), (1, 0), (1, 1)]),
        (1, 2, [(0, 0), (1, 0), (2, 0)]),
    ],
)
def test_positions(steps: int, repeat: int, expected: list[tuple[int, int]]) -> None:
    p = policy(steps, repeat)
    assert walk(p) == [Position(r, s) for r, s in expected]
    assert step_at(p, Position(0, steps - 1)).wait == steps * 5 * MINUTE


@given(steps=st.integers(1, 6), repeat=st.integers(0, 5))
def test_every_step_runs_once_per_round(steps: int, repeat: int) -> None:
    assert len(walk(policy(steps, repeat))) == steps * (repeat + 1)


def test_snapshot_round_trips() -> None:
    p = EscalationPolicy(
        "db",
        (
            EscalationStep(
                (
                    Target(TargetKind.SCHEDULE, "primary"),
                    Target(TargetKind.CHANNEL, "slack:https://hooks.example/x"),
                ),
                15 * MINUTE,
            ),
            EscalationStep((Target(TargetKind.SCHEDULE_LAYER, "primary", "day"),), 90 * MINUTE),
        ),
        repeat=2,
    )
    snapshot = p.to_json()
    assert snapshot["steps"][1] == {
        "targets": [{"kind": "schedule_layer", "name": "primary", "layer": "day"}],
        "wait": "1h30m",
    }
    assert EscalationPolicy.from_json(snapshot) == p


@pytest.mark.parametrize(
    ("build", "field"),
    [
        (lambda: EscalationPolicy("p", ()), "steps"),
        (lambda: policy(repeat=-1), "repeat"),
        (lambda: EscalationStep((), MINUTE), "steps.targets"),
        (lambda: EscalationStep((Target(TargetKind.USER, "a"),), timedelta(0)), "steps.wait"),
        (lambda: Target(TargetKind.CHANNEL, "pager:123"), "targets.channel"),
        (lambda: Target(TargetKind.SCHEDULE_LAYER, "s"), "targets.layer"),
        (lambda: EscalationPolicy.from_json({"name": "x"}), "policy"),
    ],
)
def test_validation_names_the_field(build: object, field: str) -> None:
    with pytest.raises(EscalationError) as caught:
        build()  # type: ignore[operator]
    assert caught.value.field == field
