"""Studies: create/load checks, ask/tell, failed trials, the Pareto front and hypervolume."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

import llmopt
from llmopt import ChoiceVar, FloatVar, Forbid, GridSampler, Space, TrialState
from llmopt.trial import Objective
from llmopt.errors import (
    DuplicateStudyError,
    InfeasibleSpaceError,
    SpaceError,
    StudyError,
    StudyNotFoundError,
)

SPACE = Space({"x": FloatVar(0, 1), "m": ChoiceVar(["a", "b"])})
OBJ = {"acc": "maximize", "cost": "minimize"}


def make(storage: str = ":memory:", **kw):  # type: ignore[no-untyped-def]
    return llmopt.create_study(kw.pop("name", "s"), kw.pop("space", SPACE), kw.pop("objectives", OBJ), storage=storage, seed=kw.pop("seed", 0), **kw)


def test_ask_tell_round_trip() -> None:
    study = make()
    trial = study.ask()
    assert trial.number == 0 and set(trial.config) == {"x", "m"}
    record = study.tell(trial, {"acc": 0.9, "cost": 2.0})
    assert record.state == TrialState.COMPLETE and record.values == {"acc": 0.9, "cost": 2.0}
    assert study.trials[0].params == trial.params


@pytest.mark.parametrize(
    "returned, reason",
    [
        (None, "returned None"),
        (float("nan"), "returned 1 value"),
        ((0.5, float("nan")), "NaN"),
        ((1.0, 2.0, 3.0), "returned 3 value"),
        ({"acc": 1.0}, "expected"),
        ("high", "returned 'high'"),
        ((1.0, "x"), "not a number"),
    ],
)
def test_bad_return_values_fail_the_trial_and_the_study_goes_on(returned: object, reason: str) -> None:
    study = make()
    calls = []

    def fn(trial):  # type: ignore[no-untyped-def]
        calls.append(trial.number)
        return returned if trial.number == 0 else (0.5, 1.0)

    study.optimize(fn, n_trials=3)
    trials = study.trials
    assert trials[0].state == TrialState.FAILED and reason in trials[0].error
    assert [t.state for t in trials[1:]] == [TrialState.COMPLETE] * 2
    assert calls == [0, 1, 2]


def test_nan_single_objective_fails() -> None:
    study = make(objectives={"loss": "minimize"})
    study.optimize(lambda t: float("nan"), n_trials=1)
    assert "NaN" in study.trials[0].error


def test_objective_that_raises_stores_error_and_frame_locations() -> None:
    study = make()

    def fn(trial):  # type: ignore[no-untyped-def]
        raise RuntimeError("API down")  # this source line must not be stored

    study.optimize(fn, n_trials=2)
    assert all(t.state == TrialState.FAILED for t in study.trials)
    error = study.trials[0].error
    assert error.startswith("RuntimeError: API down")
    assert "tests/study/test_study.py:" in error and "in fn" in error  # where it happened...
    assert "must not be stored" not in error  # ...but not the source text, which may hold a key


def test_uncaught_exception_types_propagate_and_requeue() -> None:
    study = make()

    def fn(trial):  # type: ignore[no-untyped-def]
        raise KeyError("bug")

    with pytest.raises(KeyError):
        study.optimize(fn, n_trials=2, catch=(ValueError,))
    assert study.trials[0].state == TrialState.WAITING


def test_pareto_front_and_hypervolume() -> None:
    study = make()
    points = [(0.9, 5.0), (0.8, 2.0), (0.7, 3.0), (0.5, 1.0), (0.9, 5.0)]
    for values in points:
        study.tell(study.ask(), values)
    failed = study.ask()
    study.tell(failed, state="FAILED", error="boom")
    front = study.pareto_front()
    assert [t.values["acc"] for t in front] == [0.9, 0.9, 0.8, 0.5]  # ties kept, best accuracy first
    assert {t.number for t in front} == {0, 4, 1, 3}
    # reference given in the objectives' own directions: acc >= 0, cost <= 6
    expected = (0.9 - 0.8) * (6 - 5) + (0.8 - 0.5) * (6 - 2) + 0.5 * (6 - 1)
    assert study.hypervolume(reference=[0.0, 6.0]) == pytest.approx(expected)
    assert study.hypervolume() > 0
    with pytest.raises(StudyError, match="one reference value per objective"):
        study.hypervolume(reference=[0.0])


def test_objective_references_are_the_default_hypervolume_reference() -> None:
    study = make(objectives=[Objective("acc", "maximize", reference=0.0), Objective("cost", "minimize", reference=10.0)])
    study.tell(study.ask(), (0.5, 2.0))
    assert study.hypervolume() == pytest.approx(0.5 * 8.0)


def test_pruned_trials_are_not_on_the_front() -> None:
    study = make()
    study.tell(study.ask(), (0.5, 1.0))
    study.tell(study.ask(), (0.99, 0.1), state=TrialState.PRUNED)
    assert [t.number for t in study.pareto_front()] == [0]
    assert study.trials[1].state == TrialState.PRUNED and study.trials[1].values == {"acc": 0.99, "cost": 0.1}


def test_best_trial_single_objective() -> None:
    study = make(objectives={"loss": "minimize"})
    study.optimize(lambda t: (t.config["x"] - 0.3) ** 2, n_trials=30)
    best = study.best_trial
    assert best.values["loss"] == min(t.values["loss"] for t in study.trials)
    with pytest.raises(StudyError, match="pareto_front"):
        _ = make(name="multi").best_trial


def test_create_checks_before_writing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    infeasible = Space({"m": ChoiceVar(["a"])}, [Forbid({"m": "a"})])
    with pytest.raises(InfeasibleSpaceError):
        make(url, space=infeasible)
    with pytest.raises(SpaceError, match="without a step"):
        make(url, name="g", space=SPACE, sampler=GridSampler())
    with pytest.raises(StudyError, match="direction"):
        make(url, objectives={"acc": "up"})
    with pytest.raises(StudyError, match="at least one objective"):
        make(url, objectives={})
    with pytest.raises(SpaceError, match="cannot be stored"):
        make(url, space=Space({"s": llmopt.ModuleVar({"f": lambda: 1})}))
    from llmopt.storage import get_storage

    assert get_storage(url).list_studies() == []  # nothing half-written


def test_load_if_exists_checks_the_definition(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    study = make(url, name="s", seed=7)
    study.optimize(lambda t: (1.0, 1.0), n_trials=3)
    with pytest.raises(DuplicateStudyError):
        make(url, name="s", seed=7)
    again = make(url, name="s", seed=7, load_if_exists=True)
    assert len(again.trials) == 3
    with pytest.raises(StudyError, match="different space"):
        make(url, name="s", space=Space({"x": FloatVar(0, 2)}), load_if_exists=True)
    with pytest.raises(StudyError, match="objectives"):
        make(url, name="s", seed=7, objectives={"acc": "minimize", "cost": "minimize"}, load_if_exists=True)
    with pytest.raises(StudyError, match="seed 7"):
        make(url, name="s", seed=8, load_if_exists=True)
    assert len(llmopt.load_study("s", storage=url).trials) == 3  # nothing lost


def test_load_missing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    make(url, name="present")
    with pytest.raises(StudyNotFoundError, match="present"):
        llmopt.load_study("absent", storage=url)


def test_unseeded_study_stores_its_seed(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    study = llmopt.create_study("u", SPACE, OBJ, storage=url)
    assert llmopt.load_study("u", storage=url).seed == study.seed


def test_enqueue_runs_first_and_is_validated() -> None:
    study = make()
    number = study.enqueue({"x": 0.25, "m": "b"})
    trial = study.ask()
    assert trial.number == number and trial.params == {"x": 0.25, "m": "b"}
    with pytest.raises(SpaceError, match="outside its domain"):
        study.enqueue({"x": 2.0, "m": "b"})


def test_grid_study_runs_every_point_once_then_stops(tmp_path: Path) -> None:
    space = Space({"x": FloatVar(0, 1, step=0.5), "m": ChoiceVar(["a", "b"])})
    url = f"sqlite:///{tmp_path / 'g.db'}"
    study = make(url, space=space, sampler=GridSampler())
    study.optimize(lambda t: (t.config["x"], 1.0), n_trials=4)
    study.close()
    resumed = llmopt.load_study("s", storage=url)
    assert isinstance(resumed.sampler, GridSampler)
    resumed.optimize(lambda t: (t.config["x"], 1.0))  # no n_trials: until the grid is exhausted
    fps = [t.fingerprint for t in resumed.trials]
    assert len(fps) == 6 and len(set(fps)) == 6


def test_timeout_stops_the_loop() -> None:
    import time

    study = make()
    study.optimize(lambda t: (time.sleep(0.05), (1.0, 1.0))[1], timeout=0.2)
    assert 1 <= len(study.trials) <= 6


def test_callbacks_see_every_finished_trial() -> None:
    study = make()
    seen = []
    study.optimize(lambda t: (1.0, 1.0), n_trials=3, callbacks=[lambda s, r: seen.append((r.number, r.state))])
    assert seen == [(0, TrialState.COMPLETE), (1, TrialState.COMPLETE), (2, TrialState.COMPLETE)]


def test_module_config_and_user_attrs() -> None:
    import collections

    space = Space({"impl": llmopt.ModuleVar({"od": llmopt.ModuleOption(collections.OrderedDict, params={"a": llmopt.IntVar(1, 2)})})})
    study = make(space=space, objectives={"v": "maximize"})
    trial = study.ask()
    chosen = trial.config.module("impl")
    assert chosen.impl is collections.OrderedDict and chosen.build() == collections.OrderedDict(a=trial.config["impl.od.a"])
    trial.set_user_attr("note", "hi")
    study.tell(trial, 1.0)
    assert study.trials[0].user_attrs == {"note": "hi"}
    assert math.isfinite(study.best_trial.values["v"])
