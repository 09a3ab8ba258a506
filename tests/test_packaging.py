"""The distribution is complete and installable: package data, declared imports, the hashed lock."""

from __future__ import annotations

import ast
import fnmatch
import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "src" / "watchkeeper"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
# Distributions whose import name differs from their project name.
IMPORT_NAMES = {
    "argon2-cffi": "argon2",
    "pyyaml": "yaml",
    "prometheus-client": "prometheus_client",
    "promql-parser": "promql_parser",
    "pydantic-settings": "pydantic_settings",
}
# Not imported by name: IANA zones for zoneinfo on machines without them, and the PostgreSQL
# driver SQLAlchemy loads for postgresql+psycopg:// URLs.
NOT_IMPORTED = {"tzdata", "psycopg"}


def _project_name(requirement: str) -> str:
    return re.split(r"[<>=!~;\s\[]", requirement, maxsplit=1)[0].lower()


def _imported_top_level_modules() -> set[str]:
    modules: set[str] = set()
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                modules.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules.add(node.module.split(".")[0])
    return modules


def test_every_data_file_of_the_package_is_shipped() -> None:
    patterns = PYPROJECT["tool"]["setuptools"]["package-data"]["watchkeeper"]
    data_files = [
        path.relative_to(PACKAGE).as_posix()
        for path in PACKAGE.rglob("*")
        if path.is_file() and path.suffix not in (".py", ".pyc") and "__pycache__" not in path.parts
    ]
    assert "demo/checkout.yaml" in data_files
    missing = [f for f in data_files if not any(fnmatch.fnmatch(f, p) for p in patterns)]
    assert missing == []


def test_runtime_dependencies_are_the_ones_the_code_imports() -> None:
    imported = _imported_top_level_modules()
    declared = [_project_name(r) for r in PYPROJECT["project"]["dependencies"]]
    unused = [
        name
        for name in declared
        if name not in NOT_IMPORTED
        and IMPORT_NAMES.get(name, name.replace("-", "_")) not in imported
    ]
    assert unused == []


def test_locks_pin_every_package_with_hashes_and_no_addresses() -> None:
    for lock in ("runtime.lock", "dev.lock"):
        text = (ROOT / "requirements" / lock).read_text()
        assert "://" not in text, f"{lock} names a download address"
        entries = re.split(r"\n(?=[A-Za-z0-9])", text.strip())
        assert len(entries) > 10
        for entry in entries:
            first = entry.splitlines()[0]
            assert re.fullmatch(r"[A-Za-z0-9._-]+==[^\s\\\[\]]+ \\", first), first
            assert "--hash=sha256:" in entry, first
