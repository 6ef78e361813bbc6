"""The pruner and stage schedule a study runs with, stored with the study so a resume uses the same ones.

Without this, a study started with `MedianPruner()` and resumed with an Evaluation left at its
default would silently prune by another rule than the one its first trials were pruned by.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from llmopt.errors import StudyError
from llmopt.pruning import Pruner, Stages, default_pruner, pruner_from_dict

if TYPE_CHECKING:
    from llmopt.study.study import Study

KEY = "pruning"


def resolve(pruner: Any, stages: Any) -> tuple[Pruner | None, Stages | None]:
    """An Evaluation's `pruner` ("auto", None or a Pruner) and `stages` as objects (stages None: the pruner's own)."""
    if pruner is None:
        return None, None
    if pruner == "auto":
        pruner = default_pruner()
    if not isinstance(pruner, Pruner):
        raise StudyError(f"pruner must be 'auto', None or a Pruner, got {pruner!r}", "e.g. pruner=llmopt.ParetoPruner()")
    if stages is None:
        stages = getattr(pruner, "default_stages", None) or Stages.geometric()
    elif not isinstance(stages, Stages):
        stages = Stages.explicit(list(stages))
    return pruner, stages


def to_dict(pruner: Pruner | None, stages: Stages | None) -> dict[str, Any]:
    """JSON-safe form stored under the study's system attribute "pruning"."""
    return json.loads(json.dumps({"pruner": None if pruner is None else pruner.to_dict(),
                                  "stages": None if stages is None else stages.to_dict()}, default=str))


def from_dict(data: dict[str, Any]) -> tuple[Pruner | None, Stages | None]:
    pruner = None if data.get("pruner") is None else pruner_from_dict(data["pruner"])
    stages = None if data.get("stages") is None else Stages.from_dict(data["stages"])
    return pruner, stages


def for_run(study: Study, pruner: Any, stages: Any) -> tuple[Pruner | None, Stages | None]:
    """What this run prunes with: the stored settings when the Evaluation leaves them at their
    defaults ("auto", stages None), else the requested ones, which must match what is stored."""
    stored = study._record.system_attrs.get(KEY)
    if stored is not None and pruner == "auto" and stages is None:
        return from_dict(stored)
    wanted = resolve(pruner, stages)
    if stored is None:
        _store(study, to_dict(*wanted))
    elif to_dict(*wanted) != stored:
        raise StudyError(
            f"study {study.name!r} was run with pruning {stored}, this Evaluation asks for {to_dict(*wanted)}",
            "leave pruner='auto' and stages=None to resume with the stored ones, or switch on purpose with "
            "study.set_pruner(...)",
        )
    return wanted


def store_pruning(study: Study, pruner: Any, stages: Any) -> None:
    """Switch the stored pruning settings (`Study.set_pruner`)."""
    _store(study, to_dict(*resolve(pruner, stages)))


def _store(study: Study, data: dict[str, Any]) -> None:
    study.storage.set_study_system_attr(study._record.study_id, KEY, data)
    study._record.system_attrs[KEY] = data
