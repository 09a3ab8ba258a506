"""Write a loaded spec set as native or OpenSLO YAML (multi-document).

Native output groups SLOs per service and lifts what all of a service's SLOs share (owner,
tier, policy, common labels, leading maintenance windows) to the service. Loading the output
again gives SLOs equal to the input's.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import yaml

from watchkeeper.core.slo import SLO, MaintenanceWindow
from watchkeeper.specs.loader import SpecSet
from watchkeeper.specs.native import (
    API_VERSION,
    Inherited,
    maintenance_to_list,
    slo_body_to_dict,
)
from watchkeeper.specs.openslo_writer import openslo_documents
from watchkeeper.specs.policies import policy_to_dict

Target = Literal["native", "openslo"]
TARGETS: tuple[Target, ...] = ("native", "openslo")


class _Dumper(yaml.SafeDumper):
    """Block style, multi-line strings as ``|`` blocks, no anchors for repeated values."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _represent_str(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    style = "|" if "\n" in data else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_Dumper.add_representer(str, _represent_str)


def dump_documents(documents: Sequence[dict[str, Any]]) -> str:
    """YAML text of several documents, each starting with ``---``."""
    return yaml.dump_all(
        documents,
        Dumper=_Dumper,
        sort_keys=False,
        explicit_start=True,
        allow_unicode=True,
        default_flow_style=False,
        width=1000,
    )


def convert(spec_set: SpecSet, to: Target) -> str:
    """The spec set as YAML in the ``to`` format: ``native`` or ``openslo``."""
    if to == "native":
        documents = native_documents(spec_set)
    elif to == "openslo":
        documents = openslo_documents(spec_set.slos)
        # OpenSLO has no error-budget policies: they stay native documents in the same stream.
        documents += [policy_to_dict(policy) for policy in spec_set.policies]
    else:
        raise ValueError(f"unknown target format {to!r}; expected one of {', '.join(TARGETS)}")
    return dump_documents(documents)


def native_documents(spec_set: SpecSet) -> list[dict[str, Any]]:
    """One ServiceLevels document per service, then the policies."""
    by_service: dict[str, list[SLO]] = {}
    for slo in spec_set.slos:
        by_service.setdefault(slo.service, []).append(slo)
    documents = [_service_document(service, slos) for service, slos in by_service.items()]
    documents += [policy_to_dict(policy) for policy in spec_set.policies]
    return documents


def _shared(values: Sequence[str | None]) -> str | None:
    first = values[0]
    return first if all(value == first for value in values) else None


def _shared_maintenance(slos: Sequence[SLO]) -> tuple[MaintenanceWindow, ...]:
    prefix = slos[0].maintenance
    for slo in slos[1:]:
        length = 0
        while length < min(len(prefix), len(slo.maintenance)) and (
            prefix[length] == slo.maintenance[length]
        ):
            length += 1
        prefix = prefix[:length]
    return prefix


def _service_document(service: str, slos: Sequence[SLO]) -> dict[str, Any]:
    shared_labels = dict(slos[0].labels)
    for slo in slos[1:]:
        shared_labels = {k: v for k, v in shared_labels.items() if slo.labels.get(k) == v}
    inherited = Inherited(
        owner=_shared([slo.owner for slo in slos]),
        tier=_shared([slo.tier for slo in slos]),
        labels=shared_labels,
        policy=_shared([slo.policy for slo in slos]),
        maintenance=_shared_maintenance(slos),
    )
    document: dict[str, Any] = {
        "apiVersion": API_VERSION,
        "kind": "ServiceLevels",
        "service": service,
    }
    for key, value in (
        ("owner", inherited.owner),
        ("tier", inherited.tier),
        ("policy", inherited.policy),
    ):
        if value is not None:
            document[key] = value
    if inherited.labels:
        document["labels"] = dict(inherited.labels)
    if inherited.maintenance:
        document["maintenance"] = maintenance_to_list(inherited.maintenance)
    document["slos"] = [slo_body_to_dict(slo, inherited=inherited) for slo in slos]
    return document
