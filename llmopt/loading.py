"""Load a search space or an objective from a Python file by path (`spaces/`, `objectives/`).

A space file defines `SPACE` (a `Space`). An objective file defines either `EVALUATION`
(an `Evaluation`: dataset + pipeline + metric, optionally with `SERVICES`, context managers
such as a `LocalModelServer` to run around the study), or `OBJECTIVES` (name -> direction)
and `evaluate(trial)` returning one value per objective.
"""

from __future__ import annotations

import hashlib
import importlib.util
import sys
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from llmopt.errors import LLMOptError
from llmopt.evaluation import Evaluation
from llmopt.space import Space


def load_module(path: str | Path) -> ModuleType:
    """Import a Python file under a name derived from its absolute path (loaded once per process)."""
    file = Path(path).resolve()
    if not file.is_file():
        raise LLMOptError(f"no such file: {path}", "check the path (it is relative to the current directory)")
    name = f"llmopt_user_{file.stem}_{hashlib.sha1(str(file).encode()).hexdigest()[:8]}"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, file)
    if spec is None or spec.loader is None:
        raise LLMOptError(f"cannot import {path}", "give a .py file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except SyntaxError as exc:
        del sys.modules[name]
        where = f"{path}:{exc.lineno}" if exc.lineno else str(path)
        raise LoadError(f"{where}: {type(exc).__name__}: {exc.msg}", "fix the syntax at that line") from exc
    except ImportError as exc:
        del sys.modules[name]
        missing = f" (pip install {exc.name})" if isinstance(exc, ModuleNotFoundError) and exc.name else ""
        raise LoadError(f"{_where(path, file, exc)}: {type(exc).__name__}: {exc}",
                        f"install or fix the import at that line{missing}") from exc
    except Exception as exc:
        del sys.modules[name]
        raise LoadError(f"{_where(path, file, exc)}: importing it raised {type(exc).__name__}: {exc}",
                        "fix the error at that line (--debug shows the traceback)") from exc
    return module


class LoadError(LLMOptError):
    """A space or objective file could not be imported: names the file, the line and the error."""


def _where(path: str | Path, file: Path, exc: BaseException) -> str:
    """`path:line` of the deepest frame of the traceback inside the user's file."""
    line = None
    for frame in traceback.extract_tb(exc.__traceback__):
        if Path(frame.filename).resolve() == file:
            line = frame.lineno
    return f"{path}:{line}" if line else str(path)


def load_space(path: str | Path) -> Space:
    space = getattr(load_module(path), "SPACE", None)
    if not isinstance(space, Space):
        raise LLMOptError(f"{path} defines no SPACE", "assign SPACE = Space({...}) at module level")
    return space


@dataclass(frozen=True)
class LoadedObjective:
    """What `llmopt optimize` needs from an objective file."""

    objectives: Any
    evaluate: Callable[[Any], Any] | Evaluation
    services: Sequence[Any] = ()


def load_objective(path: str | Path) -> LoadedObjective:
    module = load_module(path)
    evaluation = getattr(module, "EVALUATION", None)
    if evaluation is not None:
        if not isinstance(evaluation, Evaluation):
            raise LLMOptError(f"{path}: EVALUATION is {type(evaluation).__name__}, not an Evaluation", "assign EVALUATION = Evaluation(...)")
        return LoadedObjective(evaluation.objectives, evaluation, list(getattr(module, "SERVICES", ())))
    objectives = getattr(module, "OBJECTIVES", None)
    evaluate = getattr(module, "evaluate", None)
    if not isinstance(objectives, Mapping) or not callable(evaluate):
        raise LLMOptError(
            f"{path} must define EVALUATION, or OBJECTIVES (name -> 'maximize'/'minimize') and evaluate(trial)",
            "see objectives/local_qa.py and objectives/simulated_qa.py for the two shapes",
        )
    return LoadedObjective(objectives=objectives, evaluate=evaluate)
