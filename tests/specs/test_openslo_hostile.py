"""OpenSLO documents with extreme values get problems with their line, never an exception."""

from __future__ import annotations

import json

import pytest

from watchkeeper.specs import SpecError, load_text

BASE = """\
apiVersion: openslo/v1
kind: SLO
metadata:
  name: web-availability
  annotations:
    watchkeeper.dev/alerting: '{ALERTING}'
spec:
  service: web
  indicator:
    metadata: {name: web-requests}
    spec:
      ratioMetric:
        good: {metricSource: {type: watchkeeper}}
        total: {metricSource: {type: watchkeeper}}
  timeWindow:
    - duration: {DURATION}
      isRolling: {ROLLING}
  budgetingMethod: {METHOD}
  objectives:
    - target: 0.99
{SLICES}"""


def spec(
    *,
    duration: str = "28d",
    rolling: str = "true",
    method: str = "Occurrences",
    slices: str = "",
    alerting: str = "{}",
) -> str:
    return (
        BASE.replace("{DURATION}", duration)
        .replace("{ROLLING}", rolling)
        .replace("{METHOD}", method)
        .replace("{SLICES}", slices)
        .replace("{ALERTING}", alerting)
    )


def problems(text: str) -> list[str]:
    with pytest.raises(SpecError) as caught:
        load_text(text, filename="slo.yaml")
    return [str(problem) for problem in caught.value.problems]


def test_the_base_document_is_valid() -> None:
    assert [slo.key for slo in load_text(spec()).slos] == ["web/web-availability"]


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        (
            {"duration": "99999999999999999999d"},
            "slo.yaml:16: document 1: spec.timeWindow[0].duration: '99999999999999999999d' "
            "is too long to be a duration",
        ),
        ({"duration": "5000w"}, "must be from 1h to 400d (how long hour buckets are kept"),
        ({"duration": "59m"}, "must be from 1h to 400d"),
        (
            {"duration": "99999999999Q", "rolling": "false"},
            "spans at most a year: at most 4 for calendar quarter, not 99999999999",
        ),
        (
            {"duration": "9" * 400 + "M", "rolling": "false"},
            "is not a calendar window",
        ),
        (
            {
                "method": "Timeslices",
                "slices": "      timeSliceTarget: 0.9\n      timeSliceWindow: 999999999999999999\n",
            },
            "slo.yaml:22: document 1: spec.objectives[0].timeSliceWindow: "
            "a timeslice is at most 1440 minutes (1d)",
        ),
        (
            {
                "method": "Timeslices",
                "slices": "      timeSliceTarget: 0.9\n      timeSliceWindow: 5000d\n",
            },
            "a timeslice is at most 1d, not 5000d",
        ),
        (
            {"alerting": "[" * 100_000 + "]" * 100_000},
            'slo.yaml:6: document 1: metadata.annotations["watchkeeper.dev/alerting"]: '
            "document too large or too deeply nested",
        ),
        (
            {"alerting": json.dumps({"page": "1" * 5000}).replace('"1', "1").replace('1"', "1")},
            "is not valid JSON",
        ),
        (
            {"alerting": json.dumps([[1] * 10] * 6000)},
            "document too large or too deeply nested: more than 50,000 values",
        ),
    ],
    ids=[
        "rolling overflow",
        "rolling too long",
        "rolling too short",
        "calendar count",
        "calendar digits",
        "slice minutes",
        "slice duration",
        "deep JSON annotation",
        "huge number in JSON annotation",
        "JSON annotation with too many values",
    ],
)
def test_extreme_values_are_problems_on_their_line(changes: dict[str, str], expected: str) -> None:
    found = problems(spec(**changes))
    assert any(expected in problem for problem in found), found
