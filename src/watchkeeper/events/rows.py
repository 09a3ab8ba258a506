"""One SLI event row: field parsing, validation and column building.

Rows are the contract in ARCHITECTURE.md: ``time`` (RFC 3339 with an offset, or Unix
seconds), ``sli``, then ``good`` and ``total`` (non-negative integers, good <= total) or
``value``. A :class:`RowBuilder` collects rows into column chunks (NumPy arrays) and every
problem with its line or index; files (datafile.py) and API bodies both feed it.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray

from watchkeeper.events.exceptions import (
    EventProblem,
    ProblemLog,
)

DEFAULT_CHUNK_ROWS = 65_536
# Year 10000: later than anything RFC 3339 can write; earlier than 1970 is no SLI event.
MAX_TIME = 253_402_300_800.0
# Counts stay exact in float64 and in JSON numbers, and sums fit a BIGINT.
MAX_COUNT = 2**53 - 1
_TIME_CACHE_SIZE = 100_000
_NAN = math.nan


class EventRow(NamedTuple):
    """One event: Unix seconds, SLI name, and counts or an observed value; ``line`` in its file."""

    time: float
    sli: str
    good: int | None
    total: int | None
    value: float | None
    line: int


@dataclass(frozen=True, slots=True, eq=False)
class EventChunk:
    """Valid events as columns. Count rows have ``value`` NaN; value rows have good = total = 0.

    ``sli`` indexes ``names``. ``location`` holds the file line of each row, or its index in
    the batch when ``by_index`` (API batches, JSON arrays).
    """

    names: tuple[str, ...]
    sli: NDArray[np.int64]
    time: NDArray[np.float64]
    good: NDArray[np.int64]
    total: NDArray[np.int64]
    value: NDArray[np.float64]
    location: NDArray[np.int64]
    by_index: bool = False

    def __len__(self) -> int:
        return len(self.time)

    @property
    def is_value(self) -> NDArray[np.bool_]:
        """Which rows are observations (``value``) rather than counts."""
        return ~np.isnan(self.value)

    def problem(self, row: int, field: str | None, message: str) -> EventProblem:
        """A problem located at row ``row`` of this chunk."""
        where = int(self.location[row])
        if self.by_index:
            return EventProblem(message, field=field, index=where)
        return EventProblem(message, field=field, line=where)

    def rows(self) -> Iterator[EventRow]:
        """The chunk as EventRow tuples (``line`` is the index for index-located chunks)."""
        names = self.names
        values = self.value.tolist()
        for code, time, good, total, value, where in zip(
            self.sli.tolist(),
            self.time.tolist(),
            self.good.tolist(),
            self.total.tolist(),
            values,
            self.location.tolist(),
            strict=True,
        ):
            if value != value:  # NaN: a counts row
                yield EventRow(time, names[code], good, total, None, where)
            else:
                yield EventRow(time, names[code], None, None, value, where)


class _FieldError(ValueError):
    """A field's value is unusable; the message says why."""


def parse_time(raw: object) -> float:
    """Unix seconds from RFC 3339 text with an offset, or from Unix seconds (number or text)."""
    if isinstance(raw, str):
        text = raw.strip()
        if len(text) > 4 and text[4] == "-":
            try:
                moment = datetime.fromisoformat(text)
            except ValueError:
                raise _FieldError(
                    f"malformed time {raw!r}: expected RFC 3339 such as "
                    "2026-11-23T10:00:00Z, or Unix seconds"
                ) from None
            if moment.tzinfo is None:
                raise _FieldError(f"time {raw!r} has no UTC offset: add Z or +HH:MM")
            seconds = moment.timestamp()
        else:
            try:
                seconds = float(text)
            except ValueError:
                raise _FieldError(
                    f"malformed time {raw!r}: expected RFC 3339 such as "
                    "2026-11-23T10:00:00Z, or Unix seconds"
                ) from None
    elif isinstance(raw, bool) or not isinstance(raw, int | float):
        raise _FieldError(f"malformed time {raw!r}: expected an RFC 3339 string or Unix seconds")
    else:
        try:
            seconds = float(raw)
        except OverflowError:
            seconds = math.inf
    if not 0.0 <= seconds < MAX_TIME:
        raise _FieldError(f"time {raw!r} is out of range (1970 to 9999)")
    return seconds


def _parse_count(raw: object) -> int:
    if isinstance(raw, bool):
        raise _FieldError(f"must be a non-negative integer, got {raw!r}")
    if isinstance(raw, int):
        count = raw
    elif isinstance(raw, float):
        if not raw.is_integer():
            raise _FieldError(f"must be an integer, got {raw!r}")
        count = int(raw)
    elif isinstance(raw, str):
        text = raw.strip()
        try:
            count = int(text)
        except ValueError:
            try:
                number = float(text)
            except ValueError:
                raise _FieldError(f"must be an integer, got {raw!r}") from None
            if not number.is_integer():
                raise _FieldError(f"must be an integer, got {raw!r}") from None
            count = int(number)
    else:
        raise _FieldError(f"must be a non-negative integer, got {raw!r}")
    if count < 0:
        raise _FieldError(f"must not be negative, got {count}")
    if count > MAX_COUNT:
        raise _FieldError(f"is too large ({count} > {MAX_COUNT})")
    return count


def _parse_value(raw: object) -> float:
    if isinstance(raw, bool) or not isinstance(raw, int | float | str):
        raise _FieldError(f"must be a number, got {raw!r}")
    try:
        number = float(raw.strip() if isinstance(raw, str) else raw)
    except ValueError:
        raise _FieldError(f"must be a number, got {raw!r}") from None
    except OverflowError:
        number = math.inf
    if not math.isfinite(number):
        raise _FieldError(f"must be a finite number, got {raw!r}")
    return number


class RowBuilder:
    """Accumulates validated rows into columns and problems into a ProblemLog."""

    def __init__(self, problems: ProblemLog, *, by_index: bool) -> None:
        self.problems = problems
        self.by_index = by_index
        self.names: list[str] = []
        self.codes: dict[str, int] = {}  # raw or stripped name -> index in names
        self.times: dict[str, float] = {}  # raw time text -> seconds, for repeated stamps
        self._reset()

    def _reset(self) -> None:
        self.sli: list[int] = []
        self.time: list[float] = []
        self.good: list[int] = []
        self.total: list[int] = []
        self.value: list[float] = []
        self.location: list[int] = []

    def __len__(self) -> int:
        return len(self.location)

    def take(self) -> EventChunk:
        """The rows gathered so far as a chunk; the builder starts a new one."""
        chunk = EventChunk(
            names=tuple(self.names),
            sli=np.array(self.sli, dtype=np.int64),
            time=np.array(self.time, dtype=np.float64),
            good=np.array(self.good, dtype=np.int64),
            total=np.array(self.total, dtype=np.int64),
            value=np.array(self.value, dtype=np.float64),
            location=np.array(self.location, dtype=np.int64),
            by_index=self.by_index,
        )
        self._reset()
        return chunk

    def report(self, where: int, field: str | None, message: str) -> None:
        """Record a problem at a line (or index)."""
        if self.by_index:
            self.problems.add(EventProblem(message, field=field, index=where))
        else:
            self.problems.add(EventProblem(message, field=field, line=where))

    def code_of(self, raw: str) -> int:
        """The index of an SLI name (stripped), registering it on first sight."""
        name = raw.strip()
        code = self.codes.get(name)
        if code is None:
            code = len(self.names)
            self.names.append(name)
            self.codes[name] = code
        self.codes[raw] = code
        return code

    def add(
        self, where: int, time: object, sli: object, good: object, total: object, value: object
    ) -> None:
        """Validate one row (None = field absent); append it or report each problem."""
        ok = True
        seconds = 0.0
        if time is None:
            self.report(where, "time", "missing field")
            ok = False
        else:
            try:
                seconds = parse_time(time)
            except _FieldError as exc:
                self.report(where, "time", str(exc))
                ok = False
        code = 0
        if sli is None:
            self.report(where, "sli", "missing field")
            ok = False
        elif not isinstance(sli, str):
            self.report(where, "sli", f"must be a string, got {sli!r}")
            ok = False
        elif not sli.strip():
            self.report(where, "sli", "must not be empty")
            ok = False
        else:
            code = self.code_of(sli)
        has_counts = good is not None or total is not None
        good_count = total_count = 0
        number = _NAN
        if has_counts and value is not None:
            self.report(
                where, "value", "give either value (an observation) or good and total, not both"
            )
            ok = False
        elif value is not None:
            try:
                number = _parse_value(value)
            except _FieldError as exc:
                self.report(where, "value", str(exc))
                ok = False
        elif not has_counts:
            self.report(where, None, "missing fields: give good and total, or value")
            ok = False
        else:
            counts_ok = True
            for field, raw in (("good", good), ("total", total)):
                if raw is None:
                    self.report(where, field, "missing field")
                    counts_ok = False
                    continue
                try:
                    count = _parse_count(raw)
                except _FieldError as exc:
                    self.report(where, field, str(exc))
                    counts_ok = False
                    continue
                if field == "good":
                    good_count = count
                else:
                    total_count = count
            if counts_ok and good_count > total_count:
                self.report(where, "good", f"good ({good_count}) exceeds total ({total_count})")
                counts_ok = False
            ok = ok and counts_ok
        if ok:
            self.sli.append(code)
            self.time.append(seconds)
            self.good.append(good_count)
            self.total.append(total_count)
            self.value.append(number)
            self.location.append(where)


def add_record(builder: RowBuilder, where: int, record: object) -> None:
    if type(record) is not dict:
        builder.report(where, None, f"must be a JSON object, got {type(record).__name__}")
        return
    get = record.get
    time = get("time")
    sli = get("sli")
    good = get("good")
    total = get("total")
    value = get("value")
    # Fast path for the common shapes; builder.add reports anything else precisely.
    code = builder.codes.get(sli) if type(sli) is str else None
    if code is not None:
        if type(time) is str:
            seconds = builder.times.get(time)
            if seconds is None:
                seconds = cached_time(builder.times, time)
        elif (type(time) is float or type(time) is int) and 0.0 <= time < MAX_TIME:
            seconds = float(time)
        else:
            seconds = None
        if seconds is not None:
            if value is None:
                if type(good) is int and type(total) is int and 0 <= good <= total <= MAX_COUNT:
                    builder.sli.append(code)
                    builder.time.append(seconds)
                    builder.good.append(good)
                    builder.total.append(total)
                    builder.value.append(_NAN)
                    builder.location.append(where)
                    return
            elif (
                good is None
                and total is None
                and (type(value) is float or type(value) is int)
                and value - value == 0  # finite (NaN and infinities fail)
            ):
                builder.sli.append(code)
                builder.time.append(seconds)
                builder.good.append(0)
                builder.total.append(0)
                builder.value.append(float(value))
                builder.location.append(where)
                return
    builder.add(where, time, sli, good, total, value)


def cached_time(cache: dict[str, float], raw: str) -> float | None:
    """Parse a time string into the cache; None when malformed (the slow path reports it)."""
    try:
        seconds = parse_time(raw)
    except _FieldError:
        return None
    if len(cache) >= _TIME_CACHE_SIZE:
        cache.clear()
    cache[raw] = seconds
    return seconds
