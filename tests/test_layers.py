"""The layering holds: each package imports only from the layers below it (read from the source)."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "llmopt"

# package -> llmopt packages it may import (besides itself)
ALLOWED = {
    "errors": set(),
    "redaction": set(),  # a leaf: every layer that stores or logs text may redact it
    "space": {"errors"},
    "trial": {"errors"},
    "pareto": {"errors"},
    "samplers": {"errors", "space", "trial", "pareto"},
    "pruning": {"errors", "trial", "space", "pareto"},
    "storage": {"errors", "trial", "redaction"},
    "evaluation": {"errors", "space", "trial", "redaction"},
    "progress": set(),
    "study": {"errors", "space", "trial", "pareto", "samplers", "pruning", "storage", "evaluation", "progress", "redaction", "report"},
    # reports read frozen records (trial, storage.base), intervals of built-in measures, Pareto tools; never storage itself
    "report": {"errors", "trial", "space", "pareto", "storage", "evaluation"},
    "loading": {"errors", "space", "evaluation"},
    "testing": {"evaluation"},  # test doubles for users' tests
    "cli": {"errors", "report", "loading", "samplers", "storage", "study", "redaction", "evaluation", "trial"},
}


def modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if p.name not in {"__init__.py", "__main__.py"} or p.parent != PACKAGE)


def imports_of(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def layer_of(path: Path) -> str:
    rel = path.relative_to(PACKAGE)
    return rel.parts[0].removesuffix(".py")


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_follow_the_layers(path: Path) -> None:
    layer = layer_of(path)
    allowed = ALLOWED[layer] | {layer}
    for name in imports_of(path):
        if name.startswith("llmopt."):
            target = name.split(".")[1]
            assert target in allowed, f"{path.relative_to(PACKAGE)} imports {name}; {layer} may import {sorted(allowed)}"
        if name.split(".")[0] == "sqlalchemy":
            assert path.relative_to(PACKAGE).parts[:2] == ("storage", "sql"), f"{path} imports SQLAlchemy outside storage/sql"
        if name.split(".")[0] == "litellm":
            assert path.name == "_litellm.py", f"{path} imports litellm outside evaluation/_litellm.py"
    if layer not in {"cli"}:
        calls = [n for n in ast.walk(ast.parse(path.read_text())) if isinstance(n, ast.Call)]
        assert not any(isinstance(c.func, ast.Name) and c.func.id == "print" for c in calls), "only the CLI prints"


def private_names_imported(path: Path) -> list[str]:
    """`from llmopt.pkg import _name`, `from llmopt.pkg._mod import x` and `import llmopt.pkg._mod`."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("llmopt."):
            parts = node.module.split(".")
            found += [f"{node.module}" for p in parts[2:] if p.startswith("_")]
            found += [f"{node.module}.{a.name}" for a in node.names if a.name.startswith("_")]
        elif isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name.startswith("llmopt.") and any(p.startswith("_") for p in a.name.split(".")[2:])]
    return found


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_private_import_across_packages(path: Path) -> None:
    """A package's underscored modules and names are its own: another package uses its public ones."""
    layer = layer_of(path)
    for name in private_names_imported(path):
        assert name.split(".")[1] == layer, f"{path.relative_to(PACKAGE)} imports {name}, private to llmopt.{name.split('.')[1]}"


def test_reports_read_records_not_storage() -> None:
    """A report is a pure function of the records the study layer gathers: it may name the
    frozen records of storage.base, never a storage to query."""
    for path in (PACKAGE / "report").glob("*.py"):
        for name in imports_of(path):
            if name.startswith("llmopt.storage"):
                assert name == "llmopt.storage.base", f"report/{path.name} imports {name}"


def absolute_imports_of(path: Path) -> set[str]:
    """Imports by absolute name (`from .x import y` is the package's own)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


ALGORITHMS = {"pareto", "samplers", "pruning"}
NO_IO = {"os", "io", "pathlib", "shutil", "socket", "subprocess", "tempfile", "sqlite3", "urllib", "http", "asyncio", "threading"}


@pytest.mark.parametrize("path", [p for p in modules() if layer_of(p) in ALGORITHMS], ids=lambda p: str(p.relative_to(PACKAGE)))
def test_algorithms_are_pure_computation(path: Path) -> None:
    """Samplers, Pareto and pruning take arrays and return arrays: numpy and scipy only, no I/O,
    so they can be tested, benchmarked and reused without a database or a network."""
    for name in absolute_imports_of(path):
        top = name.split(".")[0]
        if top == "llmopt":
            continue
        assert top in {"numpy", "scipy"} or top in sys.stdlib_module_names, f"{path.relative_to(PACKAGE)} imports {name}"
        assert top not in NO_IO, f"{path.relative_to(PACKAGE)} imports {name}, which does I/O"
