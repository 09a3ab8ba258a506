"""Reads that intake repeats for every new group, kept once per transaction.

Routing rules, silences and escalation policies are read for each group that opens. Intake
never changes them, and on SQLite one intake transaction holds a batch of requests (see
commit_queue), so an intake transaction marks itself with :func:`enable` and reads each of
them once; every other transaction reads them afresh. The cache ends with the transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import event
from sqlalchemy.orm import Session

T = TypeVar("T")
_KEY = "watchkeeper.alerting.read_cache"


def enable(session: Session) -> None:
    """Keep this transaction's reads of routing rules, silences and policies (intake only:
    it must not change them in the same transaction)."""
    session.info.setdefault(_KEY, {})


def read(session: Session, key: str, load: Callable[[], T]) -> T:
    """``load()``, once per transaction where :func:`enable` was called, else every time."""
    reads: dict[str, Any] | None = session.info.get(_KEY)
    if reads is None:
        return load()
    if key not in reads:
        reads[key] = load()
    found: T = reads[key]
    return found


@event.listens_for(Session, "after_transaction_end")
def _forget(session: Session, transaction: Any) -> None:
    if transaction.parent is None:  # the outermost transaction, not a savepoint
        session.info.pop(_KEY, None)
