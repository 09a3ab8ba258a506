"""Errors of metrics sources: a source not configured, a query refused, a source unreachable.

Each names the SLO and the query that failed, with the source's own message, so the SLO's
status (and the CLI and API) say exactly what to fix. "Unreachable" (the source is down, slow
or answering 5xx) is kept apart from a refused query: it never counts as good or bad and
keeps the SLO's alert state as it was.
"""

from __future__ import annotations

from watchkeeper.errors import Conflict, Unavailable

UNREACHABLE = "source unreachable"


class SourceError(Conflict):
    """An SLO's metrics source could not give its figures."""


class SourceNotConfigured(SourceError):
    """The SLO reads a source that is not configured."""


class QueryFailed(SourceError):
    """The source refused or could not answer a query (bad PromQL, several series, ...)."""


class SourceUnreachable(Unavailable):
    """The source is down, timed out or answered 5xx: no data, never good or bad."""


class RequestProblem(Exception):
    """A failed request to a source, before it is tied to an SLO (kept in the tick's cache)."""

    def __init__(self, message: str, *, unreachable: bool) -> None:
        super().__init__(message)
        self.message = message
        self.unreachable = unreachable

    def for_query(self, slo_key: str, query: str) -> SourceUnreachable | QueryFailed:
        """The error to report for one SLO's query."""
        if self.unreachable:
            return SourceUnreachable(
                f"{UNREACHABLE}: SLO {slo_key!r}, query {query!r}: {self.message}"
            )
        return QueryFailed(f"SLO {slo_key!r}, query {query!r}: {self.message}")
