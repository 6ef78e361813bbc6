"""The space and objective files a study runs with, stored with it, so `llmopt resume` and
`llmopt worker` need only the study's name, and refuse files that changed since."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from llmopt.errors import LLMOptError

KEY = "sources"


def describe(space: str, objective: str) -> dict[str, Any]:
    """{"space": {"path", "sha256"}, "objective": {...}} for the files as they are now."""
    return {role: {"path": str(Path(path).resolve()), "sha256": _digest(Path(path))}
            for role, path in (("space", space), ("objective", objective))}


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def stored(study: Any) -> dict[str, Any]:
    """The files a study was started with; a one-line error when it has none."""
    sources = study.system_attrs.get(KEY)
    if not isinstance(sources, dict) or not {"space", "objective"} <= set(sources):
        raise LLMOptError(f"study {study.name!r} has no stored space and objective files (it was not run by `llmopt optimize`)",
                          "run `llmopt optimize --study NAME --space FILE --objective FILE` once; resume works after that")
    return sources


def check(sources: dict[str, Any], overrides: dict[str, str | None], force: bool) -> dict[str, str]:
    """The paths to load: the stored ones (or `overrides`, e.g. the same files elsewhere on
    another machine), each checked to exist and to hold what the study started with."""
    out = {}
    for role in ("space", "objective"):
        path = Path(overrides.get(role) or sources[role]["path"])
        flag = f"--{role}"
        if not path.is_file():
            raise LLMOptError(f"the study's {role} file {path} is not there", f"pass {flag} FILE with its path on this machine")
        now = _digest(path)
        if now != sources[role]["sha256"] and not force:
            raise LLMOptError(f"{role} file {path} changed since the study started (sha256 {sources[role]['sha256'][:12]} -> {now[:12]})",
                              "restore it, or pass --force to go on with the file as it is now")
        out[role] = str(path)
    return out
