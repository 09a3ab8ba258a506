"""Pydantic schemas of the event API.

The endpoint validates bodies with :func:`watchkeeper.events.datafile.parse_records` (the same
checks as data files, ~10x faster than a model per event); these models document the format
in OpenAPI and serve clients that build events in Python.
"""

from __future__ import annotations

from typing import Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from watchkeeper.events import datafile


class EventIn(BaseModel):
    """One SLI event: ``good`` and ``total`` counts, or one observed ``value``."""

    model_config = ConfigDict(extra="ignore")

    time: str | float = Field(
        description="RFC 3339 with an offset (2026-11-23T10:00:00Z) or Unix seconds.",
        examples=["2026-11-23T10:00:00Z", 1795428000],
    )
    sli: str = Field(min_length=1, max_length=200, description="The SLI's name.")
    good: int | None = Field(default=None, ge=0, le=datafile.MAX_COUNT)
    total: int | None = Field(default=None, ge=0, le=datafile.MAX_COUNT)
    value: float | None = Field(
        default=None, allow_inf_nan=False, description="An observation of a threshold SLI."
    )

    @field_validator("time")
    @classmethod
    def _time_has_offset(cls, time: str | float) -> str | float:
        datafile.parse_time(time)  # its ValueError carries the reason
        return time

    @field_validator("sli")
    @classmethod
    def _sli_not_blank(cls, sli: str) -> str:
        if not sli.strip():
            raise ValueError("must not be empty")
        return sli.strip()

    @model_validator(mode="after")
    def _counts_or_value(self) -> Self:
        has_counts = self.good is not None or self.total is not None
        if has_counts and self.value is not None:
            raise ValueError("give either value (an observation) or good and total, not both")
        if not has_counts and self.value is None:
            raise ValueError("missing fields: give good and total, or value")
        if has_counts:
            if self.good is None or self.total is None:
                raise ValueError("give both good and total")
            if self.good > self.total:
                raise ValueError(f"good ({self.good}) exceeds total ({self.total})")
        return self

    @property
    def seconds(self) -> float:
        """The event time in Unix seconds."""
        return datafile.parse_time(self.time)


class EventBatch(BaseModel):
    """``POST /api/v1/events`` body (a bare JSON array of events is accepted too)."""

    events: list[EventIn]


class IngestResultRead(BaseModel):
    """Outcome of an ingest: events accepted and buckets touched."""

    accepted: int
    buckets: int
