"""A finite space that is used up ends the study at once, with a clear status, storing no junk trial."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

import llmopt
from llmopt import ChoiceVar, FloatVar, GridSampler, RandomSampler, Space
from llmopt.errors import SpaceExhaustedError
from llmopt.trial import TrialState

TEN = Space({"model": ChoiceVar(["small", "large"]), "temperature": FloatVar(0.0, 1.0, step=0.25)})


def value(trial: llmopt.Trial) -> float:
    return float(trial.config["temperature"])


@pytest.mark.parametrize("sampler", [None, RandomSampler(), GridSampler()], ids=["default", "random", "grid"])
def test_second_run_on_an_exhausted_space_ends_at_once(tmp_path: Path, sampler: object) -> None:
    url = str(tmp_path / "ten.db")
    first = llmopt.create_study("ten", TEN, {"y": "minimize"}, storage=url, seed=0, sampler=sampler, load_if_exists=True)
    first.optimize(value, n_trials=12)
    assert len(first.trials) == 10 and first.status["state"] == "space_exhausted"
    first.close()
    again = llmopt.create_study("ten", TEN, {"y": "minimize"}, storage=url, seed=0, load_if_exists=True)
    started = time.monotonic()
    again.optimize(value, n_trials=5)
    assert time.monotonic() - started < 2.0  # not 100 proposals of the default sampler
    assert len(again.trials) == 10
    assert all(t.state == TrialState.COMPLETE for t in again.trials)  # no FAILED "could not propose" trial
    status = again.status
    assert status["state"] == "space_exhausted" and "all 10 configurations" in status["message"]
    with pytest.raises(SpaceExhaustedError, match="all 10 configurations"):
        again.ask()
    assert len(again.trials) == 10
    again.close()


def test_a_failing_proposal_requeues_the_trial_instead_of_failing_it(tmp_path: Path) -> None:
    class Flaky(RandomSampler):
        calls = 0

        def sample(self, *args, **kwargs):  # type: ignore[no-untyped-def]
            Flaky.calls += 1
            if Flaky.calls == 1:
                raise MemoryError("out of memory while proposing")
            return super().sample(*args, **kwargs)

    study = llmopt.create_study("f", Space({"x": FloatVar(0, 1)}), {"y": "minimize"}, storage=str(tmp_path / "f.db"),
                                seed=0, sampler=RandomSampler())
    study.sampler = Flaky()
    with pytest.raises(MemoryError):
        study.ask()
    assert [t.state for t in study.trials] == [TrialState.WAITING]
    study.optimize(lambda t: t.config["x"], n_trials=2)
    states = [t.state for t in study.trials]
    assert states == [TrialState.COMPLETE, TrialState.COMPLETE]  # trial 0 was proposed again, not FAILED
    study.close()


def test_a_worker_killed_while_proposing_leaves_its_trial_queued_not_failed(tmp_path: Path) -> None:
    """The trial row exists, its configuration does not (kill -9 between the two writes)."""
    url = str(tmp_path / "k.db")
    study = llmopt.create_study("k", Space({"x": FloatVar(0, 1)}), {"y": "minimize"}, storage=url, seed=0,
                                sampler=RandomSampler(), heartbeat_interval=0.05, stale_after=0.2)
    record, new = study.storage.start_trial(study._record.study_id, time.time())  # then the worker "dies"
    assert new and record.params is None
    study.close()
    time.sleep(0.3)
    again = llmopt.load_study("k", storage=url)
    again.optimize(lambda t: t.config["x"], n_trials=2)
    trials = again.trials
    assert [t.state for t in trials] == [TrialState.COMPLETE, TrialState.COMPLETE]
    assert trials[0].number == 0 and trials[0].sample_index == 0  # the same draw as without the kill
    assert trials[0].system_attrs.get("requeued")
    again.close()
