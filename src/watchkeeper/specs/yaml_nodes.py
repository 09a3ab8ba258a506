"""YAML documents that remember where each value came from, read within fixed bounds.

PyYAML's safe loader forgets node positions once it builds Python objects, yet every spec
problem must name its line. This loader builds ordinary dicts and lists (so values behave as
usual) whose subclasses keep the 1-based line of each key, value and item, and the keys that
were given twice (YAML forbids it; PyYAML silently keeps the last).

Reading is bounded while the document is composed, before any Python object is built:

- nesting deeper than :data:`MAX_DEPTH` levels is refused (PyYAML's composer recurses once
  per level, so an unbounded document would end in RecursionError);
- more than :data:`MAX_NODES` nodes in one file are refused, where an alias counts every node
  of what it repeats, and so does a merge key (``<<: *a``), so "billion laughs" bombs stop as
  soon as their expanded size passes the limit, after a few thousand events at most;
- an alias inside the node it names (a recursive structure) is refused.

Numbers a spec cannot use are kept as :class:`OutOfRangeNumber` (whole numbers beyond 64 bits,
decimals beyond the float range) so the reader of each field can say "is too large" on its
line; unreadable timestamps stay text, so the field reader can name them too.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Protocol, TypeAlias

import yaml
from yaml.composer import Composer
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.events import AliasEvent
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from watchkeeper.specs.problems import Problem

# Real specs nest about ten levels deep (OpenSLO: document, spec, indicator, spec,
# ratioMetric, good, metricSource, spec, query); 64 leaves room for any hand-written spec
# while keeping PyYAML's recursive composer and constructor far from Python's stack limit.
MAX_DEPTH = 64
# One SLO takes 10 to 40 nodes (60 in OpenSLO with its SLI), so a file at the limit holds a
# thousand SLOs or more. Checking that many, however they were repeated by aliases, takes a
# fraction of a second; parsing 50,000 nodes of plain text with libyaml about half a second.
MAX_NODES = 50_000
# Whole numbers a spec may use: signed 64 bits (what PostgreSQL's BIGINT holds).
MAX_INTEGER = 2**63 - 1
# Integer text longer than this is out of range whatever its base, and is never converted
# (converting long decimal or base-60 text costs quadratic time).
_MAX_INTEGER_TEXT = 80
TOO_LARGE = "document too large or too deeply nested"


class YamlMap(dict[Any, Any]):
    """A mapping with the line of itself, of each key and of each value."""

    def __init__(self, line: int | None = None) -> None:
        super().__init__()
        self.line = line
        self.key_lines: dict[Any, int] = {}
        self.value_lines: dict[Any, int] = {}
        self.duplicate_keys: list[tuple[Any, int, int]] = []  # key, line, first line


class YamlList(list[Any]):
    """A sequence with the line of itself and of each item."""

    def __init__(self, line: int | None = None) -> None:
        super().__init__()
        self.line = line
        self.item_lines: list[int] = []


@dataclass(frozen=True)
class OutOfRangeNumber:
    """A number written in the YAML that no spec field can hold; ``text`` is as written."""

    text: str

    @property
    def negative(self) -> bool:
        """Whether the number is below zero."""
        return self.text.lstrip().startswith("-")

    def __str__(self) -> str:
        return self.text if len(self.text) <= 40 else f"{self.text[:20]}...{self.text[-10:]}"

    def __repr__(self) -> str:
        return str(self)


class Mark(Protocol):
    """Where a YAML event starts (PyYAML's and libyaml's marks both have a 0-based line)."""

    line: int


class DocumentTooLarge(yaml.YAMLError):
    """A document passed a reading limit; ``what`` says which, ``mark`` where."""

    def __init__(self, what: str, mark: Mark | None) -> None:
        super().__init__(f"{TOO_LARGE}: {what}")
        self.what = what
        self.mark = mark


class _BoundedComposer(Composer):
    """PyYAML's composer with a depth limit and a per-file count of expanded nodes."""

    def __init__(self) -> None:
        # Not super(): in the loaders below the next class in line is the constructor, which
        # its loader initialises itself.
        Composer.__init__(self)
        self._nodes = 0  # expanded nodes so far in this file
        self._depth = 0  # depth of the node being composed (the root is 1)
        self._reach = 0  # deepest level reached inside it, aliases expanded
        # Per anchor of the current document whose node is complete: expanded size, height.
        self._expanded: dict[Any, tuple[int, int]] = {}

    def compose_document(self) -> Node | None:
        node = super().compose_document()
        self._expanded = {}
        return node

    def compose_node(self, parent: Node | None, index: int) -> Node | None:
        event = self.peek_event()  # type: ignore[attr-defined]
        if isinstance(event, AliasEvent):
            self._expand_alias(event)
            return super().compose_node(parent, index)
        depth = self._depth + 1
        if depth > MAX_DEPTH:
            raise DocumentTooLarge(f"more than {MAX_DEPTH} levels of nesting", event.start_mark)
        self._count(1, event.start_mark, "")
        nodes_before, outer_reach = self._nodes, self._reach
        self._depth = self._reach = depth
        node = super().compose_node(parent, index)
        height = self._reach - depth + 1
        self._depth, self._reach = depth - 1, max(outer_reach, self._reach)
        if event.anchor is not None:
            self._expanded[event.anchor] = (self._nodes - nodes_before + 1, height)
        return node

    def _expand_alias(self, event: AliasEvent) -> None:
        anchor = event.anchor
        if anchor not in self.anchors:
            return  # PyYAML reports the undefined alias
        expanded = self._expanded.get(anchor)
        if expanded is None:
            raise DocumentTooLarge(
                f"alias *{anchor} is used inside the node it names (a recursive alias)",
                event.start_mark,
            )
        size, height = expanded
        if self._depth + height > MAX_DEPTH:
            raise DocumentTooLarge(
                f"more than {MAX_DEPTH} levels of nesting once alias *{anchor} is expanded",
                event.start_mark,
            )
        self._reach = max(self._reach, self._depth + height)
        self._count(size, event.start_mark, f" at alias *{anchor}")

    def _count(self, nodes: int, mark: Mark | None, where: str) -> None:
        self._nodes += nodes
        if self._nodes > MAX_NODES:
            raise DocumentTooLarge(
                f"more than {MAX_NODES} nodes in the file{where} "
                "(an alias or merge key counts every node it repeats)",
                mark,
            )


class _LocatingConstructor(SafeConstructor):
    """SafeConstructor whose failures to build a value are marked errors, never tracebacks."""

    def construct_object(self, node: Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep=deep)
        except yaml.YAMLError:
            raise
        except Exception as exc:  # any failure to build a value is a mistake in the input
            raise ConstructorError(
                None, None, f"cannot read {_preview(node)} as {node.tag}: {exc}", node.start_mark
            ) from None


# What the constructors below are called with: one of the two loaders at the end of the file
# (typed as PyYAML's own loaders, which they extend).
_AnyLoader: TypeAlias = "yaml.SafeLoader | yaml.CSafeLoader"


def _construct_mapping(loader: _AnyLoader, node: MappingNode) -> Iterator[YamlMap]:
    data = YamlMap(node.start_mark.line + 1)
    yield data
    # Keys merged in with ``<<`` may be overridden; only keys written twice are duplicates.
    explicit = {id(key) for key, _ in node.value if key.tag != "tag:yaml.org,2002:merge"}
    explicit_keys: set[Any] = set()
    loader.flatten_mapping(node)
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        try:
            hash(key)
        except TypeError:
            raise ConstructorError(
                "while constructing a mapping",
                node.start_mark,
                "found an unhashable key",
                key_node.start_mark,
            ) from None
        key_line = key_node.start_mark.line + 1
        if id(key_node) in explicit:
            if key in explicit_keys:
                data.duplicate_keys.append((key, key_line, data.key_lines[key]))
            explicit_keys.add(key)
        data[key] = loader.construct_object(value_node, deep=True)
        data.key_lines[key] = key_line
        data.value_lines[key] = value_node.start_mark.line + 1


def _construct_sequence(loader: _AnyLoader, node: SequenceNode) -> Iterator[YamlList]:
    data = YamlList(node.start_mark.line + 1)
    yield data
    for item in node.value:
        data.append(loader.construct_object(item, deep=True))
        data.item_lines.append(item.start_mark.line + 1)


def _construct_int(loader: _AnyLoader, node: ScalarNode) -> int | OutOfRangeNumber:
    text = str(loader.construct_scalar(node))
    if len(text.replace("_", "").lstrip("+-")) > _MAX_INTEGER_TEXT:
        return OutOfRangeNumber(text)
    try:
        value: int = loader.construct_yaml_int(node)
    except ValueError as exc:
        if "Exceeds the limit" in str(exc):  # Python's cap on decimal digits to convert
            return OutOfRangeNumber(text)
        raise
    return OutOfRangeNumber(text) if abs(value) > MAX_INTEGER else value


def _construct_float(loader: _AnyLoader, node: ScalarNode) -> float | OutOfRangeNumber:
    value: float = loader.construct_yaml_float(node)
    text = str(loader.construct_scalar(node))
    if math.isinf(value) and text.replace("_", "").lower().lstrip("+-") != ".inf":
        return OutOfRangeNumber(text)  # finite notation beyond the float range
    return value


def _construct_timestamp(loader: _AnyLoader, node: ScalarNode) -> Any:
    try:
        return loader.construct_yaml_timestamp(node)
    except (ValueError, OverflowError, AttributeError):
        # Date-like text that is no date (2026-13-45) stays text: the field reader names it.
        return loader.construct_scalar(node)


def _preview(node: Node) -> str:
    if isinstance(node, ScalarNode):
        return repr(str(OutOfRangeNumber(str(node.value))))
    return "a mapping" if isinstance(node, MappingNode) else "a sequence"


for _tag, _constructor in (
    ("tag:yaml.org,2002:map", _construct_mapping),
    ("tag:yaml.org,2002:seq", _construct_sequence),
    ("tag:yaml.org,2002:int", _construct_int),
    ("tag:yaml.org,2002:float", _construct_float),
    ("tag:yaml.org,2002:timestamp", _construct_timestamp),
):
    _LocatingConstructor.add_constructor(_tag, _constructor)


class _PythonLoader(_BoundedComposer, _LocatingConstructor, yaml.SafeLoader):
    """The bounded loader on PyYAML's pure-Python scanner and parser."""

    def __init__(self, stream: str) -> None:
        yaml.SafeLoader.__init__(self, stream)
        _BoundedComposer.__init__(self)


_Loader: type[_PythonLoader] | type[_LibyamlLoader] = _PythonLoader
if yaml.__with_libyaml__:

    class _LibyamlLoader(_BoundedComposer, _LocatingConstructor, yaml.CSafeLoader):
        """The bounded loader on libyaml's parser: the same nodes and limits, several times faster.

        Only the events come from libyaml; composing (with the limits) and constructing stay
        in Python, so both loaders read every document the same way.
        """

        def __init__(self, stream: str) -> None:
            yaml.CSafeLoader.__init__(self, stream)
            _BoundedComposer.__init__(self)

    _Loader = _LibyamlLoader


@dataclass(frozen=True)
class Document:
    """One YAML document of a file: its 1-based index and its value."""

    index: int
    value: Any


def parse_documents(text: str, filename: str) -> tuple[list[Document], Problem | None]:
    """All documents of ``text``; a syntax error or a passed limit ends the file as a problem."""
    documents: list[Document] = []
    loader = _Loader(text)
    try:
        while loader.check_data():  # type: ignore[no-untyped-call]
            documents.append(Document(len(documents) + 1, loader.get_data()))
    except DocumentTooLarge as exc:
        return documents, Problem(
            filename, len(documents) + 1, _line(exc.mark), "", f"{TOO_LARGE}: {exc.what}"
        )
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        detail = " ".join(part for part in (exc.context, exc.problem) if part)
        return documents, Problem(
            filename, len(documents) + 1, _line(mark), "", f"YAML syntax error: {detail or exc}"
        )
    except yaml.YAMLError as exc:
        return documents, Problem(filename, len(documents) + 1, None, "", f"YAML error: {exc}")
    finally:
        loader.dispose()
    return documents, None


def _line(mark: Mark | None) -> int | None:
    return mark.line + 1 if mark is not None else None


def json_shape_problem(value: Any) -> str | None:
    """Why a decoded JSON value is larger or deeper than a spec document may be, or None."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    nodes = 0
    while stack:
        item, depth = stack.pop()
        nodes += 1
        if depth > MAX_DEPTH:
            return f"{TOO_LARGE}: more than {MAX_DEPTH} levels of nesting"
        if nodes > MAX_NODES:
            return f"{TOO_LARGE}: more than {MAX_NODES:,} values"
        if isinstance(item, dict):
            stack.extend((child, depth + 1) for child in item.values())
        elif isinstance(item, list):
            stack.extend((child, depth + 1) for child in item)
    return None
