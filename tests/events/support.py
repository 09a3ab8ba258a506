"""What the event-store tests share: the SLIs they register, event files, a data directory."""

from __future__ import annotations

from pathlib import Path

import pytest

from watchkeeper.config import Settings
from watchkeeper.core.slo import SLI, SLIKind
from watchkeeper.db import make_engine, make_session_factory, session_scope, utcnow
from watchkeeper.events import service
from watchkeeper.events.datafile import read_rows
from watchkeeper.events.exceptions import EventProblem, InvalidEvents
from watchkeeper.migrate import upgrade_to_head

# 'checkout' takes counts; 'latency' takes observations, good at or under 0.3.
SLIS = [SLI("checkout"), SLI("latency", kind=SLIKind.THRESHOLD, threshold=0.3)]


def write(tmp_path: Path, name: str, text: str) -> Path:
    """An event file of ``text`` named ``name``."""
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def problems_of(path: Path) -> list[EventProblem]:
    """The problems reading ``path`` reports (it must report some)."""
    with pytest.raises(InvalidEvents) as caught:
        list(read_rows(path))
    return caught.value.problems


def registered_data_dir(tmp_path: Path) -> Path:
    """A data dir whose upgraded SQLite database knows :data:`SLIS`."""
    directory = tmp_path / "data"
    engine = make_engine(Settings(data_dir=directory).resolved_database_url())
    upgrade_to_head(engine)
    with session_scope(make_session_factory(engine)) as session:
        service.register_slis(session, SLIS, now=utcnow())
    engine.dispose()
    return directory
