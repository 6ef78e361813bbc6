"""Bad seeds, names, trial counts and timeouts are refused with one clear error, before anything is stored."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import llmopt
from llmopt import FloatVar, RandomSampler, Space
from llmopt.errors import StudyError
from llmopt.storage import SQLStorage
from llmopt.storage.sql.tables import studies, trials

SPACE = Space({"x": FloatVar(0, 1)})


def rows(url: str) -> tuple[int, int]:
    storage = SQLStorage(url)
    with storage.engine.connect() as conn:
        counts = (conn.execute(studies.select()).fetchall(), conn.execute(trials.select()).fetchall())
    storage.close()
    return len(counts[0]), len(counts[1])


@pytest.mark.parametrize(
    ("seed", "field"),
    [(-1, "seed"), (2**70, "seed"), ("abc", "seed"), (1.5, "seed"), (True, "seed")],
)
def test_bad_seeds_are_refused_and_nothing_is_stored(tmp_path: Path, seed: object, field: str) -> None:
    url = f"sqlite:///{tmp_path / 's.db'}"
    with pytest.raises(StudyError, match=field) as info:
        llmopt.create_study("s", SPACE, {"y": "minimize"}, storage=url, seed=seed)  # type: ignore[arg-type]
    assert info.value.hint  # the error says how to fix it
    assert rows(url) == (0, 0)


def test_numpy_integer_seed_is_accepted(tmp_path: Path) -> None:
    study = llmopt.create_study("s", SPACE, {"y": "minimize"}, storage=str(tmp_path / "s.db"), seed=np.int64(7))
    assert study.seed == 7
    study.close()


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"n_trials": "3"}, "n_trials"),
        ({"n_trials": 2.5}, "n_trials"),
        ({"n_trials": -1}, "n_trials"),
        ({"timeout": -5}, "timeout"),
        ({"timeout": 0}, "timeout"),
        ({"timeout": "10"}, "timeout"),
        ({"timeout": float("nan")}, "timeout"),
    ],
)
def test_bad_loop_arguments_are_refused(tmp_path: Path, kwargs: dict, field: str) -> None:
    url = f"sqlite:///{tmp_path / 'a.db'}"
    study = llmopt.create_study("a", SPACE, {"y": "minimize"}, storage=url, seed=0, sampler=RandomSampler())
    with pytest.raises(StudyError, match=field):
        study.optimize(lambda t: t.config["x"], **kwargs)
    assert rows(url) == (1, 0)
    study.close()


@pytest.mark.parametrize(
    ("name", "match"),
    [("", "empty"), ("   ", "empty"), ("x" * 10_000, "characters long"), ("a\x00b", "control"), (42, "string")],
)
def test_bad_names_are_refused(tmp_path: Path, name: object, match: str) -> None:
    url = f"sqlite:///{tmp_path / 'n.db'}"
    with pytest.raises(StudyError, match=match):
        llmopt.create_study(name, SPACE, {"y": "minimize"}, storage=url)  # type: ignore[arg-type]
    assert rows(url) == (0, 0)


def test_a_stored_negative_seed_from_an_older_llmopt_still_proposes(tmp_path: Path) -> None:
    """Databases written before the seed check may hold seed -1: their studies must keep working."""
    url = f"sqlite:///{tmp_path / 'old.db'}"
    llmopt.create_study("old", SPACE, {"y": "minimize"}, storage=url, seed=0, sampler=RandomSampler()).close()
    storage = SQLStorage(url)
    with storage.engine.begin() as conn:
        conn.execute(studies.update().values(seed=-1))
    storage.close()
    study = llmopt.load_study("old", storage=url)
    study.optimize(lambda t: t.config["x"], n_trials=3)
    assert [t.state.value for t in study.trials] == ["COMPLETE"] * 3
    study.close()


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [({"heartbeat_interval": 0}, "heartbeat_interval"), ({"stale_after": -1}, "stale_after"),
     ({"max_attempts": 0}, "max_attempts"), ({"sampler": "tpe"}, "sampler")],
)
def test_bad_study_settings_are_refused(tmp_path: Path, kwargs: dict, field: str) -> None:
    url = f"sqlite:///{tmp_path / 'b.db'}"
    with pytest.raises(StudyError, match=field):
        llmopt.create_study("b", SPACE, {"y": "minimize"}, storage=url, **kwargs)
    assert rows(url) == (0, 0)
