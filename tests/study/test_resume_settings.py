"""A resumed study runs with the sampler and pruner it was stored with; a different one must be asked for."""

from __future__ import annotations

from pathlib import Path

import pytest

import llmopt
from llmopt import Evaluation, FloatVar, MedianPruner, ParetoPruner, RandomSampler, Space, TPESampler
from llmopt.errors import StudyError
from llmopt.pruning import Stages

SPACE = Space({"x": FloatVar(0, 1)})


def test_create_with_load_if_exists_resumes_with_the_stored_sampler(tmp_path: Path) -> None:
    url = str(tmp_path / "s.db")
    llmopt.create_study("s", SPACE, {"y": "minimize"}, storage=url, seed=0, sampler=TPESampler(n_startup_trials=3)).close()
    again = llmopt.create_study("s", SPACE, {"y": "minimize"}, storage=url, load_if_exists=True)
    assert isinstance(again.sampler, TPESampler) and again.sampler.to_dict() == TPESampler(n_startup_trials=3).to_dict()
    again.close()


@pytest.mark.parametrize("opener", ["create", "load"])
def test_a_different_explicit_sampler_is_refused(tmp_path: Path, opener: str) -> None:
    url = str(tmp_path / "s.db")
    llmopt.create_study("s", SPACE, {"y": "minimize"}, storage=url, seed=0, sampler=TPESampler()).close()
    with pytest.raises(StudyError, match="was run with sampler") as info:
        if opener == "create":
            llmopt.create_study("s", SPACE, {"y": "minimize"}, storage=url, sampler=RandomSampler(), load_if_exists=True)
        else:
            llmopt.load_study("s", storage=url, sampler=RandomSampler())
    assert "set_sampler" in (info.value.hint or "")


def test_set_sampler_switches_and_is_stored(tmp_path: Path) -> None:
    url = str(tmp_path / "s.db")
    study = llmopt.create_study("s", SPACE, {"y": "minimize"}, storage=url, seed=0, sampler=TPESampler())
    study.set_sampler(RandomSampler())
    study.close()
    again = llmopt.load_study("s", storage=url)
    assert isinstance(again.sampler, RandomSampler)
    again.close()


def _evaluation(**kwargs: object) -> Evaluation:
    data = [{"id": f"q{i}", "question": str(i), "answer": str(i % 2)} for i in range(20)]
    return Evaluation(data, lambda config, example: "1" if config["x"] > 0.5 else "0",
                      objectives=("accuracy", "cost"), **kwargs)  # type: ignore[arg-type]


def test_pruner_is_stored_and_reused_on_resume(tmp_path: Path) -> None:
    url = str(tmp_path / "p.db")
    first = _evaluation(pruner=MedianPruner(objective="accuracy"), stages=[5, 10])
    study = llmopt.create_study("p", SPACE, first.objectives, storage=url, seed=0, sampler=RandomSampler())
    study.optimize(first, n_trials=2)
    stored = study._record.system_attrs["pruning"]
    assert stored["pruner"]["type"] == "median" and stored["stages"] == {"kind": "explicit", "counts": [5, 10]}
    study.close()
    again = llmopt.load_study("p", storage=url)
    from llmopt.study.eval_loop import EvaluationLoop
    from llmopt.progress import ProgressLine

    loop = EvaluationLoop(again, _evaluation(), None, None, [], ProgressLine(None, enabled=False))  # pruner left "auto"
    assert type(loop.pruner).__name__ == "MedianPruner" and loop.boundaries == [5, 10]
    with pytest.raises(StudyError, match="was run with pruning"):
        again.optimize(_evaluation(pruner=ParetoPruner()), n_trials=1)
    again.set_pruner(ParetoPruner(), Stages.every(4))
    loop = EvaluationLoop(again, _evaluation(), None, None, [], ProgressLine(None, enabled=False))
    assert type(loop.pruner).__name__ == "ParetoPruner" and loop.boundaries == [4, 8, 12, 16]
    again.close()
