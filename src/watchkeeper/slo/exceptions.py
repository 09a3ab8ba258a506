"""Errors of the SLO domain."""

from watchkeeper.errors import Conflict, InvalidInput, NotFound


class SLONotFound(NotFound):
    """No SLO with that key has been applied."""


class ServiceNotFound(NotFound):
    """No SLO has been applied for that service."""


class KeyMismatch(InvalidInput):
    """A PUT body describes a different SLO than its URL."""


class NotEvaluable(Conflict):
    """The SLO cannot be evaluated by Watchkeeper itself (e.g. it reads Prometheus)."""


class UnknownPolicy(InvalidInput):
    """An SLO names an error-budget policy that has not been applied."""
