"""Metrics sources: where SLO counts come from (the built-in event store, Prometheus, fakes).

See :mod:`watchkeeper.sources.base` for the protocol and :mod:`watchkeeper.sources.registry`
for how sources are configured.
"""

from watchkeeper.sources.base import Counts, MetricsSource, Span
from watchkeeper.sources.exceptions import (
    QueryFailed,
    SourceError,
    SourceNotConfigured,
    SourceUnreachable,
)

__all__ = [
    "Counts",
    "MetricsSource",
    "QueryFailed",
    "SourceError",
    "SourceNotConfigured",
    "SourceUnreachable",
    "Span",
]
