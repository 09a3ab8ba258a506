"""Tells in-process delivery loops that a notification was committed, so it is sent at once."""

from __future__ import annotations

import threading
from collections.abc import Callable

from sqlalchemy import event
from sqlalchemy.orm import Session

_PENDING = "watchkeeper.notify.pending"
_LISTENING = "watchkeeper.notify.listening"
_lock = threading.Lock()
_listeners: list[Callable[[], None]] = []


def subscribe(listener: Callable[[], None]) -> None:
    """Call ``listener`` after each commit that enqueued a notification in this process."""
    with _lock:
        _listeners.append(listener)


def unsubscribe(listener: Callable[[], None]) -> None:
    """Stop calling ``listener``."""
    with _lock:
        if listener in _listeners:
            _listeners.remove(listener)


def after_commit(session: Session) -> None:
    """Arrange for the listeners to be called when ``session`` commits."""
    session.info[_PENDING] = True
    if not session.info.get(_LISTENING):
        session.info[_LISTENING] = True
        event.listen(session, "after_commit", _committed)
        event.listen(session, "after_rollback", _rolled_back)


def _committed(session: Session) -> None:
    if session.info.pop(_PENDING, False):
        with _lock:
            listeners = list(_listeners)
        for listener in listeners:
            listener()


def _rolled_back(session: Session) -> None:
    session.info.pop(_PENDING, None)
