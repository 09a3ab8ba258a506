"""OpenSLO files holding a YAML sequence of objects, as the OpenSLO SDK and ``oslo`` write."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from watchkeeper.core.slo import SLIKind, SourceKind
from watchkeeper.specs import SpecError, convert, load_paths, load_text

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

SEQUENCE = """\
- apiVersion: openslo/v1
  kind: DataSource
  metadata:
    name: datadog
  spec:
    type: Datadog
    connectionDetails:
      site: datadoghq.eu
- apiVersion: openslo/v1
  kind: SLI
  metadata:
    name: search-errors
  spec:
    ratioMetric:
      counter: true
      bad:
        metricSource:
          metricSourceRef: datadog
          spec:
            query: sum:search.errors{*}.as_count()
      total:
        metricSource:
          metricSourceRef: datadog
          spec:
            query: sum:search.requests{*}.as_count()
- apiVersion: openslo/v1
  kind: SLO
  metadata:
    name: search-availability
  spec:
    service: search
    indicatorRef: search-errors
    timeWindow:
      - duration: 28d
        isRolling: true
    budgetingMethod: Occurrences
    objectives:
      - target: 0.995
"""


def test_a_sequence_of_objects_loads_like_separate_documents() -> None:
    spec_set = load_text(SEQUENCE, filename="search.yaml")
    (slo,) = spec_set.slos
    assert slo.key == "search/search-availability"
    assert slo.objective == 0.995
    assert slo.sli.name == "search-errors"
    assert slo.sli.source is SourceKind.EXTERNAL
    assert slo.sli.external is not None
    # The DataSource's type is resolved into the kept definition.
    assert slo.sli.external.source_type == "Datadog"
    assert slo.sli.external.definition_dict()["ratioMetric"] == {
        "counter": True,
        "bad": {
            "metricSource": {
                "type": "Datadog",
                "spec": {"query": "sum:search.errors{*}.as_count()"},
            }
        },
        "total": {
            "metricSource": {
                "type": "Datadog",
                "spec": {"query": "sum:search.requests{*}.as_count()"},
            }
        },
    }
    assert spec_set.files[0].formats == ("openslo",)
    as_documents = SEQUENCE.replace("\n- apiVersion", "\n---\napiVersion")
    as_documents = "\n".join(
        line[2:] if line.startswith("  ") else line.removeprefix("- ")
        for line in as_documents.splitlines()
    )
    assert load_text(as_documents).slos == spec_set.slos


def test_problems_in_a_sequence_name_the_item_and_line() -> None:
    broken = SEQUENCE.replace("target: 0.995", "target: 99.5").replace(
        "metricSourceRef: datadog\n          spec:\n            query: sum:search.requests",
        "metricSourceRef: data-dog\n          spec:\n            query: sum:search.requests",
    )
    with pytest.raises(SpecError) as caught:
        load_text(broken, filename="search.yaml")
    found = [(p.line, p.field) for p in caught.value.problems]
    assert found == [
        (23, "[1].spec.ratioMetric.total.metricSource.metricSourceRef"),
        (38, "[2].spec.objectives[0].target"),
    ]
    assert "did you mean 0.995?" in caught.value.problems[1].message
    assert str(caught.value.problems[1]).startswith(
        "search.yaml:38: document 1: [2].spec.objectives[0].target: "
    )


def test_sequences_and_documents_mix_in_one_file() -> None:
    text = textwrap.dedent(
        """\
        - apiVersion: openslo/v1
          kind: SLI
          metadata: {name: checkout-requests}
          spec:
            ratioMetric:
              good: {metricSource: {type: watchkeeper}}
              total: {metricSource: {type: watchkeeper}}
        ---
        apiVersion: openslo/v1
        kind: SLO
        metadata: {name: checkout}
        spec:
          service: checkout
          indicatorRef: checkout-requests
          timeWindow: [{duration: 7d, isRolling: true}]
          budgetingMethod: RatioTimeslices
          objectives: [{target: 0.99, timeSliceWindow: 5m}]
        """
    )
    (slo,) = load_text(text).slos
    assert slo.sli.kind is SLIKind.RATIO_TIMESLICES
    assert slo.sli.source is SourceKind.WATCHKEEPER


def test_items_that_are_not_objects_are_reported_by_position() -> None:
    with pytest.raises(SpecError) as caught:
        load_text("- 3\n- apiVersion: openslo/v1\n  kind: Nope\n-\n", filename="list.yaml")
    found = [(p.line, p.field, p.message) for p in caught.value.problems]
    assert found[0][:2] == (1, "[0]")
    assert "a list item must be a mapping" in found[0][2]
    assert found[1][:2] == (3, "[1].kind")
    assert "unknown OpenSLO kind" in found[1][2]
    assert found[2][:2] == (4, "[2]")


def test_converting_a_sequence_file_round_trips(tmp_path: Path) -> None:
    source = tmp_path / "search.yaml"
    source.write_text(SEQUENCE, encoding="utf-8")
    loaded = load_paths([source])
    assert load_text(convert(loaded, "openslo")).slos == loaded.slos
    assert load_text(convert(loaded, "native")).slos == loaded.slos
