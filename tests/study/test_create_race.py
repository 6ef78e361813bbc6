"""Workers that start together: the loser of the create race reopens the winner's study instead of dying."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

import llmopt
from llmopt import ChoiceVar, FloatVar, RandomSampler, Space
from llmopt.errors import DuplicateStudyError, StudyError, StudyNotFoundError
from llmopt.storage import SQLStorage

SPACE = Space({"x": FloatVar(0, 1), "m": ChoiceVar(["a", "b"])})
OBJECTIVES = {"y": "minimize"}


class LateLooker(SQLStorage):
    """Another worker inserts the study right after this one looked for it (the race, made certain)."""

    def __init__(self, url: str, rival: SQLStorage) -> None:
        super().__init__(url)
        self.rival = rival
        self.looks = 0

    def get_study(self, name: str):  # type: ignore[no-untyped-def]
        self.looks += 1
        if self.looks == 1:
            llmopt.create_study(name, SPACE, OBJECTIVES, storage=self.rival, sampler=RandomSampler(), seed=3)
            raise StudyNotFoundError(f"no study named {name!r}", "create it")
        return super().get_study(name)


def test_loser_of_the_race_reopens_the_winners_study(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'race.db'}"
    storage = LateLooker(url, SQLStorage(url))
    study = llmopt.create_study("race", SPACE, OBJECTIVES, storage=storage, sampler=RandomSampler(), seed=3,
                                load_if_exists=True)
    assert study.seed == 3 and storage.looks == 2
    study.optimize(lambda t: t.config["x"], n_trials=2)
    assert len(study.trials) == 2


def test_race_still_checks_the_winner_matches(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'race.db'}"
    storage = LateLooker(url, SQLStorage(url))
    with pytest.raises(StudyError, match="seed"):  # the winner used seed 3
        llmopt.create_study("race", SPACE, OBJECTIVES, storage=storage, sampler=RandomSampler(), seed=4, load_if_exists=True)


def test_without_load_if_exists_a_duplicate_is_still_an_error(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'dup.db'}"
    llmopt.create_study("dup", SPACE, OBJECTIVES, storage=url, seed=0).close()
    with pytest.raises(DuplicateStudyError):
        llmopt.create_study("dup", SPACE, OBJECTIVES, storage=url, seed=0)


def test_outcome_constraints_are_stored_with_the_insert(tmp_path: Path) -> None:
    """A worker reopening a just-created study sees its constraints at once (no second write to race)."""
    url = f"sqlite:///{tmp_path / 'c.db'}"
    first = llmopt.create_study("c", SPACE, OBJECTIVES, storage=url, seed=1, constraints=["y <= 0.5"])
    again = llmopt.create_study("c", SPACE, OBJECTIVES, storage=url, seed=1, constraints=["y <= 0.5"], load_if_exists=True)
    assert [c.to_dict() for c in again.outcome_constraints] == [{"name": "y", "op": "<=", "bound": 0.5}]
    first.close()
    again.close()


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_threads_creating_at_once_all_get_the_study(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    url = f"sqlite:///{tmp_path / 'threads.db'}" if backend == "sqlite" else request.getfixturevalue("postgres_url")
    name = f"threads-{tmp_path.name}"
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []
    studies: list[llmopt.Study] = []

    def start() -> None:
        barrier.wait()
        try:
            studies.append(llmopt.create_study(name, SPACE, OBJECTIVES, storage=url, sampler=RandomSampler(), seed=5,
                                               load_if_exists=True))
        except BaseException as exc:  # noqa: BLE001 - the test reports it
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len({s._record.study_id for s in studies}) == 1
    for s in studies:
        s.close()
    if backend == "postgres":
        llmopt.delete_study(name, storage=url)
