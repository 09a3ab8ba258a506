"""Errors of alert intake and alert groups."""

from watchkeeper.errors import Conflict, InvalidInput, NotFound, Unavailable


class IntegrationNotFound(NotFound):
    """No integration with that name, or (for intake) no enabled integration with that key."""


class IntegrationNameTaken(Conflict):
    """An integration with that name exists."""


class InvalidIntegration(InvalidInput):
    """An integration request with a bad name, type or urgency."""


class AlertGroupNotFound(NotFound):
    """No alert group with that id."""


class InvalidAlertAction(Conflict):
    """The action does not apply to the group's current state (acknowledging a resolved one)."""


class SilenceNotFound(NotFound):
    """No silence with that id."""


class InvalidSilence(InvalidInput):
    """A silence or maintenance window with bad matchers or times."""


class InvalidRoutes(InvalidInput):
    """A routing-rule file that does not parse."""


class InvalidActionLink(InvalidInput):
    """A signed action link that is forged, expired or for another action."""


class IntakeRaced(Unavailable):
    """A concurrent intake stored the same group first (a unique key clashed): retry."""
