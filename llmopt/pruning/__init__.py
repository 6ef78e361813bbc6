"""Pruning on partial evaluation sets: pure decisions from paired per-example series (no I/O)."""

from __future__ import annotations

from typing import Any

from llmopt.errors import StudyError
from llmopt.pruning.base import GO_ON, ObjectiveSeries, PartialTrial, Pruner, PruneDecision
from llmopt.pruning.bounds import interval
from llmopt.pruning.budget import BudgetPruner
from llmopt.pruning.combine import AnyPruner, NopPruner
from llmopt.pruning.halving import SuccessiveHalvingPruner
from llmopt.pruning.median import MedianPruner
from llmopt.pruning.pareto import ParetoPruner
from llmopt.pruning.stages import Stages

PRUNERS: dict[str, type[Pruner]] = {
    cls.name: cls
    for cls in (ParetoPruner, MedianPruner, SuccessiveHalvingPruner, BudgetPruner, AnyPruner, NopPruner)
}


def default_pruner() -> Pruner:
    """The pruner a study uses when none is given: sound for any number of objectives."""
    return ParetoPruner()


def pruner_from_dict(data: dict[str, Any]) -> Pruner:
    """Rebuild a stored pruner (nested ones included) from its `to_dict()`."""
    settings = dict(data)
    kind = settings.pop("type", None)
    if kind not in PRUNERS:
        raise StudyError(f"the study was stored with pruner {kind!r}, which this llmopt does not know",
                         f"use one of {sorted(PRUNERS)}, or pass pruner=... when loading")
    if kind == AnyPruner.name:
        settings["pruners"] = [pruner_from_dict(p) for p in settings.get("pruners", [])]
    try:
        return PRUNERS[kind](**settings)
    except TypeError as exc:
        raise StudyError(f"stored settings {data!r} do not fit pruner {kind!r}: {exc}", "store what to_dict() returns") from None


__all__ = [
    "AnyPruner", "BudgetPruner", "GO_ON", "MedianPruner", "NopPruner", "ObjectiveSeries", "PRUNERS", "ParetoPruner",
    "PartialTrial", "PruneDecision", "Pruner", "Stages", "SuccessiveHalvingPruner", "default_pruner", "interval",
    "pruner_from_dict",
]
