"""YAML documents that remember where each value came from.

PyYAML's safe loader forgets node positions once it builds Python objects, yet every spec
problem must name its line. This loader builds ordinary dicts and lists (so values behave as
usual) whose subclasses keep the 1-based line of each key, value and item, and the keys that
were given twice (YAML forbids it; PyYAML silently keeps the last).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import yaml
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode, SequenceNode

from watchkeeper.specs.problems import Problem


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


class _LocatingLoader(yaml.SafeLoader):
    """SafeLoader building YamlMap and YamlList."""


def _construct_mapping(loader: _LocatingLoader, node: MappingNode) -> Iterator[YamlMap]:
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


def _construct_sequence(loader: _LocatingLoader, node: SequenceNode) -> Iterator[YamlList]:
    data = YamlList(node.start_mark.line + 1)
    yield data
    for item in node.value:
        data.append(loader.construct_object(item, deep=True))
        data.item_lines.append(item.start_mark.line + 1)


_LocatingLoader.add_constructor("tag:yaml.org,2002:map", _construct_mapping)
_LocatingLoader.add_constructor("tag:yaml.org,2002:seq", _construct_sequence)


@dataclass(frozen=True)
class Document:
    """One YAML document of a file: its 1-based index and its value."""

    index: int
    value: Any


def parse_documents(text: str, filename: str) -> tuple[list[Document], Problem | None]:
    """All documents of ``text``; a syntax error ends the file and is returned as a problem."""
    documents: list[Document] = []
    loader = _LocatingLoader(text)
    try:
        while loader.check_data():  # type: ignore[no-untyped-call]
            documents.append(Document(len(documents) + 1, loader.get_data()))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        detail = " ".join(part for part in (exc.context, exc.problem) if part)
        return documents, Problem(
            filename,
            len(documents) + 1,
            mark.line + 1 if mark is not None else None,
            "",
            f"YAML syntax error: {detail or exc}",
        )
    except yaml.YAMLError as exc:
        return documents, Problem(filename, len(documents) + 1, None, "", f"YAML error: {exc}")
    finally:
        loader.dispose()
    return documents, None
