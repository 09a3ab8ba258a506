"""Pieces of OpenSLO v1 objects: metadata, durations, time windows, alert conditions.

OpenSLO durations are one number and one unit of ``m h d w M Q Y`` (README, "duration
shorthand"); Prometheus compound durations (``1h30m``) are accepted too because Watchkeeper
writes them for windows that have no single-unit form.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from watchkeeper.core.duration import MAX_DURATION, format_duration, parse_duration
from watchkeeper.core.slo import (
    AlertWindow,
    CalendarUnit,
    CalendarWindow,
    RollingWindow,
    Severity,
    Window,
)
from watchkeeper.core.windows import MAX_SLICE
from watchkeeper.specs.cursor import Cursor
from watchkeeper.specs.fields import check_slice_range, check_window_range, read_timezone
from watchkeeper.specs.problems import did_you_mean
from watchkeeper.specs.yaml_nodes import TOO_LARGE, json_shape_problem

API_VERSION = "openslo/v1"
ANNOTATION_PREFIX = "watchkeeper.dev/"
# On a DataSource: the Watchkeeper Prometheus source (sources file) it stands for.
SOURCE_ANNOTATION = ANNOTATION_PREFIX + "source"
METADATA_FIELDS = ("name", "displayName", "labels", "annotations")
OBJECT_FIELDS = ("apiVersion", "kind", "metadata", "spec")
TIME_WINDOW_FIELDS = ("duration", "isRolling", "calendar")
CALENDAR_FIELDS = ("startTime", "timeZone")
CONDITION_SPEC_FIELDS = ("description", "severity", "condition")
CONDITION_FIELDS = ("kind", "op", "threshold", "lookbackWindow", "alertAfter")
PAGE_SEVERITIES = frozenset({"page", "critical", "high"})
SHORT_WINDOW_ANNOTATION = "short-window"
# Short window = long / 12, the SRE Workbook ratio (ch. 5: 1h/5m, 6h/30m, 1d/2h, 3d/6h).
SHORT_WINDOW_DIVISOR = 12

# Object names are RFC 1123 labels, as the reference validator (OpenSLO go-sdk, govy's
# StringDNSLabel) checks metadata.name and every reference to another object.
LABEL_PATTERN = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?")
LABEL_RULE = (
    "an RFC 1123 label: at most 63 lowercase letters, digits and '-', starting and ending "
    "with a letter or digit"
)
_SHORTHAND = re.compile(r"([0-9]+)([mhdwMQY])")
# More digits than any duration Watchkeeper holds: refused before converting the text.
_MAX_AMOUNT_DIGITS = len(str(MAX_DURATION.days * 24 * 60))
_FIXED_UNITS = {
    "m": timedelta(minutes=1),
    "h": timedelta(hours=1),
    "d": timedelta(days=1),
    "w": timedelta(weeks=1),
}
_CALENDAR_UNITS = {"w": CalendarUnit.WEEK, "M": CalendarUnit.MONTH, "Q": CalendarUnit.QUARTER}


@dataclass(frozen=True)
class Metadata:
    """An object's ``metadata``: name, labels and the cursor of its annotations."""

    name: str | None
    labels: dict[str, str] = field(default_factory=dict)
    annotations: Cursor | None = None
    written_name: str | None = None  # the name as text, valid or not


def read_metadata(cursor: Cursor | None) -> Metadata:
    """``metadata`` of an OpenSLO object; label values given as lists are joined with commas."""
    if cursor is None or not cursor.fields(METADATA_FIELDS):
        return Metadata(None)
    name = cursor.read("name", read_label, required=True)
    cursor.read("displayName", Cursor.text)
    labels: dict[str, str] = {}
    labels_at = cursor.get("labels")
    for key, child in (labels_at.entries() or []) if labels_at is not None else []:
        if isinstance(child.value, list):
            values = child.string_list()
            if values is not None:
                labels[key] = ",".join(values)
        else:
            text = child.scalar_text()
            if text is not None:
                labels[key] = text
    annotations = cursor.get("annotations")
    if annotations is not None:
        annotations.string_map()
    written = cursor.value.get("name")
    return Metadata(name, labels, annotations, written if isinstance(written, str) else None)


def read_label(cursor: Cursor) -> str | None:
    """An object name or reference: an RFC 1123 label."""
    return cursor.name(LABEL_PATTERN, LABEL_RULE)


def watchkeeper_annotations(metadata: Metadata, allowed: tuple[str, ...]) -> dict[str, Cursor]:
    """The ``watchkeeper.dev/`` annotations of an object, by short name; others are ignored."""
    result: dict[str, Cursor] = {}
    if metadata.annotations is None:
        return result
    for key, child in metadata.annotations.entries() or []:
        if not key.startswith(ANNOTATION_PREFIX):
            continue
        short = key[len(ANNOTATION_PREFIX) :]
        if short not in allowed:
            names = [ANNOTATION_PREFIX + name for name in allowed]
            metadata.annotations.error_at(
                key, f"unknown Watchkeeper annotation{did_you_mean(key, names)}"
            )
            continue
        result[short] = child
    return result


def json_cursor(annotation: Cursor) -> Cursor | None:
    """An annotation holding JSON, as a cursor over the decoded value."""
    text = annotation.text()
    if text is None:
        return None
    try:
        value: Any = json.loads(text)
    except json.JSONDecodeError as exc:
        annotation.error(f"is not valid JSON: {exc.msg} at character {exc.pos}")
        return None
    except RecursionError:
        annotation.error(f"{TOO_LARGE}: JSON nested too deeply")
        return None
    except ValueError as exc:  # e.g. an integer of more digits than Python converts
        annotation.error(f"is not valid JSON: {exc}")
        return None
    problem = json_shape_problem(value)
    if problem is not None:
        annotation.error(problem)
        return None
    return Cursor(annotation.context, value, annotation.path, annotation.line)


def read_rolling_duration(cursor: Cursor) -> timedelta | None:
    """A fixed-length OpenSLO duration (``28d``, ``4w``, ``1h``); months have no fixed length."""
    text = cursor.text()
    if text is None:
        return None
    match = _SHORTHAND.fullmatch(text)
    if match is None:
        return cursor.duration()
    digits, unit = match.group(1), match.group(2)
    if unit not in _FIXED_UNITS:
        cursor.error(f"{text!r} has no fixed length; use days or weeks (e.g. 30d, 4w)")
        return None
    # Counted without building a timedelta, which cannot hold every number written.
    if len(digits) > _MAX_AMOUNT_DIGITS or _FIXED_UNITS[unit] * int(digits) > MAX_DURATION:
        cursor.error(f"{text!r} is too long to be a duration")
        return None
    amount = int(digits)
    if amount <= 0:
        cursor.error("must be a positive duration")
        return None
    return _FIXED_UNITS[unit] * amount


def read_calendar_duration(cursor: Cursor) -> tuple[CalendarUnit, int] | None:
    """A calendar window length: weeks (``1w``), months (``1M``) or quarters (``1Q``)."""
    text = cursor.text()
    if text is None:
        return None
    match = _SHORTHAND.fullmatch(text)
    if (
        match is None
        or match.group(2) not in _CALENDAR_UNITS
        or len(match.group(1)) > _MAX_AMOUNT_DIGITS
        or int(match.group(1)) <= 0
    ):
        cursor.error(
            f"{text!r} is not a calendar window; count weeks, months or quarters: 1w, 1M, 1Q"
        )
        return None
    return _CALENDAR_UNITS[match.group(2)], int(match.group(1))


def read_time_window(cursor: Cursor) -> Window | None:
    """``timeWindow``: a list of exactly one rolling or calendar-aligned window."""
    items = cursor.items()
    if items is None:
        return None
    if len(items) != 1:
        cursor.error(f"must hold exactly one time window, not {len(items)}")
        return None
    item = items[0]
    if not item.fields(TIME_WINDOW_FIELDS):
        return None
    rolling = item.read("isRolling", Cursor.boolean)
    calendar = item.get("calendar")
    if rolling is None:
        rolling = calendar is None
    if rolling:
        if calendar is not None:
            item.error_at("calendar", "a rolling window has no calendar; set isRolling: false")
        duration = item.read("duration", read_rolling_duration, required=True)
        if duration is None:
            return None
        window: Window = RollingWindow(duration)
        return window if check_window_range(item.get("duration") or item, window) else None
    mark = item.mark()
    length = item.read("duration", read_calendar_duration, required=True)
    timezone = None
    if calendar is not None and calendar.fields(CALENDAR_FIELDS):
        # startTime is accepted, but periods align to the unit's natural start in the zone.
        timezone = calendar.read("timeZone", read_timezone)
    if length is None or not item.clean_since(mark):
        return None
    window = CalendarWindow(length[0], timezone or "UTC", length[1])
    return window if check_window_range(item.get("duration") or item, window) else None


def read_slice_window(cursor: Cursor) -> timedelta | None:
    """``timeSliceWindow``: a number of minutes or a duration, whole minutes only."""
    if isinstance(cursor.value, int) and not isinstance(cursor.value, bool):
        if cursor.value <= 0:
            cursor.error("must be a positive number of minutes")
            return None
        most = MAX_SLICE // timedelta(minutes=1)
        if cursor.value > most:
            cursor.error(f"a timeslice is at most {most} minutes ({format_duration(MAX_SLICE)})")
            return None
        return timedelta(minutes=cursor.value)
    value = read_rolling_duration(cursor)
    if value is None or not check_slice_range(cursor, value):
        return None
    return value


def read_condition_object(obj: Cursor) -> AlertWindow | None:
    """An AlertCondition (document or inline) as a burn-rate alert window."""
    mark = obj.mark()
    metadata = read_metadata(obj.get("metadata"))
    extras = watchkeeper_annotations(metadata, (SHORT_WINDOW_ANNOTATION,))
    spec = obj.require("spec")
    if spec is None or not spec.fields(CONDITION_SPEC_FIELDS):
        return None
    spec.read("description", Cursor.text)
    severity_text = spec.read("severity", Cursor.text, required=True)
    condition = spec.require("condition")
    if condition is None or not condition.fields(CONDITION_FIELDS):
        return None
    kind = condition.read("kind", Cursor.text) or "burnrate"
    if kind.lower() != "burnrate":
        condition.error_at("kind", f"only burnrate conditions are supported, not {kind!r}")
    op = condition.read("op", Cursor.text)
    if op is not None and op not in ("gt", "gte"):
        condition.error_at("op", "burn-rate alerts fire when the burn rate is above: use gt")
    factor = condition.read("threshold", Cursor.number, required=True)
    if factor is not None and factor <= 0:
        condition.error_at("threshold", "must be above 0")
    long = condition.read("lookbackWindow", read_rolling_duration, required=True)
    condition.read("alertAfter", _read_alert_after)
    short = long / SHORT_WINDOW_DIVISOR if long is not None else None
    short_at = extras.get(SHORT_WINDOW_ANNOTATION)
    if short_at is not None:
        text = short_at.text()
        if text is not None:
            try:
                short = parse_duration(text)
            except ValueError as exc:
                short_at.error(str(exc))
    if short is not None and long is not None and short >= long:
        (short_at or condition).error(
            f"the short window must be shorter than {format_duration(long)}"
        )
    if not obj.clean_since(mark) or None in (severity_text, factor, long, short):
        return None
    assert severity_text is not None and factor is not None and long is not None
    assert short is not None
    severity = Severity.PAGE if severity_text.lower() in PAGE_SEVERITIES else Severity.TICKET
    return AlertWindow(severity, long, short, factor)


def _read_alert_after(cursor: Cursor) -> timedelta | None:
    # Accepted and not used: Watchkeeper's short window already debounces a burn.
    if cursor.value in ("0", "0m", "0s", 0):
        return timedelta()
    return read_rolling_duration(cursor)
