"""Rule generation use case: which SLOs get rules, in which mode, into which files.

Only SLOs whose SLI Prometheus can compute get rules: a Prometheus source, a ratio or raw
SLI, a rolling window. Any other SLO given is refused with one line naming its file, the SLO
and why; with ``skip_unsupported`` such SLOs are left out with the same line as a warning
(the rules of the others are still generated), and it is an error only when none is left.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import metadata

from watchkeeper.core.slo import SLO, CalendarWindow, SourceKind
from watchkeeper.rules.documents import render, to_document
from watchkeeper.rules.exact import exact_rules
from watchkeeper.rules.exceptions import RulesError
from watchkeeper.rules.model import Mode, OutputFormat, SLORules
from watchkeeper.rules.naming import alert_name, name_problems
from watchkeeper.rules.sloth_compat import OPENSLO_SPEC, SlothInfo, sloth_rules
from watchkeeper.specs import SpecSet


@dataclass(frozen=True)
class GeneratedFile:
    """One output: its service (None for all services in one file), YAML text and rules."""

    service: str | None
    text: str
    rules: tuple[SLORules, ...]


@dataclass(frozen=True)
class Generation:
    """What a generation produced, and the SLOs it left out (one warning line each)."""

    files: tuple[GeneratedFile, ...]
    slos: tuple[SLO, ...] = ()
    skipped: tuple[str, ...] = field(default_factory=tuple)


def watchkeeper_version() -> str:
    """The installed Watchkeeper version (``0+unknown`` when run from an uninstalled tree)."""
    try:
        return metadata.version("watchkeeper")
    except metadata.PackageNotFoundError:
        return "0+unknown"


def unsupported_reason(slo: SLO) -> str | None:
    """Why Prometheus rules cannot compute this SLO, or None when they can."""
    sli = slo.sli
    if sli.source is SourceKind.WATCHKEEPER:
        return (
            "its SLI reads Watchkeeper's built-in event store (source: watchkeeper), so there "
            "is no PromQL to put in rules; give it source: prometheus with queries"
        )
    if sli.source is SourceKind.EXTERNAL:
        kind = sli.external.source_type if sli.external is not None else "external"
        return f"its SLI is catalogued from {kind}, not read from Prometheus"
    if sli.is_sliced:
        return f"{sli.kind.value} SLIs are evaluated by Watchkeeper only; rules need ratio or raw"
    if isinstance(slo.window, CalendarWindow):
        return (
            f"its calendar window ({slo.window.unit.value}) has no fixed length for a "
            "Prometheus range; use a rolling window (e.g. 30d)"
        )
    return None


def _where(spec_set: SpecSet, key: str) -> str:
    for summary in spec_set.files:
        if key in summary.slos:
            return f"{summary.path}: "
    return ""


def _check_names(slo: SLO, extra_labels: Mapping[str, str]) -> list[str]:
    names = [
        alert_name(slo, target)
        for target in (slo.alerting.page, slo.alerting.ticket)
        if target.enabled
    ]
    labels = {**extra_labels, **slo.labels}
    for target in (slo.alerting.page, slo.alerting.ticket):
        labels.update(target.labels)
    return name_problems(labels, names)


def select_slos(
    spec_set: SpecSet, *, extra_labels: Mapping[str, str], skip_unsupported: bool
) -> tuple[list[SLO], list[str]]:
    """The SLOs that get rules, and a warning per SLO left out; RulesError when refused."""
    chosen: list[SLO] = []
    refused: list[str] = []
    errors: list[str] = []
    for slo in spec_set.slos:
        where = _where(spec_set, slo.key)
        reason = unsupported_reason(slo)
        if reason is not None:
            refused.append(f"{where}SLO {slo.key}: {reason}")
            continue
        errors.extend(
            f"{where}SLO {slo.key}: {problem}" for problem in _check_names(slo, extra_labels)
        )
        chosen.append(slo)
    if errors:
        raise RulesError("\n".join(errors))
    if refused and not skip_unsupported:
        raise RulesError(
            "\n".join([*refused, "(--skip-unsupported leaves these out and generates the rest)"])
        )
    if not chosen:
        raise RulesError("\n".join([*refused, "no SLO left to generate rules for"]))
    return chosen, refused


def rules_for(
    slo: SLO,
    *,
    mode: Mode,
    output_format: OutputFormat,
    spec_version: str,
    extra_labels: Mapping[str, str],
) -> SLORules:
    """The rule groups of one SLO in ``mode``."""
    if mode is Mode.EXACT:
        return exact_rules(slo, extra_labels=extra_labels)
    if spec_version == OPENSLO_SPEC:
        mode_name = "cli-gen-openslo"  # Sloth's mode for OpenSLO specs, in either format
    elif output_format is OutputFormat.PROMETHEUS_RULE:
        mode_name = "cli-gen-k8s"
    else:
        mode_name = "cli-gen-prom"
    info = SlothInfo(
        version=f"watchkeeper-{watchkeeper_version()}", mode=mode_name, spec=spec_version
    )
    return sloth_rules(slo, info=info, extra_labels=extra_labels)


def generate(
    spec_set: SpecSet,
    *,
    mode: Mode = Mode.EXACT,
    output_format: OutputFormat = OutputFormat.RULES,
    split: bool = False,
    extra_labels: Mapping[str, str] | None = None,
    skip_unsupported: bool = False,
) -> Generation:
    """Rule files for the SLOs of ``spec_set``: one file, or one per service with ``split``."""
    labels = dict(extra_labels or {})
    slos, skipped = select_slos(spec_set, extra_labels=labels, skip_unsupported=skip_unsupported)
    generated = [
        rules_for(
            slo,
            mode=mode,
            output_format=output_format,
            spec_version=spec_set.versions.get(slo.key, ""),
            extra_labels=labels,
        )
        for slo in slos
    ]
    generator = f"Watchkeeper {watchkeeper_version()}"
    if mode is Mode.SLOTH:
        generator += " in Sloth-compatible mode"
    batches: list[tuple[str | None, list[SLORules]]] = []
    if split:
        by_service: dict[str, list[SLORules]] = {}
        for slo_rules in generated:
            by_service.setdefault(slo_rules.service, []).append(slo_rules)
        batches.extend(by_service.items())
    else:
        batches.append((None, generated))
    files = tuple(
        GeneratedFile(
            service,
            render(to_document(batch, output_format=output_format, mode=mode), generator=generator),
            tuple(batch),
        )
        for service, batch in batches
    )
    return Generation(files=files, slos=tuple(slos), skipped=tuple(skipped))


__all__ = ["GeneratedFile", "Generation", "generate", "select_slos"]
