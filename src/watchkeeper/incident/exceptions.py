"""Errors of the incident domain."""

from watchkeeper.errors import Conflict, InvalidInput, NotFound


class IncidentNotFound(NotFound):
    """No incident has that id."""


class UnknownSeverity(InvalidInput):
    """A severity name that is not configured."""


class InvalidTransition(Conflict):
    """The incident cannot move to that status from where it is."""


class SeverityInUse(Conflict):
    """A severity that incidents still use cannot be removed."""


class GroupAlreadyInIncident(Conflict):
    """The alert group is linked to an open incident already (the body names it)."""
