"""One SLI event row: field parsing, validation and column building.

Rows are the contract in ARCHITECTURE.md: ``time`` (RFC 3339 with an offset, or Unix
seconds), ``sli``, then ``good`` and ``total`` (non-negative integers, good <= total) or
``value``. A :class:`RowBuilder` collects rows into column chunks (NumPy arrays) and every
problem with its line or index; files (datafile.py) and API bodies both feed it.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray

from watchkeeper.events.exceptions import (
    MAX_LISTED_ROWS,
    EventProblem,
    ProblemLog,
    kind_mismatch,
)
from watchkeeper.messages import shown

DEFAULT_CHUNK_ROWS = 65_536
# Year 10000: later than anything RFC 3339 can write; earlier than 1970 is no SLI event.
MAX_TIME = 253_402_300_800.0
# The store's count columns are BIGINT (up to 2**63 - 1), but counts are summed over windows
# and read as float64: a row's count, and a bucket's sum, must stay exact there and in JSON.
MAX_COUNT = 2**53 - 1
# Integers up to this size convert to a finite float; larger ones take the checked path.
_FLOAT_INT_LIMIT = 2**1023
# Decimal count text longer than this is out of range without converting it.
_LONGEST_COUNT_TEXT = 20
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


class RejectedRows(NamedTuple):
    """Refused rows naming one SLI: how many, and the first lines (or indexes)."""

    rows: int
    locations: tuple[int, ...]


@dataclass(frozen=True, slots=True, eq=False)
class EventChunk:
    """Valid events as columns. Count rows have ``value`` NaN; value rows have good = total = 0.

    ``sli`` indexes ``names``. ``location`` holds the file line of each row, or its index in
    the batch when ``by_index`` (API batches, JSON arrays). ``rejected`` counts, per SLI name,
    the rows refused for other reasons since the previous chunk, so that an unknown name is
    reported even on rows that are wrong in other ways too.
    """

    names: tuple[str, ...]
    sli: NDArray[np.int64]
    time: NDArray[np.float64]
    good: NDArray[np.int64]
    total: NDArray[np.int64]
    value: NDArray[np.float64]
    location: NDArray[np.int64]
    by_index: bool = False
    rejected: dict[str, RejectedRows] = field(default_factory=dict)

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


def tally(chunk: EventChunk, selected: NDArray[np.bool_]) -> Iterator[tuple[str, int, list[int]]]:
    """Per SLI name among the selected rows: how many, and the first places (line or index)."""
    rows = np.flatnonzero(selected)
    codes = chunk.sli[rows]
    order = np.argsort(codes, kind="stable")
    distinct, firsts, counts = np.unique(codes[order], return_index=True, return_counts=True)
    for code, first, count in zip(distinct.tolist(), firsts.tolist(), counts.tolist(), strict=True):
        places = chunk.location[rows[order[first : first + min(count, MAX_LISTED_ROWS)]]]
        yield chunk.names[code], count, places.tolist()


def report_kind_mismatches(
    chunk: EventChunk, mismatched: NDArray[np.bool_], problems: ProblemLog
) -> None:
    """Record each selected row as the wrong kind for its SLI (a value for a counts SLI, or
    counts for a threshold SLI); rows past the problem cap are only counted."""
    rows = np.flatnonzero(mismatched)
    room = max(problems.cap - len(problems.problems), 0)
    for row in rows[:room].tolist():
        name = chunk.names[chunk.sli[row]]
        field, message = kind_mismatch(name, row_has_value=bool(chunk.is_value[row]))
        problems.add(chunk.problem(row, field, message))
    problems.add_unlisted(len(rows) - min(room, len(rows)))


class _FieldError(ValueError):
    """A field's value is unusable; the message says why."""


def parse_time(raw: object) -> float:
    """Unix seconds from RFC 3339 text with an offset, or from Unix seconds (number or text)."""
    if isinstance(raw, str):
        text = raw.strip()
        if len(text) > 4 and text[4] == "-":
            if text[-1] == "z":  # RFC 3339 allows a lower-case zone letter
                text = text[:-1] + "Z"
            try:
                moment = datetime.fromisoformat(text)
            except ValueError:
                raise _FieldError(
                    f"malformed time {shown(raw)}: expected RFC 3339 such as "
                    "2026-11-23T10:00:00Z, or Unix seconds"
                ) from None
            if moment.tzinfo is None:
                raise _FieldError(f"time {shown(raw)} has no UTC offset: add Z or +HH:MM")
            seconds = moment.timestamp()
        else:
            try:
                seconds = float(text)
            except ValueError:
                raise _FieldError(
                    f"malformed time {shown(raw)}: expected RFC 3339 such as "
                    "2026-11-23T10:00:00Z, or Unix seconds"
                ) from None
    elif isinstance(raw, bool) or not isinstance(raw, int | float):
        raise _FieldError(
            f"malformed time {shown(raw)}: expected an RFC 3339 string or Unix seconds"
        )
    else:
        try:
            seconds = float(raw)
        except OverflowError:
            seconds = math.inf
    if not 0.0 <= seconds < MAX_TIME:
        raise _FieldError(f"time {shown(raw)} is out of range (1970 to 9999)")
    return seconds


def _parse_count(raw: object) -> int:
    """A count: a non-negative integer (5, 5.0 or "5") no larger than MAX_COUNT."""
    if isinstance(raw, bool):
        raise _FieldError(f"must be a non-negative integer, got {shown(raw)}")
    if isinstance(raw, int):
        count = raw
    elif isinstance(raw, float):
        if not raw.is_integer():  # also NaN and the infinities
            raise _FieldError(f"must be an integer, got {shown(raw)}")
        count = int(raw)
    elif isinstance(raw, str):
        count = _count_from_text(raw)
    else:
        raise _FieldError(f"must be a non-negative integer, got {shown(raw)}")
    if count < 0:
        raise _FieldError(f"must not be negative, got {shown(count)}")
    if count > MAX_COUNT:
        raise _FieldError(
            f"is too large: {shown(count)} is over the largest count the store keeps exactly, "
            f"{MAX_COUNT} (2**53 - 1)"
        )
    return count


def _count_from_text(raw: str) -> int:
    text = raw.strip()
    digits = text[1:] if text[:1] in ("+", "-") else text
    if len(digits) > _LONGEST_COUNT_TEXT and digits.isdecimal():
        # Out of range whatever the digits, and int() refuses text past 4300 digits.
        if text.startswith("-"):
            raise _FieldError(f"must not be negative, got {shown(raw)}")
        raise _FieldError(
            f"is too large: {shown(raw)} is over the largest count the store keeps exactly, "
            f"{MAX_COUNT} (2**53 - 1)"
        )
    try:
        return int(text)
    except ValueError:
        pass
    try:
        number = float(text)
    except ValueError:
        raise _FieldError(f"must be an integer, got {shown(raw)}") from None
    if not number.is_integer():  # also NaN and the infinities
        raise _FieldError(f"must be an integer, got {shown(raw)}")
    return int(number)


def _parse_value(raw: object) -> float:
    """An observation: a finite number (or its text), e.g. a latency in seconds."""
    if isinstance(raw, bool) or not isinstance(raw, int | float | str):
        raise _FieldError(f"must be a number, got {shown(raw)}")
    try:
        number = float(raw.strip() if isinstance(raw, str) else raw)
    except ValueError:
        raise _FieldError(f"must be a number, got {shown(raw)}") from None
    except OverflowError:  # an integer beyond the float range
        number = math.inf
    if not math.isfinite(number):
        raise _FieldError(f"must be a finite number, got {shown(raw)}")
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
        self.rejected: dict[int, list[int]] = {}  # SLI code -> [rows, first locations...]

    def _reset(self) -> None:
        self.sli: list[int] = []
        self.time: list[float] = []
        self.good: list[int] = []
        self.total: list[int] = []
        self.value: list[float] = []
        self.location: list[int] = []

    def __len__(self) -> int:
        return len(self.location)

    @property
    def pending(self) -> bool:
        """Whether :meth:`take` has anything to hand over (rows, or refused rows' names)."""
        return bool(self.location) or bool(self.rejected)

    def take(self) -> EventChunk:
        """The rows gathered so far as a chunk; the builder starts a new one."""
        rejected = {
            self.names[code]: RejectedRows(seen[0], tuple(seen[1:]))
            for code, seen in self.rejected.items()
        }
        self.rejected = {}
        chunk = EventChunk(
            names=tuple(self.names),
            sli=np.array(self.sli, dtype=np.int64),
            time=np.array(self.time, dtype=np.float64),
            good=np.array(self.good, dtype=np.int64),
            total=np.array(self.total, dtype=np.int64),
            value=np.array(self.value, dtype=np.float64),
            location=np.array(self.location, dtype=np.int64),
            by_index=self.by_index,
            rejected=rejected,
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
        code = -1
        if sli is None:
            self.report(where, "sli", "missing field")
            ok = False
        elif not isinstance(sli, str):
            self.report(where, "sli", f"must be a string, got {shown(sli)}")
            ok = False
        elif not sli.strip():
            self.report(where, "sli", "must not be empty")
            ok = False
        elif not sli.strip().isprintable():  # control characters, lone surrogates
            self.report(where, "sli", f"must be printable text, got {shown(sli)}")
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
        if not ok:
            if code >= 0:
                self._reject(code, where)
            return
        self.sli.append(code)
        self.time.append(seconds)
        self.good.append(good_count)
        self.total.append(total_count)
        self.value.append(number)
        self.location.append(where)

    def _reject(self, code: int, where: int) -> None:
        seen = self.rejected.get(code)
        if seen is None:
            self.rejected[code] = [1, where]
            return
        seen[0] += 1
        if len(seen) <= MAX_LISTED_ROWS:
            seen.append(where)


def add_record(builder: RowBuilder, where: int, record: object) -> None:
    """Validate one decoded JSON object (fast path for the usual shapes) into ``builder``."""
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
                and (
                    (type(value) is float and value - value == 0)  # finite: NaN, inf fail
                    or (type(value) is int and -_FLOAT_INT_LIMIT < value < _FLOAT_INT_LIMIT)
                )
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
