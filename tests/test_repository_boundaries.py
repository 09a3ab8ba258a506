"""A domain's repository is its own: other packages go through the domain's service.

Walks the imports of every module under src/watchkeeper and fails on any import of
``watchkeeper.<domain>.repository`` from outside ``watchkeeper.<domain>`` (the event store
in particular has one door, events/service.py).
"""

from __future__ import annotations

import ast
from pathlib import Path

SOURCE = Path(__file__).resolve().parents[1] / "src" / "watchkeeper"


def module_name(path: Path) -> str:
    parts = path.relative_to(SOURCE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(source: str, module: str, *, is_package: bool) -> set[str]:
    """Every module ``source`` imports, absolute, including ``from package import module``."""
    names: set[str] = set()
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def foreign_repositories(source: str, module: str, *, is_package: bool = False) -> list[str]:
    """The repositories of other domains that ``module`` imports."""
    own = module.split(".")[1] if module.count(".") >= 1 else ""
    found = []
    for name in sorted(imported_modules(source, module, is_package=is_package)):
        parts = name.split(".")
        is_repository = (
            len(parts) == 3 and parts[:1] == ["watchkeeper"] and parts[2] == "repository"
        )
        if is_repository and parts[1] != own:
            found.append(name)
    return found


def test_the_check_sees_each_form_of_import() -> None:
    samples = {
        "from watchkeeper.events import repository": ["watchkeeper.events.repository"],
        "from watchkeeper.events import repository as events_repository": [
            "watchkeeper.events.repository"
        ],
        "import watchkeeper.events.repository": ["watchkeeper.events.repository"],
        "from watchkeeper.events.repository import BucketRows": ["watchkeeper.events.repository"],
        "from ..events.repository import BucketRows": ["watchkeeper.events.repository"],
        "from watchkeeper.slo import repository": [],  # its own
        "from watchkeeper.events import service": [],
    }
    for source, expected in samples.items():
        assert foreign_repositories(source, "watchkeeper.slo.evaluator") == expected, source


def test_no_module_imports_another_domains_repository() -> None:
    offenders = {}
    for path in sorted(SOURCE.rglob("*.py")):
        module = module_name(path)
        found = foreign_repositories(
            path.read_text(), module, is_package=path.name == "__init__.py"
        )
        if found:
            offenders[module] = found
    assert offenders == {}
    assert len(list(SOURCE.rglob("*.py"))) > 50  # the walk saw the package
