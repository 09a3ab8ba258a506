"""SLI event files: CSV with a header row, JSONL (one object a line) or a JSON array.

Rows follow the contract in ARCHITECTURE.md (see rows.py, which validates them; its names
are re-exported here for callers that read files).

Files are read in chunks of columns (NumPy arrays), so a file of ten million rows needs the
memory of one chunk, and the store and the offline evaluator can fold rows into buckets with
array operations. Every problem is collected (the first 50 listed, the rest counted) and
raised as one :class:`InvalidEvents` once the whole input has been read. A file that cannot
hold events at all (empty CSV, binary data, a wrong CSV header, no line of JSON) is an
:class:`InvalidEventFile` instead, raised as soon as it is seen. No database here.
"""

from __future__ import annotations

import codecs
import csv
import json
import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import chain
from operator import itemgetter
from pathlib import Path
from typing import IO, Any, Literal

from watchkeeper.events.exceptions import (
    EventProblem,
    InvalidEventFile,
    ProblemLog,
    UnreadableEventFile,
)
from watchkeeper.events.rows import (
    DEFAULT_CHUNK_ROWS,
    MAX_COUNT,
    EventChunk,
    EventRow,
    RowBuilder,
    add_record,
    cached_time,
    parse_time,
)
from watchkeeper.messages import shown

FileFormat = Literal["csv", "jsonl", "json"]
Progress = Callable[[int, int], None]

_READ_HINT = 1 << 20  # bytes of lines read at a time
_SUFFIXES: dict[str, FileFormat] = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}
_BOM = b"\xef\xbb\xbf"
_GZIP = b"\x1f\x8b"
# Integers longer than this are kept as text (Python refuses to convert past 4300 digits);
# the row checks then refuse them as out of range, at their line and field.
_LONGEST_INT_TEXT = 4000


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
    problems: ProblemLog | None = None,
) -> Iterator[EventChunk]:
    """Stream a data file as chunks of valid events, then raise InvalidEvents if any row was bad.

    Valid rows keep coming after a bad one so that every problem is found in one pass: act on
    the rows (store them, report on them) only once the iterator is exhausted without error.
    When ``problems`` is given, bad rows are recorded there and nothing is raised for them.
    A file that holds no events at all raises InvalidEventFile (UnreadableEventFile when it
    cannot be opened). ``progress(bytes_read, total_bytes)`` is called after each block read.
    """
    file_path = Path(path)
    source = str(path)
    log = ProblemLog() if problems is None else problems
    builder = RowBuilder(log, by_index=False)
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
        _check_text(head, source)
        file_format = detect_format(file_path, head)
        if file_format == "json":
            builder.by_index = True
            yield from _json_array_chunks(handle, builder, chunk_rows, source)
        else:
            blocks = _byte_blocks(handle, total_bytes, progress)
            if file_format == "csv":
                yield from _csv_chunks(chain.from_iterable(blocks), builder, chunk_rows, source)
            else:
                yield from _jsonl_chunks(blocks, builder, chunk_rows, source)
        if progress is not None:
            progress(total_bytes, total_bytes)
    if builder.pending:
        yield builder.take()
    if problems is None and log:
        raise log.error(source)


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
    builder = RowBuilder(log, by_index=True)
    for index, record in enumerate(records):
        add_record(builder, index, record)
    if problems is None and log:
        raise log.error()
    return builder.take()


def chunks_from_rows(
    rows: Iterable[EventRow],
    *,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    problems: ProblemLog | None = None,
) -> Iterator[EventChunk]:
    """Re-validate EventRow tuples (e.g. built by hand) into chunks, raising InvalidEvents.

    When ``problems`` is given, bad rows are recorded there and nothing is raised.
    """
    log = ProblemLog() if problems is None else problems
    builder = RowBuilder(log, by_index=False)
    for index, row in enumerate(rows):
        if not isinstance(row, EventRow):
            message = f"expected an EventRow, got {type(row).__name__}"
            log.add(EventProblem(message, index=index))
            continue
        builder.add(row.line, row.time, row.sli, row.good, row.total, row.value)
        if len(builder) >= chunk_rows:
            yield builder.take()
    if builder.pending:
        yield builder.take()
    if problems is None and log:
        raise log.error()


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


def _decoded(lines: Iterator[bytes], builder: RowBuilder) -> Iterator[str]:
    """Decode UTF-8 lines, reporting (and replacing) undecodable bytes at their line."""
    for number, raw in enumerate(lines, start=1):
        try:
            yield raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            builder.report(number, None, f"not valid UTF-8 text ({exc.reason})")
            yield raw.decode("utf-8", errors="replace")


def _check_text(head: bytes, source: str) -> None:
    """Refuse a file that is not text at all (compressed, an image, a database) up front."""
    if head.startswith(_GZIP):
        raise InvalidEventFile(
            f"{source}: not a CSV or JSONL file: it is gzip-compressed; decompress it first"
        )
    first_line = head.removeprefix(_BOM).split(b"\n", 1)[0]
    try:
        codecs.getincrementaldecoder("utf-8")().decode(first_line, final=False)
    except UnicodeDecodeError:
        binary = True
    else:
        binary = b"\x00" in head
    if binary:
        raise InvalidEventFile(
            f"{source}: not a CSV or JSONL file: it holds binary data, not UTF-8 text"
        )


_COLUMNS = ("time", "sli", "good", "total", "value")
_EXPECTED_HEADER = "expected time,sli,good,total or time,sli,value"
_SHOWN_COLUMNS = 5


def _quoted(names: list[str]) -> str:
    listed = ", ".join(shown(name) for name in names[:_SHOWN_COLUMNS])
    rest = len(names) - _SHOWN_COLUMNS
    return f"{listed} and {rest} more" if rest > 0 else listed


def _column_noun(names: list[str]) -> str:
    return "column" if len(names) == 1 else "columns"


def _csv_columns(header: list[str], source: str) -> tuple[int, ...]:
    """Indexes of time, sli, good, total, value in the header (len(header) when absent).

    Raises InvalidEventFile naming every problem with the header: a file whose first line
    is not this header cannot be read as events.
    """
    names = [column.strip().lower() for column in header]
    positions: dict[str, int] = {}
    duplicates: list[str] = []
    unknown: list[str] = []
    for index, (raw, name) in enumerate(zip(header, names, strict=True)):
        if not name:
            continue  # an unnamed column (a trailing comma) carries nothing
        if name not in _COLUMNS:
            unknown.append(raw.strip())
        elif name in positions:
            if name not in duplicates:
                duplicates.append(name)
        else:
            positions[name] = index
    if not positions:
        got = _quoted([raw.strip() for raw in header])
        if header[0].lstrip().startswith("{"):
            got += "; JSONL files need a .jsonl name"
        raise InvalidEventFile(
            f"{source}: header: no known column (the first line must be the header); "
            f"{_EXPECTED_HEADER} (got {got})"
        )
    problems = []
    missing = [name for name in ("time", "sli") if name not in positions]
    has_good, has_total = "good" in positions, "total" in positions
    if has_good != has_total:
        missing.append("total" if has_good else "good")
    if missing:
        problems.append(f"missing {_column_noun(missing)} {_quoted(missing)}")
    if not has_good and not has_total and "value" not in positions:
        problems.append("missing columns 'good' and 'total', or 'value'")
    if unknown:
        text = f"unknown {_column_noun(unknown)} {_quoted(unknown)}"
        if "bad" in (name.lower() for name in unknown):
            text += " (rows carry good and total, not bad)"
        problems.append(text)
    if duplicates:
        problems.append(f"duplicate {_column_noun(duplicates)} {_quoted(duplicates)}")
    if problems:
        raise InvalidEventFile(f"{source}: header: {'; '.join(problems)}; {_EXPECTED_HEADER}")
    width = len(header)
    return tuple(positions.get(name, width) for name in _COLUMNS)


def _csv_chunks(
    lines: Iterator[bytes], builder: RowBuilder, chunk_rows: int, source: str
) -> Iterator[EventChunk]:
    reader = csv.reader(_decoded(lines, builder))
    try:
        header = next((row for row in reader if row), None)  # blank lines before it are skipped
    except csv.Error as exc:
        raise InvalidEventFile(f"{source}: header: malformed CSV: {exc}") from None
    if header is None:
        raise InvalidEventFile(f"{source}: header: the file is empty; {_EXPECTED_HEADER}")
    columns = _csv_columns(header, source)
    while True:
        try:
            yield from _csv_rows(reader, columns, len(header), builder, chunk_rows)
            return
        except csv.Error as exc:  # e.g. a field over csv.field_size_limit(); go on after it
            builder.report(reader.line_num, None, f"malformed CSV: {exc}")


def _csv_rows(
    reader: Any, columns: tuple[int, ...], width: int, builder: RowBuilder, chunk_rows: int
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
            seconds = cached_time(times, time)
        code = codes.get(sli)
        if seconds is not None and code is not None:
            if not value:
                # At most 16 digits: a count past MAX_COUNT (16 digits) goes the long way.
                if len(total) < 17 and len(good) < 17 and good.isdecimal() and total.isdecimal():
                    good_count = int(good)
                    total_count = int(total)
                    if good_count <= total_count <= MAX_COUNT:
                        sli_column.append(code)
                        time_column.append(seconds)
                        good_column.append(good_count)
                        total_column.append(total_count)
                        value_column.append(math.nan)
                        location_column.append(line)
                        stored = True
            elif not good and not total:
                try:
                    number = float(value)
                except ValueError:
                    number = math.nan
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


def _int_or_text(digits: str) -> int | str:
    """A JSON integer, or its text when too long to convert (the row checks refuse it)."""
    return int(digits) if len(digits) <= _LONGEST_INT_TEXT else digits


def _loads(text: str | bytes) -> Any:
    """Decode JSON; integers too long for int() are kept as text instead of failing."""
    try:
        return json.loads(text)
    except ValueError as exc:
        try:
            return json.loads(text, parse_int=_int_or_text)
        except ValueError:
            raise exc from None


def _jsonl_chunks(
    blocks: Iterator[list[bytes]], builder: RowBuilder, chunk_rows: int, source: str
) -> Iterator[EventChunk]:
    first_line = 1
    decoded_any = False  # some line is JSON: this is a JSONL file, with bad lines in it
    first_failure: tuple[int, str] | None = None
    for block in blocks:
        # One json.loads of the block as an array is ~2x faster than one per line. Each
        # non-blank line adds at least one element, so equal counts mean one object a line;
        # anything else (blank lines, bad JSON) is parsed line by line to locate it.
        records: list[Any] | None
        try:
            records = json.loads((b"[" + b",".join(block) + b"]").decode("utf-8"))
        except (ValueError, RecursionError):
            records = None
        if records is not None and len(records) == len(block):
            decoded_any = True
            for number, record in enumerate(records, start=first_line):
                add_record(builder, number, record)
                if len(builder) >= chunk_rows:
                    yield builder.take()
        else:
            for number, raw in enumerate(block, start=first_line):
                if raw.isspace():
                    continue
                try:
                    record = _loads(raw.decode("utf-8"))
                except UnicodeDecodeError as exc:
                    message = f"not valid UTF-8 text ({exc.reason})"
                    builder.report(number, None, message)
                    first_failure = first_failure or (number, message)
                    continue
                except ValueError as exc:
                    message = f"not valid JSON: {exc}"
                    builder.report(number, None, message)
                    first_failure = first_failure or (number, message)
                    continue
                except RecursionError:
                    message = "not valid JSON: nested too deeply"
                    builder.report(number, None, message)
                    first_failure = first_failure or (number, message)
                    continue
                decoded_any = True
                add_record(builder, number, record)
                if len(builder) >= chunk_rows:
                    yield builder.take()
        first_line += len(block)
    if first_failure is not None and not decoded_any:
        line, message = first_failure
        raise InvalidEventFile(
            f"{source}: not a JSONL file: no line is JSON (line {line}: {message}); expected "
            f"one JSON object a line, or CSV with a header ({_EXPECTED_HEADER})"
        )


def _json_array_chunks(
    handle: IO[bytes], builder: RowBuilder, chunk_rows: int, source: str
) -> Iterator[EventChunk]:
    try:
        document = _loads(handle.read().removeprefix(_BOM))
    except UnicodeDecodeError as exc:
        raise InvalidEventFile(f"{source}: not valid UTF-8 text ({exc.reason})") from None
    except ValueError as exc:
        raise InvalidEventFile(f"{source}: not valid JSON: {exc}") from None
    except RecursionError:
        raise InvalidEventFile(f"{source}: JSON nested too deeply") from None
    if not isinstance(document, list):
        raise InvalidEventFile(
            f"{source}: a JSON file must hold an array of event objects, "
            f"not {type(document).__name__}"
        )
    for index, record in enumerate(document):
        add_record(builder, index, record)
        if len(builder) >= chunk_rows:
            yield builder.take()


__all__ = [
    "DEFAULT_CHUNK_ROWS",
    "MAX_COUNT",
    "EventChunk",
    "EventRow",
    "chunks_from_rows",
    "detect_format",
    "parse_records",
    "parse_time",
    "read_chunks",
    "read_rows",
]
