"""Errors of rule generation."""

from __future__ import annotations

from watchkeeper.errors import InvalidInput


class RulesError(InvalidInput):
    """Rules cannot be generated for the given SLOs; the detail names each SLO and why."""
