"""`inf` from an objective fails the trial with the reason; an inf already stored by an older llmopt harms no reader."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

import llmopt
from llmopt import ChoiceVar, FloatVar, RandomSampler, Space
from llmopt.cli import main
from llmopt.storage import SQLStorage
from llmopt.storage.sql import codec
from llmopt.storage.sql.tables import trials
from llmopt.trial import TrialState

SPACE = Space({"x": FloatVar(0, 1), "m": ChoiceVar(["a", "b"])})
OBJECTIVES = {"accuracy": "maximize", "cost": "minimize"}


@pytest.mark.parametrize("bad", [math.inf, -math.inf])
def test_inf_objective_fails_the_trial_with_the_reason(tmp_path: Path, bad: float) -> None:
    study = llmopt.create_study("inf", SPACE, OBJECTIVES, storage=str(tmp_path / "i.db"), seed=0, sampler=RandomSampler())
    study.optimize(lambda t: {"accuracy": t.config["x"], "cost": bad if t.number == 1 else 1.0 + t.config["x"]}, n_trials=4)
    failed = [t for t in study.trials if t.state == TrialState.FAILED]
    assert [t.number for t in failed] == [1]
    assert "objective 'cost' is" in failed[0].error and "not a finite number" in failed[0].error
    assert study.hypervolume() > 0 and study.pareto_front()
    study.close()


def _old_database_with_inf(tmp_path: Path) -> str:
    """A study whose trial 2 was stored COMPLETE with cost=inf (what llmopt did before the check)."""
    url = str(tmp_path / "old.db")
    study = llmopt.create_study("old", SPACE, OBJECTIVES, storage=url, seed=0, sampler=RandomSampler())
    study.optimize(lambda t: {"accuracy": t.config["x"], "cost": 1.0 + t.config["x"]}, n_trials=5)
    study.close()
    storage = SQLStorage(url)
    with storage.engine.begin() as conn:
        conn.execute(trials.update().where(trials.c.number == 2).values(
            values_json=codec.dumps({"accuracy": 0.99, "cost": math.inf})))
    storage.close()
    return url


def test_readers_skip_an_inf_stored_by_an_older_llmopt(tmp_path: Path) -> None:
    url = _old_database_with_inf(tmp_path)
    study = llmopt.load_study("old", storage=url)
    assert 2 not in [t.number for t in study.pareto_front()]
    assert math.isfinite(study.hypervolume()) and study.hypervolume() > 0
    study.optimize(lambda t: {"accuracy": t.config["x"], "cost": 1.0 + t.config["x"]}, n_trials=3)  # samplers cope
    assert len(study.trials) == 8
    study.set_sampler(llmopt.TPESampler(n_startup_trials=2))
    study.optimize(lambda t: {"accuracy": t.config["x"], "cost": 1.0 + t.config["x"]}, n_trials=2)
    study.close()


def test_cli_report_and_trials_work_on_an_old_inf(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = _old_database_with_inf(tmp_path)
    assert main(["--storage", url, "report", "old"]) == 0
    out = capsys.readouterr().out
    assert "Pareto front of 'old'" in out and "hypervolume" in out
    assert main(["--storage", url, "trials", "old", "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)  # strict JSON: inf is written as a string
    assert rows[2]["cost"] == "inf"
