"""core/ stays pure: it imports only what is allowed, reads no clock and no environment."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

import watchkeeper.core

CORE = Path(watchkeeper.core.__file__).parent
CORE_MODULES = sorted(CORE.rglob("*.py"))

# What core modules may import: these standard library modules (pure computation, no I/O,
# no processes, no network), NumPy, and core itself. Anything else is reported.
ALLOWED_STDLIB = {
    "__future__",
    "abc",
    "bisect",
    "calendar",
    "collections",
    "collections.abc",
    "dataclasses",
    "datetime",
    "decimal",
    "enum",
    "fractions",
    "functools",
    "heapq",
    "itertools",
    "json",  # pure encoding: catalogued metric definitions kept as immutable text
    "math",
    "numbers",
    "operator",
    "re",
    "statistics",
    "types",
    "typing",
    "zoneinfo",
}
ALLOWED_PACKAGES = {"numpy", "watchkeeper.core"}


def allowed(module: str) -> bool:
    """Whether a core module may import ``module`` (a listed stdlib module, or a package)."""
    if module in ALLOWED_STDLIB:
        return True
    return any(module == p or module.startswith(f"{p}.") for p in ALLOWED_PACKAGES)


# Reading the clock or the environment, by fully qualified name.
FORBIDDEN_CALLS = {
    "datetime.datetime.now",
    "datetime.datetime.utcnow",
    "datetime.datetime.today",
    "datetime.date.today",
    "time.time",
    "time.time_ns",
    "time.monotonic",
    "time.perf_counter",
    "os.getenv",
}
FORBIDDEN_ATTRIBUTES = {"os.environ"}


def _module_name(path: Path) -> str:
    relative = path.relative_to(CORE.parent).with_suffix("")
    parts = ["watchkeeper", *relative.parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _resolve_from(node: ast.ImportFrom, module: str, is_package: bool) -> str:
    if node.level == 0:
        return node.module or ""
    package = module.split(".") if is_package else module.split(".")[:-1]
    base = package[: len(package) - node.level + 1]
    return ".".join([*base, node.module] if node.module else base)


def _dotted(node: ast.expr, names: dict[str, str]) -> str | None:
    if isinstance(node, ast.Name):
        return names.get(node.id, node.id)
    if isinstance(node, ast.Attribute):
        owner = _dotted(node.value, names)
        return None if owner is None else f"{owner}.{node.attr}"
    return None


def violations(source: str, module: str, is_package: bool = False) -> list[str]:
    """Every impure import, clock read or environment read in one module's source."""
    tree = ast.parse(source)
    found: list[str] = []
    names: dict[str, str] = {}  # local name -> fully qualified name
    for node in ast.walk(tree):
        imported: list[tuple[str, str]] = []
        if isinstance(node, ast.Import):
            imported = [(a.name, a.asname or a.name.split(".")[0]) for a in node.names]
            for alias in node.names:
                local = alias.asname or alias.name.split(".")[0]
                names[local] = alias.name if alias.asname else local
        elif isinstance(node, ast.ImportFrom):
            origin = _resolve_from(node, module, is_package)
            imported = [(origin, origin)]
            for alias in node.names:
                names[alias.asname or alias.name] = f"{origin}.{alias.name}"
        for target, _ in imported:
            if not allowed(target):
                found.append(f"imports {target}")
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            called = _dotted(node.func, names)
            if called in FORBIDDEN_CALLS:
                found.append(f"calls {called}")
        if isinstance(node, ast.Attribute):
            accessed = _dotted(node, names)
            if accessed in FORBIDDEN_ATTRIBUTES:
                found.append(f"reads {accessed}")
    return found


@pytest.mark.parametrize("path", CORE_MODULES, ids=lambda p: p.name)
def test_core_module_is_pure(path: Path) -> None:
    module = _module_name(path)
    assert violations(path.read_text(), module, path.name == "__init__.py") == []
    importlib.import_module(module)  # and it loads on its own


def test_the_walk_finds_the_core_modules() -> None:
    checked = {path.name for path in CORE_MODULES}
    expected = {"series.py", "budget.py", "burn_rate.py", "timeslices.py", "forecast.py"}
    assert expected | {"evaluation.py", "windows.py", "slo.py", "duration.py"} <= checked


@pytest.mark.parametrize(
    ("name", "source", "expected"),
    [
        ("sqlalchemy", "import sqlalchemy.orm", ["imports sqlalchemy.orm"]),
        ("fastapi from-import", "from fastapi import APIRouter", ["imports fastapi"]),
        ("starlette", "from starlette.requests import Request", ["imports starlette.requests"]),
        ("httpx aliased", "import httpx as client", ["imports httpx"]),
        ("httpx2", "from httpx2 import Client", ["imports httpx2"]),
        ("typer", "import typer", ["imports typer"]),
        ("requests", "import requests", ["imports requests"]),
        ("an adapter", "from watchkeeper.slo import service", ["imports watchkeeper.slo"]),
        ("the settings", "import watchkeeper.config", ["imports watchkeeper.config"]),
        ("the package root", "from watchkeeper import db", ["imports watchkeeper"]),
        ("relative escape", "from ..db import Base", ["imports watchkeeper.db"]),
        ("relative inside core", "from .slo import SLO", []),
        ("absolute inside core", "from watchkeeper.core.slo import SLO", []),
        ("core itself", "import watchkeeper.core", []),
        ("numpy", "import numpy as np", []),
        ("numpy typing", "from numpy.typing import NDArray", []),
        ("listed stdlib", "import math\nfrom collections.abc import Mapping", []),
        ("files", "import pathlib", ["imports pathlib"]),
        ("the OS", "from os import path", ["imports os"]),
        ("processes", "import subprocess", ["imports subprocess"]),
        ("sockets", "import socket", ["imports socket"]),
        ("logging", "import logging", ["imports logging"]),
        ("randomness", "from random import random", ["imports random"]),
        ("an unlisted library", "import pandas", ["imports pandas"]),
        ("pydantic", "from pydantic import BaseModel", ["imports pydantic"]),
        ("a numpy look-alike", "import numpyx", ["imports numpyx"]),
        ("a core look-alike", "import watchkeeper.corex", ["imports watchkeeper.corex"]),
        (
            "datetime.now via class",
            "from datetime import datetime\nx = datetime.now()",
            ["calls datetime.datetime.now"],
        ),
        (
            "datetime.now via module",
            "import datetime\nx = datetime.datetime.now(datetime.UTC)",
            ["calls datetime.datetime.now"],
        ),
        (
            "utcnow aliased",
            "from datetime import datetime as dt\nx = dt.utcnow()",
            ["calls datetime.datetime.utcnow"],
        ),
        (
            "date.today",
            "from datetime import date\nx = date.today()",
            ["calls datetime.date.today"],
        ),
        ("time.time", "import time\nx = time.time()", ["imports time", "calls time.time"]),
        (
            "time imported bare",
            "from time import time\nx = time()",
            ["imports time", "calls time.time"],
        ),
        (
            "monotonic",
            "import time as t\nx = t.monotonic()",
            ["imports time", "calls time.monotonic"],
        ),
        (
            "environment",
            "import os\nx = os.environ['HOME']",
            ["imports os", "reads os.environ"],
        ),
        ("getenv", "import os\nx = os.getenv('HOME')", ["imports os", "calls os.getenv"]),
        ("a parameter called now", "def f(now):\n    return now.replace(hour=0)", []),
        ("a call on a call", "x = f()()\ny = g().now()", []),
    ],
)
def test_checker_catches_impurity(name: str, source: str, expected: list[str]) -> None:
    assert violations(source, "watchkeeper.core.example") == expected, name


def test_relative_imports_in_a_package_init() -> None:
    assert violations("from .slo import SLO", "watchkeeper.core", is_package=True) == []
    assert violations("from .. import db", "watchkeeper.core", is_package=True) == [
        "imports watchkeeper"
    ]
