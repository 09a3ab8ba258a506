"""Test notifiers and helpers shared by the notification tests."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from watchkeeper.notify.exceptions import DeliveryError
from watchkeeper.notify.message import Message
from watchkeeper.notify.notifiers import Delivery

AT = datetime(2026, 12, 2, 1, 0, tzinfo=UTC)


def page(title: str = "[FIRING:1] HighErrorRate checkout", group: int | None = 7) -> Message:
    """A page of alert group ``group``."""
    return Message(
        kind="page",
        title=title,
        summary="error rate above 5 %",
        fields=(("Service", "checkout"),),
        links=(("Runbook", "https://runbooks.example/checkout"),),
        alert_group_id=group,
    )


class RecordingNotifier:
    """Records deliveries; ``behaviour`` may raise to simulate a failing receiver."""

    def __init__(self, kind: str, behaviour: Callable[[Delivery], None] | None = None) -> None:
        self.kind = kind
        self.sent: list[Delivery] = []
        self._behaviour = behaviour

    def send(self, delivery: Delivery) -> None:
        """Record, then run the behaviour."""
        self.sent.append(delivery)
        if self._behaviour is not None:
            self._behaviour(delivery)


def failing(message: str, *, retryable: bool) -> Callable[[Delivery], None]:
    """A behaviour that always raises DeliveryError."""

    def behaviour(_delivery: Delivery) -> None:
        raise DeliveryError(message, retryable=retryable)

    return behaviour
