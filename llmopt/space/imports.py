"""Import paths (`package.module:Name`) for objects stored inside a JSON search space."""

from __future__ import annotations

import importlib
from typing import Any

from llmopt.errors import SpaceError


def import_path_of(obj: Any) -> str:
    """The path another process can import `obj` from; refuses lambdas and local objects."""
    module = getattr(obj, "__module__", None)
    qualname = getattr(obj, "__qualname__", None)
    if not module or not qualname or "<" in qualname or module == "__main__":
        raise SpaceError(
            f"{obj!r} cannot be stored by import path (module={module!r}, name={qualname!r})",
            "define it at module level in an importable module, or give its path as 'pkg.mod:Name'",
        )
    path = f"{module}:{qualname}"
    try:
        found = resolve_import_path(path)
    except SpaceError:
        found = None
    if found is not obj:
        raise SpaceError(
            f"{obj!r} is not reachable at {path!r}",
            "define it at module level in an importable module, or give its path as 'pkg.mod:Name'",
        )
    return path


def check_import_path(path: str, what: str) -> None:
    """Refuse malformed paths at definition time rather than at first use."""
    module_name, sep, attr = path.partition(":")
    if not sep or not module_name.strip() or not attr.strip():
        raise SpaceError(
            f"{what} {path!r} is not an import path", "give the object itself or a path like 'package.module:Name'"
        )


def resolve_import_path(path: str) -> Any:
    """Import `package.module:Name` (Name may be dotted for nested attributes)."""
    module_name, _, attr = path.partition(":")
    if not module_name or not attr:
        raise SpaceError(f"{path!r} is not an import path", "write it as 'package.module:Name'")
    try:
        obj: Any = importlib.import_module(module_name)
    except ImportError as exc:
        raise SpaceError(f"cannot import module {module_name!r} for {path!r}: {exc}", "install it or fix the path") from None
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise SpaceError(f"{module_name!r} has no attribute {attr!r}", "fix the import path") from None
    return obj
