"""SLO records stored the way an older Watchkeeper could store them, bypassing validation.

``forever`` has a ``5000y`` window: evaluating it raises OverflowError (and once validation
refuses such windows, its stored spec no longer parses). ``broken`` has an objective of 2,
which the spec reader refuses. Both sit next to the ``shop`` scenario's healthy SLOs.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from tests.slo.scenario import AT
from watchkeeper.slo.models import SLORecord

FOREVER = "shop/forever"
BROKEN = "shop/broken"


def spec(name: str, **changes: Any) -> dict[str, Any]:
    """A stored single-SLO document on the scenario's request SLI, with ``changes``."""
    document: dict[str, Any] = {
        "apiVersion": "watchkeeper/v1",
        "kind": "SLO",
        "service": "shop",
        "name": name,
        "objective": 0.99,
        "window": "30d",
        "sli": {"name": "shop-requests"},
    }
    document.update(changes)
    return document


def insert(session: Session, name: str, document: dict[str, Any], *, at: datetime = AT) -> int:
    """Store an SLO record as is (no validation); returns its id."""
    record = SLORecord(
        key=f"shop/{name}",
        service="shop",
        name=name,
        sli_name="shop-requests",
        source_format="native",
        spec=document,
        created_at=at,
        updated_at=at,
    )
    session.add(record)
    session.flush()
    return record.id


def insert_both(session: Session) -> None:
    """Store ``forever`` (5000y window) and ``broken`` (objective 2)."""
    insert(session, "forever", spec("forever", window="5000y"))
    insert(session, "broken", spec("broken", objective=2))
