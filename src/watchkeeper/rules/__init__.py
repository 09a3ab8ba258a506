"""Prometheus rule generation: Watchkeeper's exact rules, or Sloth's, for SLOs as code."""

from watchkeeper.rules.exceptions import RulesError
from watchkeeper.rules.model import Mode, OutputFormat, Rule, RuleGroup, SLORules
from watchkeeper.rules.service import GeneratedFile, Generation, generate

__all__ = [
    "GeneratedFile",
    "Generation",
    "Mode",
    "OutputFormat",
    "Rule",
    "RuleGroup",
    "RulesError",
    "SLORules",
    "generate",
]
