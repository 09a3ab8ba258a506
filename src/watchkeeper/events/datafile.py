"""SLI event data: CSV with a header row, JSONL (one object a line) or a JSON array.

The format is the contract in ARCHITECTURE.md: each row has ``time`` (RFC 3339 with an
offset, or Unix seconds), ``sli`` (the SLI's name), then ``good`` and ``total`` (non-negative
integers, good <= total) or ``value`` (an observation of a threshold SLI).

Files are read in chunks of columns (NumPy arrays), so a file of ten million rows needs the
memory of one chunk, and the store and the offline evaluator can fold rows into buckets with
array operations. Every problem is collected (the first 100 listed, the rest counted) and
raised as one :class:`InvalidEvents` once the whole input has been read. No database here.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import chain
from operator import itemgetter
from pathlib import Path
from typing import IO, Any, Literal, NamedTuple

import numpy as np
from numpy.typing import NDArray

from watchkeeper.events.exceptions import (
    EventProblem,
    ProblemLog,
    UnreadableEventFile,
)

FileFormat = Literal["csv", "jsonl", "json"]
Progress = Callable[[int, int], None]

DEFAULT_CHUNK_ROWS = 65_536
# Year 10000: later than anything RFC 3339 can write; earlier than 1970 is no SLI event.
MAX_TIME = 253_402_300_800.0
# Counts stay exact in float64 and in JSON numbers, and sums fit a BIGINT.
MAX_COUNT = 2**53 - 1
_TIME_CACHE_SIZE = 100_000
_READ_HINT = 1 << 20  # bytes of lines read at a time
_SUFFIXES: dict[str, FileFormat] = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}
_BOM = b"\xef\xbb\xbf"
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


class _Builder:
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


def detect_format(path: Path, head: bytes) -> FileFormat:
    """The format by extension, else by the first non-blank byte of ``head``: '{', '[' or CSV."""
    suffix = path.suffix.lower()
    if suffix in _SUFFIXES:
        return _SUFFIXES[suffix]
    first = head.removeprefix(_BOM).lstrip()[:1]
    if first == b"[":
        return "json"
    if first == b"{" or suffix == ".json":
        return "jsonl"
    return "csv"


def read_chunks(
    path: str | Path,
    *,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    progress: Progress | None = None,
) -> Iterator[EventChunk]:
    """Stream a data file as chunks of valid events, then raise InvalidEvents if any row was bad.

    Valid rows keep coming after a bad one so that every problem is found in one pass: act on
    the rows (store them, report on them) only once the iterator is exhausted without error.
    ``progress(bytes_read, total_bytes)`` is called after each block read.
    """
    file_path = Path(path)
    source = str(path)
    problems = ProblemLog()
    builder = _Builder(problems, by_index=False)
    try:
        handle = file_path.open("rb")
    except FileNotFoundError:
        raise UnreadableEventFile(f"{source}: no such file") from None
    except IsADirectoryError:
        raise UnreadableEventFile(f"{source}: is a directory, not a data file") from None
    except OSError as exc:
        raise UnreadableEventFile(f"{source}: cannot read: {exc.strerror or exc}") from None
    with handle:
        total_bytes = _size(handle)
        head = handle.read(4096)
        handle.seek(0)
        file_format = detect_format(file_path, head)
        if file_format == "json":
            builder.by_index = True
            yield from _json_array_chunks(handle, builder, chunk_rows)
        else:
            blocks = _byte_blocks(handle, total_bytes, progress)
            if file_format == "csv":
                yield from _csv_chunks(chain.from_iterable(blocks), builder, chunk_rows)
            else:
                yield from _jsonl_chunks(blocks, builder, chunk_rows)
        if progress is not None:
            progress(total_bytes, total_bytes)
    if len(builder):
        yield builder.take()
    if problems:
        raise problems.error(source)


def read_rows(path: str | Path, *, chunk_rows: int = DEFAULT_CHUNK_ROWS) -> Iterator[EventRow]:
    """Stream a data file as EventRow tuples (same error behaviour as :func:`read_chunks`)."""
    for chunk in read_chunks(path, chunk_rows=chunk_rows):
        yield from chunk.rows()


def parse_records(records: Sequence[object], *, problems: ProblemLog | None = None) -> EventChunk:
    """Validate decoded JSON objects (an API batch); problems are located by index.

    Raises InvalidEvents, unless ``problems`` is given: then problems go there and the chunk
    holds the valid records.
    """
    log = ProblemLog() if problems is None else problems
    builder = _Builder(log, by_index=True)
    for index, record in enumerate(records):
        _add_record(builder, index, record)
    if problems is None and log:
        raise log.error()
    return builder.take()


def chunks_from_rows(
    rows: Iterable[EventRow], *, chunk_rows: int = DEFAULT_CHUNK_ROWS
) -> Iterator[EventChunk]:
    """Re-validate EventRow tuples (e.g. built by hand) into chunks, raising InvalidEvents."""
    problems = ProblemLog()
    builder = _Builder(problems, by_index=False)
    for index, row in enumerate(rows):
        if not isinstance(row, EventRow):
            message = f"expected an EventRow, got {type(row).__name__}"
            problems.add(EventProblem(message, index=index))
            continue
        builder.add(row.line, row.time, row.sli, row.good, row.total, row.value)
        if len(builder) >= chunk_rows:
            yield builder.take()
    if len(builder):
        yield builder.take()
    if problems:
        raise problems.error()


def _size(handle: IO[bytes]) -> int:
    handle.seek(0, 2)
    size = handle.tell()
    handle.seek(0)
    return size


def _byte_blocks(
    handle: IO[bytes], total_bytes: int, progress: Progress | None
) -> Iterator[list[bytes]]:
    first = True
    while True:
        block = handle.readlines(_READ_HINT)
        if not block:
            return
        if first:
            block[0] = block[0].removeprefix(_BOM)
            first = False
        yield block
        if progress is not None:
            progress(handle.tell(), total_bytes)


def _decoded(lines: Iterator[bytes], builder: _Builder) -> Iterator[str]:
    """Decode UTF-8 lines, reporting (and replacing) undecodable bytes at their line."""
    for number, raw in enumerate(lines, start=1):
        try:
            yield raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            builder.report(number, None, f"not valid UTF-8 text ({exc.reason})")
            yield raw.decode("utf-8", errors="replace")


_HEADER_HELP = "columns time, sli, then good and total, or value"


def _csv_columns(header: list[str], builder: _Builder) -> tuple[int, ...] | None:
    """Indexes of time, sli, good, total, value in the header (len(header) when absent)."""
    names = [column.strip().lower() for column in header]
    width = len(names)
    positions = {name: index for index, name in enumerate(names)}
    missing = [name for name in ("time", "sli") if name not in positions]
    has_good, has_total = "good" in positions, "total" in positions
    if has_good != has_total:
        missing.append("total" if has_good else "good")
    if not has_good and not has_total and "value" not in positions:
        missing.append("good and total, or value")
    if missing:
        builder.report(
            1,
            None,
            f"the header row lacks {', '.join(missing)}; expected {_HEADER_HELP} "
            f"(got {', '.join(header)})",
        )
        return None
    duplicates = sorted({name for name in names if names.count(name) > 1 and name})
    if duplicates:
        builder.report(1, None, f"duplicate columns in the header: {', '.join(duplicates)}")
        return None
    return tuple(positions.get(name, width) for name in ("time", "sli", "good", "total", "value"))


def _csv_chunks(lines: Iterator[bytes], builder: _Builder, chunk_rows: int) -> Iterator[EventChunk]:
    reader = csv.reader(_decoded(lines, builder))
    try:
        header = next(reader, None)
    except csv.Error as exc:
        builder.report(reader.line_num, None, f"malformed CSV: {exc}")
        return
    if header is None:
        return
    columns = _csv_columns(header, builder)
    if columns is None:
        return
    while True:
        try:
            yield from _csv_rows(reader, columns, len(header), builder, chunk_rows)
            return
        except csv.Error as exc:  # e.g. a field over csv.field_size_limit(); go on after it
            builder.report(reader.line_num, None, f"malformed CSV: {exc}")


def _csv_rows(
    reader: Any, columns: tuple[int, ...], width: int, builder: _Builder, chunk_rows: int
) -> Iterator[EventChunk]:
    pad = width in columns  # a column is absent: rows get an empty cell at index ``width``
    pick = itemgetter(*columns)
    times, codes, add = builder.times, builder.codes, builder.add
    sli_column, time_column = builder.sli, builder.time
    good_column, total_column = builder.good, builder.total
    value_column, location_column = builder.value, builder.location
    for row in reader:
        if len(row) != width:
            if row:  # blank lines are skipped
                message = f"has {len(row)} fields but the header has {width}"
                builder.report(reader.line_num, None, message)
            continue
        if pad:
            row.append("")
        time, sli, good, total, value = pick(row)
        line = reader.line_num
        # Fast path for well-formed rows (most of a file); builder.add handles and reports
        # everything else.
        stored = False
        seconds = times.get(time)
        if seconds is None:
            seconds = _cached_time(times, time)
        code = codes.get(sli)
        if seconds is not None and code is not None:
            if not value:
                if good.isdecimal() and total.isdecimal():
                    good_count = int(good)
                    total_count = int(total)
                    if good_count <= total_count <= MAX_COUNT:
                        sli_column.append(code)
                        time_column.append(seconds)
                        good_column.append(good_count)
                        total_column.append(total_count)
                        value_column.append(_NAN)
                        location_column.append(line)
                        stored = True
            elif not good and not total:
                try:
                    number = float(value)
                except ValueError:
                    number = _NAN
                if number - number == 0.0:  # finite
                    sli_column.append(code)
                    time_column.append(seconds)
                    good_column.append(0)
                    total_column.append(0)
                    value_column.append(number)
                    location_column.append(line)
                    stored = True
        if not stored:
            add(line, time or None, sli or None, good or None, total or None, value or None)
        if len(location_column) >= chunk_rows:
            yield builder.take()
            sli_column, time_column = builder.sli, builder.time
            good_column, total_column = builder.good, builder.total
            value_column, location_column = builder.value, builder.location


def _jsonl_chunks(
    blocks: Iterator[list[bytes]], builder: _Builder, chunk_rows: int
) -> Iterator[EventChunk]:
    first_line = 1
    for block in blocks:
        # One json.loads of the block as an array is ~2x faster than one per line. Each
        # non-blank line adds at least one element, so equal counts mean one object a line;
        # anything else (blank lines, bad JSON) is parsed line by line to locate it.
        records: list[Any] | None
        try:
            records = json.loads((b"[" + b",".join(block) + b"]").decode("utf-8"))
        except ValueError:
            records = None
        if records is not None and len(records) == len(block):
            for number, record in enumerate(records, start=first_line):
                _add_record(builder, number, record)
                if len(builder) >= chunk_rows:
                    yield builder.take()
        else:
            for number, raw in enumerate(block, start=first_line):
                if raw.isspace():
                    continue
                try:
                    record = json.loads(raw.decode("utf-8"))
                except UnicodeDecodeError as exc:
                    builder.report(number, None, f"not valid UTF-8 text ({exc.reason})")
                    continue
                except ValueError as exc:
                    builder.report(number, None, f"not valid JSON: {exc}")
                    continue
                _add_record(builder, number, record)
                if len(builder) >= chunk_rows:
                    yield builder.take()
        first_line += len(block)


def _json_array_chunks(
    handle: IO[bytes], builder: _Builder, chunk_rows: int
) -> Iterator[EventChunk]:
    try:
        document = json.loads(handle.read().removeprefix(_BOM))
    except UnicodeDecodeError as exc:
        builder.problems.add(EventProblem(f"not valid UTF-8 text ({exc.reason})"))
        return
    except ValueError as exc:
        builder.problems.add(EventProblem(f"not valid JSON: {exc}"))
        return
    if not isinstance(document, list):
        builder.problems.add(EventProblem("a JSON file must hold an array of event objects"))
        return
    for index, record in enumerate(document):
        _add_record(builder, index, record)
        if len(builder) >= chunk_rows:
            yield builder.take()


def _add_record(builder: _Builder, where: int, record: object) -> None:
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
                seconds = _cached_time(builder.times, time)
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


def _cached_time(cache: dict[str, float], raw: str) -> float | None:
    """Parse a time string into the cache; None when malformed (the slow path reports it)."""
    try:
        seconds = parse_time(raw)
    except _FieldError:
        return None
    if len(cache) >= _TIME_CACHE_SIZE:
        cache.clear()
    cache[raw] = seconds
    return seconds
