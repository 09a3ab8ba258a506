"""What start-up loaded is frozen out of full collections before serving; later garbage is
still collected."""

from __future__ import annotations

import gc
import weakref

from watchkeeper.app import settle_heap


class _Node:
    def __init__(self) -> None:
        self.me = self  # a cycle: only the collector frees it


def test_settle_heap_freezes_what_exists_and_still_collects_what_comes_later() -> None:
    before = gc.get_freeze_count()
    try:
        settle_heap()
        assert gc.get_freeze_count() > before
        later = _Node()
        gone = weakref.ref(later)
        del later
        gc.collect()
        assert gone() is None
    finally:
        gc.unfreeze()
