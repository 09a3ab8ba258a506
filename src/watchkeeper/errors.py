"""The Watchkeeper error tree. Each error carries the HTTP status an API caller receives."""

from __future__ import annotations

from typing import Any, ClassVar


class WatchkeeperError(Exception):
    """Base of every error Watchkeeper reports to a caller."""

    status_code: ClassVar[int] = 500

    def __init__(self, detail: str, *, extra: dict[str, Any] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra or {}

    def to_dict(self) -> dict[str, Any]:
        """The JSON error body: ``{"error": ClassName, "detail": ...}`` plus any extra fields."""
        return {"error": type(self).__name__, "detail": self.detail, **self.extra}


class NotFound(WatchkeeperError):
    """A named thing does not exist."""

    status_code = 404


class Conflict(WatchkeeperError):
    """The request contradicts the current state."""

    status_code = 409


class InvalidInput(WatchkeeperError):
    """The caller sent something malformed or out of range."""

    status_code = 422


class Unauthorized(WatchkeeperError):
    """No valid credentials were presented."""

    status_code = 401


class Forbidden(WatchkeeperError):
    """The credentials do not allow this action."""

    status_code = 403


class PayloadTooLarge(WatchkeeperError):
    """The request body holds more than Watchkeeper accepts at once."""

    status_code = 413


class TooManyRequests(WatchkeeperError):
    """The caller must wait before trying again (``retry_after`` seconds)."""

    status_code = 429

    def __init__(self, detail: str, *, retry_after: int) -> None:
        super().__init__(detail, extra={"retry_after": retry_after})
        self.retry_after = retry_after


class Unavailable(WatchkeeperError):
    """A dependency (database, metrics source) is not reachable."""

    status_code = 503


class StorageFailed(WatchkeeperError):
    """The database refused a change (for example at commit); nothing was stored."""

    status_code = 500
