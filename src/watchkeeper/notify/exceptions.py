"""Errors of the notification domain."""

from __future__ import annotations

from watchkeeper.errors import Conflict, InvalidInput, NotFound


class InvalidNotification(InvalidInput):
    """A notification was asked for with an unknown channel or an unusable address."""


class NotificationNotFound(NotFound):
    """No notification has this id."""


class NotRetryable(Conflict):
    """Only a failed notification can be retried."""


class DeliveryError(Exception):
    """A notifier could not hand a message over; ``retryable``: trying again may help."""

    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.message = message
        self.retryable = retryable
