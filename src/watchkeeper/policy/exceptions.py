"""Errors of error-budget policies and the deploy gate."""

from watchkeeper.errors import NotFound


class PolicyNotFound(NotFound):
    """No policy with that name has been applied."""
