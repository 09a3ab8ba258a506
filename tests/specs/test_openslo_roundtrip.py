"""OpenSLO -> stored -> OpenSLO loses no field Watchkeeper reads (examples and generated)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.specs.strategies import slos
from watchkeeper.core.slo import SLO, SLIKind, SourceKind
from watchkeeper.specs import SpecSet, convert, load_paths, load_text, slo_from_dict, slo_to_dict

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "openslo"
OPENSLO_EXAMPLES = sorted(path.name for path in EXAMPLES.glob("*.yaml"))
ROUND_TRIP = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def stored(slo: SLO) -> SLO:
    """The SLO as ``slo apply`` keeps it (a JSON column) and reads it back."""
    return slo_from_dict(json.loads(json.dumps(slo_to_dict(slo))))


def through_storage(spec_set: SpecSet) -> SpecSet:
    """OpenSLO text -> loaded -> stored -> exported as OpenSLO -> loaded again."""
    kept = tuple(stored(slo) for slo in spec_set.slos)
    return load_text(convert(SpecSet(slos=kept), "openslo"))


def test_the_examples_cover_every_budgeting_method_and_source() -> None:
    loaded = load_paths([EXAMPLES])
    kinds = {slo.sli.kind for slo in loaded.slos}
    sources = {slo.sli.source for slo in loaded.slos}
    assert {SLIKind.RATIO, SLIKind.THRESHOLD, SLIKind.TIMESLICES, SLIKind.RATIO_TIMESLICES} <= kinds
    assert {SourceKind.WATCHKEEPER, SourceKind.PROMETHEUS, SourceKind.EXTERNAL} <= sources


@pytest.mark.parametrize("name", OPENSLO_EXAMPLES)
def test_openslo_examples_survive_storage_and_export(name: str) -> None:
    loaded = load_paths([EXAMPLES / name])
    again = through_storage(loaded)
    assert again.slos == loaded.slos
    # The output is stable: exporting what was read back writes the same text.
    assert convert(again, "openslo") == convert(SpecSet(slos=loaded.slos), "openslo")


@st.composite
def openslo_texts(draw: st.DrawFn) -> tuple[SpecSet, str]:
    drawn = [draw(slos(service=service)) for service in ("checkout", "search", "web-shop")]
    drawn += draw(st.lists(slos(), max_size=2))
    unique = SpecSet(slos=tuple({slo.key: slo for slo in drawn}.values()))
    return unique, convert(unique, "openslo")


@ROUND_TRIP
@given(openslo_texts())
def test_generated_openslo_survives_storage_and_export(case: tuple[SpecSet, str]) -> None:
    original, text = case
    loaded = load_text(text)
    assert {s.key: s for s in loaded.slos} == {s.key: s for s in original.slos}
    again = through_storage(loaded)
    assert {s.key: s for s in again.slos} == {s.key: s for s in original.slos}
    assert len(again.slos) == len(original.slos)
