"""Resume: a killed worker's trial is re-queued and re-run; a seeded study replays the same configurations."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import llmopt
from llmopt import ChoiceVar, FloatVar, IntVar, ModuleOption, ModuleVar, Space, TrialState

WORKER = str(Path(__file__).with_name("worker.py"))
SPACE = Space(
    {
        "x": FloatVar(0, 1),
        "y": FloatVar(0, 1),
        "m": ModuleVar({"a": None, "b": ModuleOption(params={"k": IntVar(1, 9)})}),
        "c": ChoiceVar(["p", "q"]),
    }
)
OBJECTIVES = {"a": "maximize", "b": "minimize"}


def objective(trial: llmopt.Trial) -> tuple[float, float]:
    trial.record_example("e0", {"x": trial.config["x"]})
    return trial.config["x"], trial.config["y"]


def _uninterrupted(n: int, seed: int) -> list[dict]:
    study = llmopt.create_study("ref", SPACE, OBJECTIVES, storage=":memory:", seed=seed)
    study.optimize(objective, n_trials=n)
    return [t.params for t in study.trials]


@pytest.mark.slow
def test_killed_worker_trial_is_requeued_and_sequence_is_unchanged(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'crash.db'}"
    llmopt.create_study("crash", SPACE, OBJECTIVES, storage=url, seed=5, heartbeat_interval=0.2, stale_after=1.0)
    proc = subprocess.Popen([sys.executable, WORKER, url, "crash", "20", "0", "6"], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert "hanging on trial 6" in line
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)

    study = llmopt.load_study("crash", storage=url)
    states = [t.state for t in study.trials]
    assert states == [TrialState.COMPLETE] * 6 + [TrialState.RUNNING]
    time.sleep(1.3)  # past stale_after: the dead worker's trial is stale
    study.optimize(objective, n_trials=14)

    trials = study.trials
    assert [t.number for t in trials] == list(range(20))
    assert all(t.state == TrialState.COMPLETE for t in trials)
    assert trials[6].attempts == 2 and "heartbeat" in trials[6].system_attrs["requeued"][0]
    assert [t.params for t in trials] == _uninterrupted(20, seed=5)


def test_keyboard_interrupt_requeues_the_running_trial(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ctrlc.db'}"
    study = llmopt.create_study("ctrlc", SPACE, OBJECTIVES, storage=url, seed=9)

    def interrupted(trial: llmopt.Trial) -> tuple[float, float]:
        if trial.number == 3:
            raise KeyboardInterrupt
        return objective(trial)

    with pytest.raises(KeyboardInterrupt):
        study.optimize(interrupted, n_trials=10)
    assert [t.state for t in study.trials] == [TrialState.COMPLETE] * 3 + [TrialState.WAITING]
    study.close()

    resumed = llmopt.load_study("ctrlc", storage=url)
    resumed.optimize(objective, n_trials=7)
    assert [t.params for t in resumed.trials] == _uninterrupted(10, seed=9)


def test_mid_trial_examples_survive_a_requeue(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'examples.db'}"
    study = llmopt.create_study("ex", SPACE, OBJECTIVES, storage=url, seed=1)
    trial = study.ask()
    trial.record_example("q1", {"em": 1.0}, cost=0.01)
    study.storage.requeue_trial(trial.trial_id, "test")
    again = llmopt.load_study("ex", storage=url).ask()
    assert again.number == trial.number
    assert [e.example_id for e in again.examples()] == ["q1"]  # a resumed trial need not pay again
