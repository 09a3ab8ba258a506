"""Load SLO specs from files or text, in any supported format, all problems at once.

Each YAML document is read in the format its header names: ``apiVersion: watchkeeper/v1``
(native), ``apiVersion: openslo/v1`` (OpenSLO; ``openslo/v1alpha`` SLOs as Sloth reads them),
``version: "prometheus/v1"`` or ``apiVersion: sloth.slok.dev/v1`` (Sloth). Everything loaded
together is checked together: OpenSLO references resolve across files and an SLO key may be
defined only once. A document may also be a sequence of such objects (the form of the OpenSLO
SDK's examples and ``oslo``); problems inside it name the item: ``[2].spec.objectives[0].target``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from types import MappingProxyType

from watchkeeper.core.policy import ErrorBudgetPolicy
from watchkeeper.core.slo import SLO
from watchkeeper.specs.cursor import Cursor, DocumentContext, describe
from watchkeeper.specs.fields import ParsedSLO
from watchkeeper.specs.native import API_VERSION as NATIVE_API_VERSION
from watchkeeper.specs.native import check_kind, parse_native_slos
from watchkeeper.specs.openslo import OpenSLOObjects
from watchkeeper.specs.openslo_parts import API_VERSION as OPENSLO_API_VERSION
from watchkeeper.specs.openslo_v1alpha import API_VERSION as OPENSLO_V1ALPHA
from watchkeeper.specs.openslo_v1alpha import parse_openslo_v1alpha
from watchkeeper.specs.policies import read_policy
from watchkeeper.specs.problems import Problem, SpecError, did_you_mean, sort_problems
from watchkeeper.specs.sloth import CRD_API_VERSION, parse_sloth
from watchkeeper.specs.sloth import VERSION as SLOTH_VERSION
from watchkeeper.specs.yaml_nodes import parse_documents

DEFAULT_PERIOD = timedelta(days=30)
SPEC_SUFFIXES = (".yaml", ".yml")
API_VERSIONS = (NATIVE_API_VERSION, OPENSLO_API_VERSION, CRD_API_VERSION)


@dataclass(frozen=True)
class FileSummary:
    """What one loaded file held: its formats, SLO keys and policy names."""

    path: str
    formats: tuple[str, ...] = ()
    slos: tuple[str, ...] = ()
    policies: tuple[str, ...] = ()


@dataclass(frozen=True)
class SpecSet:
    """Validated SLOs and policies, with the format each SLO came from (by SLO key)."""

    slos: tuple[SLO, ...] = ()
    policies: tuple[ErrorBudgetPolicy, ...] = ()
    formats: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    files: tuple[FileSummary, ...] = ()
    # The header each SLO's document was read with, by SLO key: watchkeeper/v1, openslo/v1,
    # prometheus/v1 (a Sloth file) or sloth.slok.dev/v1 (the Sloth resource).
    versions: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    # Where each policy lists ``incidents.severities`` (by policy name), for checks against
    # the database's severities when applying; the message of each Problem is empty.
    severities_at: Mapping[str, Problem] = field(default_factory=lambda: MappingProxyType({}))


@dataclass
class _Entry:
    """An SLO source in load order: parsed SLOs, or an OpenSLO document built after all reads."""

    file: str
    format: str
    parsed: list[ParsedSLO] = field(default_factory=list)
    openslo_doc: Cursor | None = None
    version: str = ""


@dataclass
class _Load:
    default_period: timedelta
    problems: list[Problem] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    file_formats: dict[str, list[str]] = field(default_factory=dict)
    entries: list[_Entry] = field(default_factory=list)
    severities_at: dict[str, Problem] = field(default_factory=dict)
    policies: list[tuple[str, ErrorBudgetPolicy, Cursor]] = field(default_factory=list)
    openslo: OpenSLOObjects = field(default_factory=OpenSLOObjects)

    def read_text(self, filename: str, text: str) -> None:
        self.files.append(filename)
        self.file_formats.setdefault(filename, [])
        documents, syntax_error = parse_documents(text, filename)
        for document in documents:
            if document.value is None:
                continue  # an empty document, e.g. after a trailing ---
            doc = Cursor(DocumentContext(filename, document.index, self.problems), document.value)
            if isinstance(document.value, list):
                for item in doc.items() or []:
                    self._read_document(filename, item)
            else:
                self._read_document(filename, doc)
        if syntax_error is not None:
            self.problems.append(syntax_error)

    def _read_document(self, filename: str, doc: Cursor) -> None:
        spec_format = _detect(doc)
        if spec_format is None:
            return
        name = {"sloth-crd": "sloth", "openslo-v1alpha": "openslo"}.get(spec_format, spec_format)
        if name not in self.file_formats[filename]:
            self.file_formats[filename].append(name)
        if spec_format == "native":
            kind = check_kind(doc)
            if kind == "ErrorBudgetPolicy":
                policy = read_policy(doc)
                if policy is not None:
                    self.policies.append((filename, policy, doc.get("name") or doc))
                    incidents = doc.get("incidents")
                    listed = incidents.get("severities") if incidents is not None else None
                    if listed is not None:
                        self.severities_at[policy.name] = Problem(
                            filename, listed.context.document, listed.line, listed.path, ""
                        )
            elif kind is not None:
                self.entries.append(
                    _Entry(filename, name, parse_native_slos(doc, kind), version=NATIVE_API_VERSION)
                )
        elif spec_format == "openslo-v1alpha":
            parsed = parse_openslo_v1alpha(doc, period=self.default_period)
            self.entries.append(_Entry(filename, name, parsed, version=OPENSLO_V1ALPHA))
        elif spec_format == "openslo":
            if self.openslo.add(doc):
                self.entries.append(
                    _Entry(filename, name, openslo_doc=doc, version=OPENSLO_API_VERSION)
                )
        else:
            crd = spec_format == "sloth-crd"
            parsed = parse_sloth(doc, crd=crd, period=self.default_period)
            version = CRD_API_VERSION if crd else SLOTH_VERSION
            self.entries.append(_Entry(filename, name, parsed, version=version))

    def finish(self) -> SpecSet:
        self.openslo.resolve()
        for entry in self.entries:
            if entry.openslo_doc is not None:
                entry.parsed = self.openslo.build_slos(entry.openslo_doc)
        slos: list[SLO] = []
        formats: dict[str, str] = {}
        versions: dict[str, str] = {}
        per_file: dict[str, list[str]] = {name: [] for name in self.files}
        first_seen: dict[str, Cursor] = {}
        for entry in self.entries:
            for parsed in entry.parsed:
                key = parsed.slo.key
                if _is_duplicate(f"SLO {key!r}", parsed.name_at, first_seen.get(key)):
                    continue
                first_seen[key] = parsed.name_at
                slos.append(parsed.slo)
                formats[key] = entry.format
                versions[key] = entry.version
                per_file[entry.file].append(key)
        policies: list[ErrorBudgetPolicy] = []
        policy_files: dict[str, list[str]] = {name: [] for name in self.files}
        first_policy: dict[str, Cursor] = {}
        for filename, policy, name_at in self.policies:
            label = f"policy {policy.name!r}"
            if _is_duplicate(label, name_at, first_policy.get(policy.name)):
                continue
            first_policy[policy.name] = name_at
            policies.append(policy)
            policy_files[filename].append(policy.name)
        if self.problems:
            raise SpecError(sort_problems(self.problems, self.files))
        return SpecSet(
            slos=tuple(slos),
            policies=tuple(policies),
            formats=MappingProxyType(formats),
            versions=MappingProxyType(versions),
            severities_at=MappingProxyType(dict(self.severities_at)),
            files=tuple(
                FileSummary(
                    name,
                    tuple(self.file_formats[name]),
                    tuple(per_file[name]),
                    tuple(policy_files[name]),
                )
                for name in dict.fromkeys(self.files)
            ),
        )


def _is_duplicate(label: str, here: Cursor, first: Cursor | None) -> bool:
    if first is None:
        return False
    where = f"{first.context.file}:{first.line}" if first.line else first.context.file
    here.error(f"{label} is defined twice (first in {where}, document {first.context.document})")
    return True


def _detect(doc: Cursor) -> str | None:
    """The format of a document (native, openslo, sloth, sloth-crd), or None after reporting."""
    if not isinstance(doc.value, Mapping):
        what = "a list item" if doc.path else "a spec document"
        doc.error(
            f"{what} must be a mapping with apiVersion (or Sloth's version), "
            f"not {describe(doc.value)}"
        )
        return None
    api_version = doc.value.get("apiVersion")
    if api_version is not None:
        if api_version == NATIVE_API_VERSION:
            return "native"
        if api_version == OPENSLO_API_VERSION:
            return "openslo"
        if api_version == OPENSLO_V1ALPHA:
            return "openslo-v1alpha"
        if api_version == CRD_API_VERSION:
            return "sloth-crd"
        if isinstance(api_version, str) and api_version.startswith("openslo/"):
            message = f"{api_version!r} is not supported; Watchkeeper reads openslo/v1"
        else:
            hint = did_you_mean(str(api_version), API_VERSIONS)
            message = (
                f"unknown apiVersion {api_version!r}; expected {', '.join(API_VERSIONS)}{hint}"
            )
        doc.error_at("apiVersion", message)
        return None
    version = doc.value.get("version")
    if version is not None:
        if version == SLOTH_VERSION:
            return "sloth"
        doc.error_at(
            "version", f"unknown Sloth spec version {version!r}; expected {SLOTH_VERSION!r}"
        )
        return None
    doc.error(
        "cannot tell the spec format: give apiVersion (watchkeeper/v1, openslo/v1, "
        'sloth.slok.dev/v1) or Sloth\'s version: "prometheus/v1"'
    )
    return None


def _spec_files(path: Path) -> list[Path]:
    return sorted(
        candidate
        for candidate in path.rglob("*")
        if candidate.suffix in SPEC_SUFFIXES
        and candidate.is_file()
        and not any(part.startswith(".") for part in candidate.relative_to(path).parts)
    )


def load_paths(paths: Sequence[Path], *, default_period: timedelta = DEFAULT_PERIOD) -> SpecSet:
    """Load spec files, and the *.yaml / *.yml files under directories; SpecError lists all."""
    load = _Load(default_period)
    seen: set[Path] = set()
    for path in paths:
        if path.is_dir():
            found = _spec_files(path)
            if not found:
                load.problems.append(Problem(str(path), 0, None, "", "no .yaml or .yml files here"))
        elif path.exists():
            found = [path]
        else:
            load.problems.append(Problem(str(path), 0, None, "", "no such file or directory"))
            found = []
        for file in found:
            if file.resolve() in seen:
                continue
            seen.add(file.resolve())
            try:
                text = file.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                load.problems.append(Problem(str(file), 0, None, "", f"cannot read: {exc}"))
                continue
            load.read_text(str(file), text)
    return load.finish()


def load_text(
    text: str, *, filename: str = "<string>", default_period: timedelta = DEFAULT_PERIOD
) -> SpecSet:
    """Load specs from YAML text (one or more documents); SpecError lists every problem."""
    load = _Load(default_period)
    load.read_text(filename, text)
    return load.finish()
