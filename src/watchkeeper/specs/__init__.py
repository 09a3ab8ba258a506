"""SLO specs as code: load, validate and convert native, OpenSLO v1 and Sloth documents."""

from watchkeeper.specs.convert import convert
from watchkeeper.specs.loader import DEFAULT_PERIOD, FileSummary, SpecSet, load_paths, load_text
from watchkeeper.specs.native import policy_from_dict, policy_to_dict, slo_from_dict, slo_to_dict
from watchkeeper.specs.problems import Problem, SpecError

__all__ = [
    "DEFAULT_PERIOD",
    "FileSummary",
    "Problem",
    "SpecError",
    "SpecSet",
    "convert",
    "load_paths",
    "load_text",
    "policy_from_dict",
    "policy_to_dict",
    "slo_from_dict",
    "slo_to_dict",
]
