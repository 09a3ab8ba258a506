"""The Pydantic event schemas apply the same rules as the data file parser."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from watchkeeper.events.schemas import EventBatch, EventIn, IngestResultRead

T0 = 1_795_428_000


def test_valid_events() -> None:
    batch = EventBatch.model_validate(
        {
            "events": [
                {"time": "2026-11-23T11:00:00+01:00", "sli": " checkout ", "good": 1, "total": 2},
                {"time": T0, "sli": "latency", "value": 0.2},
            ]
        }
    )
    assert [e.seconds for e in batch.events] == [T0, T0]
    assert batch.events[0].sli == "checkout"
    assert IngestResultRead(accepted=2, buckets=1).model_dump() == {"accepted": 2, "buckets": 1}


@pytest.mark.parametrize(
    ("event", "message"),
    [
        ({"time": "2026-11-23T10:00:00", "sli": "a", "good": 1, "total": 1}, "no UTC offset"),
        ({"time": T0, "sli": "a", "good": 2, "total": 1}, "exceeds total"),
        ({"time": T0, "sli": "a", "good": -1, "total": 1}, "greater than or equal to 0"),
        ({"time": T0, "sli": "a", "good": 1}, "give both good and total"),
        ({"time": T0, "sli": "a", "good": 1, "total": 1, "value": 1.0}, "not both"),
        ({"time": T0, "sli": "a"}, "give good and total, or value"),
        ({"time": T0, "sli": "  ", "value": 1.0}, "must not be empty"),
        ({"time": T0, "sli": "a", "value": "inf"}, "finite"),
    ],
)
def test_invalid_events(event: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        EventIn.model_validate(event)
