"""llmopt: find the best settings of an LLM program, with a persisted Pareto front of accuracy, cost and latency.

Names are imported on first use, so `import llmopt` stays fast and pulls in neither
SQLAlchemy nor litellm. The top level holds what a user types in the first hour (README,
"API at a glance", lists it; a test keeps the two equal); records, base classes and the
rest live in their packages (`llmopt.trial`, `llmopt.evaluation`, ...), test doubles in
`llmopt.testing`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS: dict[str, str] = {
    "AutoSampler": "llmopt.samplers",
    "ChoiceVar": "llmopt.space",
    "CompositeVar": "llmopt.space",
    "Config": "llmopt.space",
    "Dataset": "llmopt.evaluation",
    "Evaluation": "llmopt.evaluation",
    "FloatVar": "llmopt.space",
    "Forbid": "llmopt.space",
    "GPSampler": "llmopt.samplers",
    "GridSampler": "llmopt.samplers",
    "Implies": "llmopt.space",
    "IntVar": "llmopt.space",
    "LLMOptError": "llmopt.errors",
    "Limits": "llmopt.evaluation",
    "LocalModelServer": "llmopt.evaluation",
    "Measure": "llmopt.evaluation",
    "MedianPruner": "llmopt.pruning",
    "ModuleOption": "llmopt.space",
    "ModuleVar": "llmopt.space",
    "NSGA2Sampler": "llmopt.samplers",
    "ParetoPruner": "llmopt.pruning",
    "Predicate": "llmopt.space",
    "Price": "llmopt.evaluation",
    "RandomSampler": "llmopt.samplers",
    "RetryPolicy": "llmopt.evaluation",
    "Sampler": "llmopt.samplers",
    "Space": "llmopt.space",
    "Stages": "llmopt.pruning",
    "Study": "llmopt.study",
    "SuccessiveHalvingPruner": "llmopt.pruning",
    "TPESampler": "llmopt.samplers",
    "Trial": "llmopt.study",
    "TrialState": "llmopt.trial",
    "acomplete": "llmopt.evaluation",
    "complete": "llmopt.evaluation",
    "create_study": "llmopt.study",
    "delete_study": "llmopt.study",
    "load_study": "llmopt.study",
    "plan": "llmopt.study.plan",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'llmopt' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])


if TYPE_CHECKING:
    from llmopt.errors import LLMOptError
    from llmopt.evaluation import (
        Dataset,
        Evaluation,
        Limits,
        LocalModelServer,
        Measure,
        Price,
        RetryPolicy,
        acomplete,
        complete,
    )
    from llmopt.pruning import MedianPruner, ParetoPruner, Stages, SuccessiveHalvingPruner
    from llmopt.study.plan import plan
    from llmopt.samplers import (
        AutoSampler,
        GPSampler,
        GridSampler,
        NSGA2Sampler,
        RandomSampler,
        Sampler,
        TPESampler,
    )
    from llmopt.space import (
        ChoiceVar,
        CompositeVar,
        Config,
        FloatVar,
        Forbid,
        Implies,
        IntVar,
        ModuleOption,
        ModuleVar,
        Predicate,
        Space,
    )
    from llmopt.study import Study, Trial, create_study, delete_study, load_study
    from llmopt.trial import TrialState
