"""CommitQueue: units of work from many threads, committed in batches on SQLite."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import (
    Column,
    Integer,
    MetaData,
    String,
    Table,
    create_engine,
    event,
    insert,
    select,
)
from sqlalchemy.orm import Session, sessionmaker

from watchkeeper.commit_queue import CommitQueue
from watchkeeper.db import make_engine, make_session_factory

metadata = MetaData()
rows = Table("row", metadata, Column("id", Integer, primary_key=True), Column("name", String))


@pytest.fixture
def factory(tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(f"sqlite:///{tmp_path / 'queue.db'}")
    metadata.create_all(engine)
    yield make_session_factory(engine)
    engine.dispose()


def _names(factory: sessionmaker[Session]) -> list[str]:
    with factory() as session:
        return sorted(session.scalars(select(rows.c.name)))


def _writer(name: str, *, fail: bool = False) -> Callable[[Session], str]:
    def work(session: Session) -> str:
        session.execute(insert(rows).values(name=name))
        if fail:
            raise ValueError(f"{name} is refused")
        return f"stored {name}"

    return work


def _run_while_first_holds(
    queue: CommitQueue, works: list[Callable[[Session], str]]
) -> list[str | BaseException]:
    """Run ``works`` from one thread each, the first holding its turn until all the others
    are waiting, so the others form one batch behind it."""
    outcomes: list[str | BaseException] = [""] * len(works)
    others_waiting = threading.Event()
    first_started = threading.Event()

    def first(session: Session) -> str:
        first_started.set()
        assert others_waiting.wait(10)
        return works[0](session)

    def call(index: int, work: Callable[[Session], str]) -> None:
        try:
            outcomes[index] = queue.run(work)
        except Exception as exc:
            outcomes[index] = exc

    threads = [threading.Thread(target=call, args=(0, first))]
    threads[0].start()
    assert first_started.wait(10)
    threads += [
        threading.Thread(target=call, args=(i, work)) for i, work in enumerate(works) if i > 0
    ]
    for thread in threads[1:]:
        thread.start()
    pause = threading.Event()
    for _ in range(2000):  # poll until every other caller is queued
        if len(queue._waiting) == len(works) - 1:
            break
        pause.wait(0.01)
    assert len(queue._waiting) == len(works) - 1
    others_waiting.set()
    for thread in threads:
        thread.join(10)
    return outcomes


def test_a_lone_caller_gets_its_result_after_the_commit(
    factory: sessionmaker[Session],
) -> None:
    queue = CommitQueue(lambda: factory, batched=True)
    assert queue.run(_writer("a")) == "stored a"
    assert _names(factory) == ["a"]


def test_waiting_callers_are_committed_in_one_batch(factory: sessionmaker[Session]) -> None:
    queue = CommitQueue(lambda: factory, batched=True)
    transactions: list[int] = []
    sessions = itertools.count()

    def counted(name: str) -> Callable[[Session], str]:
        def work(session: Session) -> str:
            transactions.append(session.info.setdefault("number", next(sessions)))
            return _writer(name)(session)

        return work

    works = [counted(f"n{i}") for i in range(6)]
    outcomes = _run_while_first_holds(queue, works)
    assert outcomes == [f"stored n{i}" for i in range(6)]
    assert _names(factory) == [f"n{i}" for i in range(6)]
    # The first ran alone; the five that waited behind it shared one transaction.
    assert len(set(transactions)) == 2


def test_a_failing_unit_fails_alone_and_the_rest_of_its_batch_is_stored(
    factory: sessionmaker[Session],
) -> None:
    queue = CommitQueue(lambda: factory, batched=True)
    works = [_writer("first"), _writer("ok1"), _writer("bad", fail=True), _writer("ok2")]
    outcomes = _run_while_first_holds(queue, works)
    assert outcomes[0] == "stored first"
    assert outcomes[1] == "stored ok1"
    assert isinstance(outcomes[2], ValueError) and "bad is refused" in str(outcomes[2])
    assert outcomes[3] == "stored ok2"
    assert _names(factory) == ["first", "ok1", "ok2"]


def test_a_failed_commit_is_raised_and_nothing_is_stored(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'gone.db'}")
    metadata.create_all(engine)
    factory = make_session_factory(engine)

    def fails_at_commit(session: Session) -> str:
        session.execute(insert(rows).values(name="never"))
        session.info["fail"] = True
        return "answered"

    @event.listens_for(factory, "before_commit")
    def refuse(session: Session) -> None:
        if session.info.get("fail"):
            raise RuntimeError("disk full")

    queue = CommitQueue(lambda: factory, batched=True)
    with pytest.raises(RuntimeError, match="disk full"):
        queue.run(fails_at_commit)
    assert _names(factory) == []
    engine.dispose()


def test_unbatched_runs_each_unit_in_its_own_transaction(factory: sessionmaker[Session]) -> None:
    queue = CommitQueue(lambda: factory, batched=False)
    assert queue.run(_writer("x")) == "stored x"
    with pytest.raises(ValueError, match="y is refused"):
        queue.run(_writer("y", fail=True))
    assert _names(factory) == ["x"]
