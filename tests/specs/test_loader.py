"""Loading files and text: format detection, YAML errors, paths and positions."""

from __future__ import annotations

from pathlib import Path

import pytest

from watchkeeper.specs import Problem, SpecError, load_paths, load_text
from watchkeeper.specs.yaml_nodes import YamlList, YamlMap, parse_documents

NATIVE = """\
apiVersion: watchkeeper/v1
kind: ServiceLevels
service: {service}
slos:
  - {{name: availability, objective: 0.999, window: 30d, sli: {{}}}}
"""


def test_positions_are_recorded_for_keys_values_and_items() -> None:
    documents, problem = parse_documents("a: 1\nb:\n  - x\n  - {c: 2}\n---\n", "f.yaml")
    assert problem is None
    assert [d.index for d in documents] == [1, 2]
    first = documents[0].value
    assert isinstance(first, YamlMap)
    assert (first.line, first.key_lines["b"], first.value_lines["b"]) == (1, 2, 3)
    assert isinstance(first["b"], YamlList)
    assert first["b"].item_lines == [3, 4]
    assert documents[1].value is None  # the empty document after the last ---


def test_yaml_syntax_errors_report_their_line_after_earlier_documents() -> None:
    text = NATIVE.format(service="ok") + "---\napiVersion: watchkeeper/v1\nkind: [unclosed\n"
    with pytest.raises(SpecError) as caught:
        load_text(text, filename="broken.yaml")
    (problem,) = caught.value.problems
    assert (problem.file, problem.document, problem.line) == ("broken.yaml", 2, 9)
    assert problem.message.startswith("YAML syntax error:")


def test_anchors_and_merge_keys_work() -> None:
    spec_set = load_text(
        """\
apiVersion: watchkeeper/v1
kind: ServiceLevels
service: checkout
slos:
  - &base {name: a, objective: 0.999, window: 30d, sli: {}}
  - <<: *base
    name: b
"""
    )
    assert [slo.key for slo in spec_set.slos] == ["checkout/a", "checkout/b"]


def test_unknown_formats_are_named() -> None:
    with pytest.raises(SpecError) as caught:
        load_text(
            "apiVersion: openslo/v2alpha\nkind: SLO\n---\napiVersion: monitoring.coreos.com/v1\n"
            "---\nversion: prometheus/v2\n---\nservice: x\n---\n42\n---\n{1: a}\n"
        )
    messages = [(p.document, p.field, p.message) for p in caught.value.problems]
    assert messages[0] == (
        1,
        "apiVersion",
        "'openslo/v2alpha' is not supported; Watchkeeper reads openslo/v1",
    )
    assert messages[1][1] == "apiVersion" and "unknown apiVersion" in messages[1][2]
    assert messages[2][1] == "version" and "prometheus/v1" in messages[2][2]
    assert "cannot tell the spec format" in messages[3][2]
    assert "must be a mapping" in messages[4][2]
    assert "cannot tell the spec format" in messages[5][2]


def test_paths_directories_and_missing_files(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(NATIVE.format(service="alpha"))
    nested = tmp_path / "nested"
    nested.mkdir()
    (nested / "b.yml").write_text(NATIVE.format(service="beta"))
    (nested / "notes.txt").write_text("not a spec")
    hidden = tmp_path / ".git"
    hidden.mkdir()
    (hidden / "c.yaml").write_text("broken: [")
    spec_set = load_paths([tmp_path, tmp_path / "a.yaml"])  # a.yaml only once
    assert [slo.key for slo in spec_set.slos] == ["alpha/availability", "beta/availability"]
    assert [Path(f.path).name for f in spec_set.files] == ["a.yaml", "b.yml"]

    empty = tmp_path / "empty"
    empty.mkdir()
    (tmp_path / "latin1.yaml").write_bytes("service: caf\xe9".encode("latin-1"))
    with pytest.raises(SpecError) as caught:
        load_paths([tmp_path / "missing.yaml", empty, tmp_path / "latin1.yaml"])
    assert [(Path(p.file).name, p.document, p.line) for p in caught.value.problems] == [
        ("missing.yaml", 0, None),
        ("empty", 0, None),
        ("latin1.yaml", 0, None),
    ]
    assert (
        str(caught.value.problems[0]) == f"{tmp_path / 'missing.yaml'}: no such file or directory"
    )
    assert "no .yaml or .yml files" in caught.value.problems[1].message
    assert "cannot read" in caught.value.problems[2].message


def test_duplicates_across_files_name_the_first_place(tmp_path: Path) -> None:
    (tmp_path / "one.yaml").write_text(NATIVE.format(service="checkout"))
    (tmp_path / "two.yaml").write_text(
        "version: prometheus/v1\nservice: checkout\nslos:\n  - name: availability\n"
        "    objective: 99.9\n    sli: {raw: {error_ratio_query: x}}\n"
    )
    with pytest.raises(SpecError) as caught:
        load_paths([tmp_path])
    (problem,) = caught.value.problems
    assert problem == Problem(
        str(tmp_path / "two.yaml"),
        1,
        4,
        "slos[0].name",
        f"SLO 'checkout/availability' is defined twice (first in {tmp_path / 'one.yaml'}:5, "
        "document 1)",
    )


def test_problem_text_without_line_or_document() -> None:
    assert str(Problem("f.yaml", 0, None, "", "gone")) == "f.yaml: gone"
    assert str(Problem("f.yaml", 2, 7, "", "bad")) == "f.yaml:7: document 2: bad"
