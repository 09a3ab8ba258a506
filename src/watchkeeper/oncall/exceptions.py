"""Errors of the on-call domain."""

from watchkeeper.errors import Conflict, InvalidInput, NotFound


class ScheduleNotFound(NotFound):
    """No schedule has that name."""


class PolicyNotFound(NotFound):
    """No escalation policy has that name."""


class InvalidCalendar(InvalidInput):
    """An iCalendar feed or file cannot be read or names unknown users."""


class SpanTooLarge(InvalidInput):
    """A final schedule over this span would hold too many handoffs."""


class NameTaken(Conflict):
    """A schedule or policy of that name was created concurrently."""
