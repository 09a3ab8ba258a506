"""Compat mode against Sloth's own examples: the same groups, rules, labels, annotations and
expressions (modulo whitespace) as the rules Sloth generated for each example spec.

Sloth writes one output document per spec document (``multifile``: two rule files, or two
``PrometheusRule`` resources, in one stream); Watchkeeper writes one file for all of them, so
the groups of Sloth's documents are compared, in order, with the groups of that one file.

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
# Every Sloth example Watchkeeper reproduces (README.md there says which are left out, and why).
COVERED = {
    "home-wifi",
    "k8s-getting-started",
    "k8s-home-wifi",
    "k8s-multifile",
    "kubernetes-apiserver",
    "multifile",
    "no-alerts",
    "openslo-getting-started",
    "openslo-kubernetes-apiserver",
    "raw-home-wifi",
}
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


def _expected(name: str) -> list[dict[str, Any]]:
    """Sloth's output documents for an example (one per spec document)."""
    text = (FIXTURES / f"{name}.gen.yml").read_text()
    return [document for document in yaml.safe_load_all(text) if document]


def _generated(name: str, kind: str | None) -> dict[str, Any]:
    output_format = OutputFormat.PROMETHEUS_RULE if kind == "PrometheusRule" else OutputFormat.RULES
    spec_set = load_paths([FIXTURES / f"{name}.yml"])
    generation = generate(
        spec_set, mode=Mode.SLOTH, output_format=output_format, extra_labels=EXTRA_LABELS
    )
    assert len(generation.files) == 1
    document: dict[str, Any] = yaml.safe_load(generation.files[0].text)
    return document


def test_every_example_has_its_spec() -> None:
    assert set(EXAMPLES) >= COVERED
    for name in EXAMPLES:
        assert (FIXTURES / f"{name}.yml").is_file(), name


@pytest.mark.parametrize("name", EXAMPLES)
def test_compat_mode_generates_what_sloth_generated(name: str) -> None:
    documents = _expected(name)
    kind = documents[0].get("kind")
    assert all(document.get("kind") == kind for document in documents)
    generated = _generated(name, kind)
    assert generated.get("kind") == kind
    expected_groups = [group for document in documents for group in _groups(document)]
    generated_groups = _groups(generated)
    assert [g["name"] for g in generated_groups] == [g["name"] for g in expected_groups]
    for ours, theirs in zip(generated_groups, expected_groups, strict=True):
        assert [_normal(rule) for rule in ours["rules"]] == [
            _normal(rule) for rule in theirs["rules"]
        ], ours["name"]


@pytest.mark.parametrize("name", EXAMPLES)
def test_the_version_label_is_watchkeepers(name: str) -> None:
    kind = _expected(name)[0].get("kind")
    infos = [
        rule
        for group in _groups(_generated(name, kind))
        for rule in group["rules"]
        if rule.get("record") == "sloth_slo_info"
    ]
    assert infos
    assert all(rule["labels"][VERSION_LABEL].startswith("watchkeeper-") for rule in infos)
