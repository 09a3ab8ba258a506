"""Dependencies between Watchkeeper's packages run one way.

No two packages import each other below the adapters (a use case that needs both lives in
``flows/``), no domain code imports an adapter, and ``flows/`` sits above the domains: only
adapters (CLI, routes, web pages, the worker, the app and its request dependencies) call it,
never a domain's service, repository or models. An adapter may call any service, so a
domain's own routes importing the shared request dependencies is no cycle.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

import pytest

import watchkeeper

PACKAGE = Path(watchkeeper.__file__).parent
FLOWS = "flows"


def _module(path: Path) -> str:
    parts = ["watchkeeper", *path.relative_to(PACKAGE).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(source: str, module: str, is_package: bool = False) -> set[str]:
    """Every watchkeeper module a source imports, relative imports resolved."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0:
                base = node.module or ""
            else:
                package = module.split(".") if is_package else module.split(".")[:-1]
                kept = package[: len(package) - node.level + 1]
                base = ".".join([*kept, node.module] if node.module else kept)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return {name for name in found if name.startswith("watchkeeper.")}


def top_level(module: str) -> str:
    """The first-level package (or module) of ``watchkeeper.x.y``: ``x``."""
    return module.split(".")[1]


def package_graph(modules: Iterable[tuple[str, set[str]]]) -> dict[str, set[str]]:
    """{package: packages it imports} from (module, imported modules) pairs."""
    graph: dict[str, set[str]] = defaultdict(set)
    for module, imported in modules:
        source = top_level(module)
        graph[source].update(t for t in map(top_level, imported) if t != source)
    return graph


def mutual(graph: dict[str, set[str]], *, ignore: str) -> list[tuple[str, str]]:
    """Pairs of packages importing each other (``ignore`` is checked on its own)."""
    return sorted(
        (a, b)
        for a, targets in graph.items()
        for b in targets
        if a < b and a in graph.get(b, set()) and ignore not in (a, b)
    )


def is_adapter(module: str) -> bool:
    """CLI, JSON routes (``routes`` or ``<use case>_routes``), web pages, the worker and the
    app: the layer that may call flows."""
    parts = module.split(".")
    return (
        parts[1] in ("cli", "web", FLOWS, "app", "worker", "dependencies")
        or parts[-1] == "routes"
        or parts[-1].endswith("_routes")
        or module == "watchkeeper.demo"
    )


def source_modules() -> list[tuple[str, set[str]]]:
    """(module, watchkeeper modules it imports) for every module below the package root."""
    return [
        (_module(path), imports_of(path.read_text(), _module(path), path.name == "__init__.py"))
        for path in sorted(PACKAGE.rglob("*.py"))
        if path != PACKAGE / "__init__.py"
    ]


def domain_modules() -> list[tuple[str, set[str]]]:
    """The modules below the adapters, with what they import."""
    return [(module, imported) for module, imported in source_modules() if not is_adapter(module)]


def test_no_two_packages_import_each_other() -> None:
    assert mutual(package_graph(domain_modules()), ignore=FLOWS) == []


def test_no_domain_module_imports_an_adapter() -> None:
    wrong = [
        (module, sorted(name for name in imported if is_adapter(name)))
        for module, imported in domain_modules()
        if any(is_adapter(name) for name in imported)
    ]
    assert wrong == []


def test_only_adapters_call_flows() -> None:
    callers = [
        module
        for module, imported in source_modules()
        if any(top_level(name) == FLOWS for name in imported) and not is_adapter(module)
    ]
    assert callers == []


def test_the_walk_sees_the_packages() -> None:
    graph = package_graph(domain_modules())
    assert {"slo", "policy", "events", "auth"} <= set(graph)
    assert "slo" in graph["policy"]  # the gate reads SLOs
    assert {"slo", "policy"} <= package_graph(source_modules())[FLOWS]


@pytest.mark.parametrize(
    ("name", "modules", "expected"),
    [
        (
            "each way",
            [
                ("watchkeeper.slo.service", {"watchkeeper.policy.service"}),
                ("watchkeeper.policy.gate", {"watchkeeper.slo.service"}),
            ],
            [("policy", "slo")],
        ),
        (
            "one way",
            [
                ("watchkeeper.policy.gate", {"watchkeeper.slo.service"}),
                ("watchkeeper.slo.service", {"watchkeeper.events.service"}),
            ],
            [],
        ),
        (
            "through flows (checked by its own rule)",
            [
                ("watchkeeper.slo.routes", {"watchkeeper.flows.specs"}),
                ("watchkeeper.flows.specs", {"watchkeeper.slo.service"}),
            ],
            [],
        ),
    ],
)
def test_the_check_catches_packages_importing_each_other(
    name: str, modules: list[tuple[str, set[str]]], expected: list[tuple[str, str]]
) -> None:
    assert mutual(package_graph(modules), ignore=FLOWS) == expected, name


def test_imports_are_resolved_like_python_does() -> None:
    source = (
        "from watchkeeper.slo import service\n"
        "import watchkeeper.events.repository\n"
        "from ..policy import gate\n"
        "from . import models\n"
        "import numpy\n"
    )
    assert imports_of(source, "watchkeeper.slo.routes") == {
        "watchkeeper.slo",
        "watchkeeper.slo.service",
        "watchkeeper.events.repository",
        "watchkeeper.policy",
        "watchkeeper.policy.gate",
        "watchkeeper.slo.models",
    }
    assert not is_adapter("watchkeeper.slo.service")
    assert is_adapter("watchkeeper.alerting.intake_routes")
    assert is_adapter("watchkeeper.slo.routes") and is_adapter("watchkeeper.cli.slo")
