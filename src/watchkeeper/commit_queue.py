"""Short write transactions from many threads, committed in batches on SQLite.

SQLite has one writer at a time, so concurrent intake requests would queue for its lock
anyway; instead of one transaction each, the thread whose turn it is runs every unit of
work waiting at that moment in one transaction and commits once (a "group commit"). Each
caller still returns only after the commit that holds its work, so a 2xx still means
stored. When any unit in a batch fails, the batch is rolled back and every unit runs again
alone, so one bad request fails by itself and the others are stored as if they had come
one by one (intake is idempotent, and nothing of the failed batch was committed). A lone
caller is never delayed: with nothing else waiting, its batch is itself.

On PostgreSQL, which runs writers concurrently, each unit is its own transaction.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy.orm import Session, sessionmaker

from watchkeeper.db import session_scope

T = TypeVar("T")

# Most units of work one batch holds: a bigger batch makes its first caller wait longer.
MAX_BATCH = 32


@dataclass(eq=False)
class _Unit(Generic[T]):
    work: Callable[[Session], T]
    done: bool = False
    result: T | None = None
    error: BaseException | None = None

    def outcome(self) -> T:
        if self.error is not None:
            raise self.error
        return self.result  # type: ignore[return-value]  # set when done without error


class CommitQueue:
    """Runs units of work (``work(session) -> result``) and returns after their commit."""

    def __init__(self, factory: Callable[[], sessionmaker[Session]], *, batched: bool) -> None:
        # The session factory is looked up per batch (the app's may be replaced, e.g. in tests).
        self._factory = factory
        self._batched = batched
        self._turn = threading.Condition()
        self._waiting: list[_Unit[Any]] = []
        self._running = False

    def run(self, work: Callable[[Session], T]) -> T:
        """Run ``work`` in a transaction and return its result once that commits; what it
        raises (or the commit raises) is raised here, and nothing of it is stored."""
        if not self._batched:
            with session_scope(self._factory()) as session:
                return work(session)
        unit = _Unit(work)
        with self._turn:
            self._waiting.append(unit)
        while True:
            with self._turn:
                while self._running and not unit.done:
                    self._turn.wait()
                if unit.done:
                    return unit.outcome()
                self._running = True
                batch = self._waiting[:MAX_BATCH]
                del self._waiting[:MAX_BATCH]
            try:
                self._commit(batch)
            finally:
                with self._turn:
                    self._running = False
                    for waiting in batch:
                        if not waiting.done and waiting.error is None:
                            waiting.error = RuntimeError(
                                "the batch holding this work was cut short"
                            )
                        waiting.done = True
                    self._turn.notify_all()

    def _commit(self, batch: list[_Unit[Any]]) -> None:
        if len(batch) > 1:
            try:
                with session_scope(self._factory()) as session:
                    results = [unit.work(session) for unit in batch]
            except Exception:
                pass  # each unit runs again alone below
            else:
                for unit, result in zip(batch, results, strict=True):
                    unit.result = result
                    unit.done = True
                return
        for unit in batch:
            try:
                with session_scope(self._factory()) as session:
                    unit.result = unit.work(session)
            except Exception as exc:
                unit.error = exc
            unit.done = True
