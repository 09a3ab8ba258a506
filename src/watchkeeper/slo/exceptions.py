"""Errors of the SLO domain."""

from datetime import UTC, datetime

from watchkeeper.errors import Conflict, InvalidInput, NotFound

# Evaluation looks up to a year back (quarters, long windows) and forward (forecasts).
EARLIEST = datetime(1971, 1, 1, tzinfo=UTC)
LATEST = datetime(9998, 1, 1, tzinfo=UTC)


class SLONotFound(NotFound):
    """No SLO with that key has been applied."""


class ServiceNotFound(NotFound):
    """No SLO has been applied for that service."""


class TimeOutOfRange(InvalidInput):
    """An evaluation time too far from today for the calendar to hold its windows."""


def check_evaluation_time(at: datetime) -> datetime:
    """``at`` itself when windows of a year around it fit the calendar, else TimeOutOfRange."""
    if not EARLIEST <= at <= LATEST:
        raise TimeOutOfRange(
            f"evaluation time {at.isoformat()} is out of range: use a time between "
            f"{EARLIEST.year} and {LATEST.year}"
        )
    return at


class KeyMismatch(InvalidInput):
    """A PUT body describes a different SLO than its URL."""


class NotEvaluable(Conflict):
    """The SLO cannot be evaluated by Watchkeeper itself (e.g. it reads Prometheus)."""


class EvaluationFailed(NotEvaluable):
    """The SLO's stored definition cannot be evaluated (a spec stored before validation
    refused it, say): the SLO is shown as failing while every other SLO carries on."""

    def __init__(self, key: str, problem: str) -> None:
        super().__init__(f"SLO {key!r} cannot be evaluated: {problem}")
        self.key = key
        self.problem = problem


class UnknownPolicy(InvalidInput):
    """An SLO names an error-budget policy that has not been applied."""


class InvalidBacktestRange(InvalidInput):
    """A backtest's range is empty, reaches into the future or is longer than allowed."""
