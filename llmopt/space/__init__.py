"""Search spaces: typed variables, constraints, configurations (pure types, no I/O)."""

from llmopt.space.config import ChosenModule, Config
from llmopt.space.constraints import Forbid, Implies, Predicate
from llmopt.space.space import Leaf, Space
from llmopt.space.variables import ChoiceVar, CompositeVar, FloatVar, IntVar, ModuleOption, ModuleVar

__all__ = [
    "ChoiceVar",
    "ChosenModule",
    "CompositeVar",
    "Config",
    "FloatVar",
    "Forbid",
    "Implies",
    "IntVar",
    "Leaf",
    "ModuleOption",
    "ModuleVar",
    "Predicate",
    "Space",
]
