"""YAML reading limits: depth, expanded node count, recursive aliases, values that cannot be built.

Every hostile document here is refused with one problem naming the file and the line where
the limit was passed. Times are CPU seconds of this process (other processes on a shared
machine do not count); the bound is a generous safety net, the refusal is what is asserted.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from watchkeeper.specs import Problem, SpecError, load_paths, load_text, yaml_nodes
from watchkeeper.specs.yaml_nodes import MAX_DEPTH, MAX_NODES, OutOfRangeNumber, parse_documents

TOO_LARGE = "document too large or too deeply nested: "
TIME_BOUND = 2.0  # CPU seconds; each case takes milliseconds, the largest accepted well under 1
FANOUT = 9


@pytest.fixture(params=["libyaml", "python"], autouse=True)
def loader(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Every test runs on both event sources: libyaml's parser and PyYAML's pure-Python one."""
    if request.param == "python":
        monkeypatch.setattr(yaml_nodes, "_Loader", yaml_nodes._PythonLoader)
    elif not hasattr(yaml_nodes, "_LibyamlLoader"):
        pytest.skip("PyYAML was built without libyaml")
    yield request.param


def timed(work: Callable[[], Any]) -> tuple[Any, float]:
    """``work()``'s result (or the exception it raised) and the CPU seconds it took."""
    # This thread's CPU only: threads other tests left running (servers, clients) must not
    # count against the parse.
    start = time.thread_time()
    try:
        result: Any = work()
    except Exception as exc:
        result = exc
    return result, time.thread_time() - start


def only_problem(text: str, filename: str = "hostile.yaml") -> Problem:
    """The single problem of loading ``text``, checked to come within the time bound."""
    result, seconds = timed(lambda: load_text(text, filename=filename))
    assert isinstance(result, SpecError), result
    assert seconds < TIME_BOUND, seconds
    (problem,) = result.problems
    assert problem.file == filename
    return problem


# -- expanded node count ---------------------------------------------------------------------


def alias_bomb(levels: int) -> str:
    """``l0: &l0 [x, x, ...]`` then each level a list of FANOUT aliases to the level before."""
    lines = [f"l0: &l0 [{', '.join(['x'] * FANOUT)}]"]
    lines += [f"l{k}: &l{k} [{', '.join([f'*l{k - 1}'] * FANOUT)}]" for k in range(1, levels)]
    return "\n".join(lines) + "\n"


def merge_bomb(levels: int) -> str:
    """``m0: &m0 {k0: x, ...}`` then each level merges the one before FANOUT times."""
    keys = ", ".join(f"k{i}: x" for i in range(FANOUT))
    lines = [f"m0: &m0 {{{keys}}}"]
    lines += [
        f"m{k}: &m{k} {{<<: [{', '.join([f'*m{k - 1}'] * FANOUT)}], own: x}}"
        for k in range(1, levels)
    ]
    return "\n".join(lines) + "\n"


def line_passing_limit(first_size: int, next_size: Callable[[int], int], levels: int) -> int:
    """Naive expansion of a bomb: the 1-based line of the level whose nodes pass MAX_NODES.

    Each line holds one level: a key (1 node) and its value; the root mapping is 1 node.
    """
    total, size = 1, first_size
    for level in range(levels):
        total += 1 + size
        if total > MAX_NODES:
            return level + 1
        size = next_size(size)
    raise AssertionError("the bomb does not pass the limit")


@pytest.mark.parametrize("levels", [6, 7])
def test_alias_bombs_are_refused_at_the_alias_passing_the_node_limit(levels: int) -> None:
    text = alias_bomb(levels)
    assert len(text) < 1024  # well under a kilobyte, billions of nodes once expanded
    problem = only_problem(text)
    expected_line = line_passing_limit(1 + FANOUT, lambda size: 1 + FANOUT * size, levels)
    assert (problem.document, problem.line, problem.field) == (1, expected_line, "")
    assert problem.message.startswith(
        f"{TOO_LARGE}more than {MAX_NODES} nodes in the file at alias *l{expected_line - 2}"
    )


@pytest.mark.parametrize("levels", [6, 7])
def test_merge_key_bombs_are_refused_at_the_merge_passing_the_node_limit(levels: int) -> None:
    text = merge_bomb(levels)
    assert len(text) < 1024
    problem = only_problem(text)
    # A level: the mapping, the << key, the list of aliases, FANOUT merged mappings, own: x.
    expected_line = line_passing_limit(
        1 + 2 * FANOUT, lambda size: 1 + 1 + 1 + FANOUT * size + 2, levels
    )
    assert (problem.document, problem.line) == (1, expected_line)
    assert problem.message.startswith(f"{TOO_LARGE}more than {MAX_NODES} nodes in the file")


def test_a_bomb_inside_a_spec_is_refused_before_the_spec_is_read() -> None:
    text = (
        "apiVersion: watchkeeper/v1\nkind: ServiceLevels\nservice: shop\n"
        + alias_bomb(7).replace("l0:", "labels:\n  l0:").replace("\nl", "\n  l")
        + "slos: []\n"
    )
    problem = only_problem(text)
    assert problem.message.startswith(TOO_LARGE)
    # The bomb starts on line 5; the spec's own few nodes do not move the level passing it.
    expected = line_passing_limit(1 + FANOUT, lambda size: 1 + FANOUT * size, 7)
    assert problem.line == 4 + expected


def test_the_node_limit_counts_the_whole_file_across_documents() -> None:
    # Each document: x (1,003 nodes with its key) and y repeating it, just over half the limit.
    repeats = MAX_NODES // 2 // 1001
    document = f"x: &x [{', '.join(['1'] * 1000)}]\ny: [{', '.join(['*x'] * repeats)}]\n"
    documents, problem = parse_documents(document + "---\n" + document, "f.yaml")
    assert len(documents) == 1  # the first document is read, and checked as usual
    assert problem is not None
    assert (problem.document, problem.line) == (2, 5)
    assert problem.message.startswith(f"{TOO_LARGE}more than {MAX_NODES} nodes")


def test_recursive_aliases_are_refused() -> None:
    for text in ("a: &a [1, *a]\n", "a: &a {b: {c: *a}}\n"):
        problem = only_problem(text)
        assert problem.line == 1
        assert problem.message == (
            f"{TOO_LARGE}alias *a is used inside the node it names (a recursive alias)"
        )


def test_an_alias_to_a_finished_node_is_fine() -> None:
    documents, problem = parse_documents("a: &a {b: 1}\nc: [*a, *a]\n", "f.yaml")
    assert problem is None
    assert documents[0].value["c"] == [{"b": 1}, {"b": 1}]


# -- depth -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("shape", "text"),
    [
        ("flow sequences", "[" * 50_000 + "]" * 50_000),
        ("flow mappings", "{a: " * 50_000 + "1" + "}" * 50_000),
        ("block sequences", "- " * 50_000 + "1\n"),
        ("unclosed flow sequences", "[" * 50_000),
    ],
)
def test_deep_nesting_is_refused_by_the_depth_limit(shape: str, text: str) -> None:
    problem = only_problem(text)
    assert (problem.document, problem.line) == (1, 1), shape
    assert problem.message == f"{TOO_LARGE}more than {MAX_DEPTH} levels of nesting", shape


def test_deep_block_mappings_are_refused_on_the_line_passing_the_limit() -> None:
    levels = 500  # 50,000 levels would take 1.25 GB of indentation; flow mappings go deeper
    text = "".join(" " * level + "a:\n" for level in range(levels)) + " " * levels + "1\n"
    problem = only_problem(text)
    # The mapping on line k is at depth k; its key "a" (same line) is one deeper, so the key
    # on line MAX_DEPTH is the first node past the limit.
    assert problem.line == MAX_DEPTH
    assert problem.message == f"{TOO_LARGE}more than {MAX_DEPTH} levels of nesting"


def test_nesting_up_to_the_limit_is_read() -> None:
    depth = MAX_DEPTH - 1  # the innermost scalar is one level deeper
    documents, problem = parse_documents("[" * depth + "1" + "]" * depth, "f.yaml")
    assert problem is None
    value = documents[0].value
    for _ in range(depth):
        value = value[0]
    assert value == 1


def test_depth_counts_aliases_expanded() -> None:
    inner = MAX_DEPTH // 2 + 2
    text = f"a: &a {'[' * inner}1{']' * inner}\nb: {'[' * inner}*a{']' * inner}\n"
    problem = only_problem(text)
    assert problem.line == 2
    assert problem.message == (
        f"{TOO_LARGE}more than {MAX_DEPTH} levels of nesting once alias *a is expanded"
    )


# -- the largest accepted documents ----------------------------------------------------------

SPEC_HEAD = "apiVersion: watchkeeper/v1\nkind: ServiceLevels\nservice: shop\nslos:\n"
BASE_SLO = (
    "  - &base {name: s0, objective: 0.999, window: 30d, sli: {kind: ratio, source: prometheus, "
    "prometheus: {good: 'sum(rate(good_total[{{.window}}]))', "
    "total: 'sum(rate(all_total[{{.window}}]))'}}, "
    "alerting: {page: {labels: {team: shop}}, min_events: 10}, labels: {tier: one}}\n"
)


def merged_slos(count: int) -> str:
    return (
        SPEC_HEAD + BASE_SLO + "".join(f"  - {{<<: *base, name: s{i}}}\n" for i in range(1, count))
    )


def naive_size(node: yaml.Node) -> int:
    """Nodes of a composed document, each alias walked again (PyYAML shares the node)."""
    if isinstance(node, yaml.ScalarNode):
        return 1
    if isinstance(node, yaml.SequenceNode):
        return 1 + sum(naive_size(item) for item in node.value)
    return 1 + sum(naive_size(key) + naive_size(value) for key, value in node.value)


def largest_accepted(build: Callable[[int], str]) -> int:
    """The largest count for ``build`` within MAX_NODES, by a naive count of small documents."""
    one, two = (naive_size(yaml.compose(build(n), Loader=yaml.SafeLoader)) for n in (1, 2))
    return 1 + (MAX_NODES - one) // (two - one)


def test_the_largest_alias_expanded_spec_is_read_and_checked_quickly() -> None:
    count = largest_accepted(merged_slos)
    assert count > 1000  # a thousand full SLOs fit
    result, seconds = timed(lambda: load_text(merged_slos(count)))
    assert not isinstance(result, Exception), result
    assert len(result.slos) == count
    assert seconds < TIME_BOUND, seconds
    # One SLO more passes the limit, and is refused before any SLO is checked.
    problem = only_problem(merged_slos(count + 1))
    assert problem.message.startswith(f"{TOO_LARGE}more than {MAX_NODES} nodes")


def test_the_largest_plain_document_is_read_quickly(loader: str) -> None:
    if loader == "python":
        pytest.skip("PyYAML's pure-Python parser (the fallback without libyaml) is slower on text")

    def labels(count: int) -> str:
        pairs = ", ".join(f"k{i}: v{i}" for i in range(count))
        return (
            SPEC_HEAD.replace("slos:\n", f"labels: {{{pairs}}}\nslos:\n")
            + "  - {name: a, objective: 0.999, window: 30d, sli: {}}\n"
        )

    count = largest_accepted(labels)
    result, seconds = timed(lambda: load_text(labels(count)))
    assert not isinstance(result, Exception), result
    assert len(result.slos[0].labels) == count
    assert seconds < TIME_BOUND, seconds
    problem = only_problem(labels(count + 1))
    assert problem.message.startswith(f"{TOO_LARGE}more than {MAX_NODES} nodes")


# -- values that cannot be built -------------------------------------------------------------


def test_out_of_range_numbers_are_kept_as_written() -> None:
    big = "1" + "0" * 400
    text = f"a: {big}\nb: 0x{'f' * 5000}\nc: 1.0e+400\nd: -{big}\ne: 9223372036854775807\nf: .inf\n"
    text += f"g: {'9' * 5000}\nh: {'1:' * 5000}1\n"
    (document,), problem = parse_documents(text, "f.yaml")
    assert problem is None
    value = document.value
    assert value["a"] == OutOfRangeNumber(big)
    assert isinstance(value["b"], OutOfRangeNumber)
    assert value["c"] == OutOfRangeNumber("1.0e+400")
    assert value["d"].negative and not value["a"].negative
    assert value["e"] == 2**63 - 1
    assert value["f"] == float("inf")  # an explicit infinity is a float (refused as not finite)
    assert isinstance(value["g"], OutOfRangeNumber)  # past Python's 4300-digit conversion cap
    assert isinstance(value["h"], OutOfRangeNumber)  # base 60, never converted
    assert len(str(value["g"])) < 40


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("a: 1\nb: !!int x\n", 2, "cannot read 'x' as tag:yaml.org,2002:int"),
        ("a: 1\nb: !!float x\n", 2, "cannot read 'x' as tag:yaml.org,2002:float"),
    ],
)
def test_explicit_tags_that_cannot_be_built_are_yaml_problems(
    text: str, line: int, message: str
) -> None:
    problem = only_problem(text)
    assert problem.line == line
    assert message in problem.message


def test_date_like_text_that_is_no_date_stays_text() -> None:
    (document,), problem = parse_documents(
        "a: 2026-13-45\nb: 2026-01-01T00:00:00+99:00\nc: !!timestamp x\n", "f.yaml"
    )
    assert problem is None
    assert document.value == {
        "a": "2026-13-45",
        "b": "2026-01-01T00:00:00+99:00",
        "c": "x",
    }


def test_limits_through_load_paths(tmp_path: Path) -> None:
    good = tmp_path / "a.yaml"
    good.write_text(merged_slos(3))
    bomb = tmp_path / "b.yaml"
    bomb.write_text(alias_bomb(7))
    with pytest.raises(SpecError) as caught:
        load_paths([tmp_path])
    (problem,) = caught.value.problems
    assert problem.file == str(bomb)
    assert problem.message.startswith(TOO_LARGE)
