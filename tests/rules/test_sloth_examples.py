"""Compat mode against Sloth's own examples: the same groups, rules, labels, annotations and
expressions (modulo whitespace) as the rules Sloth generated for each example spec.

``sloth_version`` is the one value that differs by design: Sloth writes its own version,
Watchkeeper ``watchkeeper-<version>``; the label must be present, its value is not compared.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from watchkeeper.rules import Mode, OutputFormat, generate
from watchkeeper.specs import load_paths

FIXTURES = Path(__file__).parent / "fixtures" / "sloth"
EXAMPLES = sorted(path.name.removesuffix(".gen.yml") for path in FIXTURES.glob("*.gen.yml"))
# scripts/examplesgen.sh in Sloth passes this extra label to every example.
EXTRA_LABELS = {"cmd": "examplesgen.sh"}
VERSION_LABEL = "sloth_version"


def _groups(document: dict[str, Any]) -> list[dict[str, Any]]:
    if document.get("kind") == "PrometheusRule":
        groups: list[dict[str, Any]] = document["spec"]["groups"]
        return groups
    groups = document["groups"]
    return groups


def _normal(rule: dict[str, Any]) -> dict[str, Any]:
    """A rule with whitespace-insensitive expression and the version label's value dropped."""
    labels = dict(rule.get("labels") or {})
    if VERSION_LABEL in labels:
        labels[VERSION_LABEL] = "<present>"
    return {
        "record": rule.get("record"),
        "alert": rule.get("alert"),
        "expr": re.sub(r"\s+", "", rule["expr"]),
        "labels": labels,
        "annotations": dict(rule.get("annotations") or {}),
    }


def _generated(name: str, expected: dict[str, Any]) -> dict[str, Any]:
    output_format = (
        OutputFormat.PROMETHEUS_RULE
        if expected.get("kind") == "PrometheusRule"
        else OutputFormat.RULES
    )
    spec_set = load_paths([FIXTURES / f"{name}.yml"])
    generation = generate(
        spec_set, mode=Mode.SLOTH, output_format=output_format, extra_labels=EXTRA_LABELS
    )
    assert len(generation.files) == 1
    document: dict[str, Any] = yaml.safe_load(generation.files[0].text)
    return document


def test_every_example_has_its_spec() -> None:
    assert len(EXAMPLES) >= 3
    for name in EXAMPLES:
        assert (FIXTURES / f"{name}.yml").is_file(), name


@pytest.mark.parametrize("name", EXAMPLES)
def test_compat_mode_generates_what_sloth_generated(name: str) -> None:
    documents = [d for d in yaml.safe_load_all((FIXTURES / f"{name}.gen.yml").read_text()) if d]
    assert len(documents) == 1
    expected = documents[0]
    generated = _generated(name, expected)
    assert generated.get("kind") == expected.get("kind")
    expected_groups = _groups(expected)
    generated_groups = _groups(generated)
    assert [g["name"] for g in generated_groups] == [g["name"] for g in expected_groups]
    for ours, theirs in zip(generated_groups, expected_groups, strict=True):
        assert [_normal(rule) for rule in ours["rules"]] == [
            _normal(rule) for rule in theirs["rules"]
        ], ours["name"]


@pytest.mark.parametrize("name", EXAMPLES)
def test_the_version_label_is_watchkeepers(name: str) -> None:
    expected = next(d for d in yaml.safe_load_all((FIXTURES / f"{name}.gen.yml").read_text()) if d)
    infos = [
        rule
        for group in _groups(_generated(name, expected))
        for rule in group["rules"]
        if rule.get("record") == "sloth_slo_info"
    ]
    assert infos
    assert all(rule["labels"][VERSION_LABEL].startswith("watchkeeper-") for rule in infos)
