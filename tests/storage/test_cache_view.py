"""The call cache's in-memory view of a study's keys: misses cost no query, the database stays the truth."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from sqlalchemy import event

from llmopt.storage.base import StudySettings
from llmopt.storage.sql import SQLStorage
from llmopt.trial import CallRecord, ExampleResult, Objective


def _study(storage: SQLStorage, name: str = "s") -> int:
    return storage.create_study(name, "{}", (Objective("a", "maximize"),), {}, 0, StudySettings()).study_id


def _write(storage: SQLStorage, trial_id: int, example_id: str, entries: dict[str, str]) -> None:
    call = CallRecord("m", 3, 1, 0.002, 0.002, 0.1, example_id=example_id)
    storage.add_example_result(trial_id, ExampleResult(example_id, {"score": 1.0}, cost=0.002, billed_cost=0.002,
                                                       n_calls=1, calls=(call,)), entries)


def _statements(storage: SQLStorage) -> list[str]:
    seen: list[str] = []
    event.listen(storage.engine, "before_cursor_execute", lambda conn, cursor, sql, *args: seen.append(sql))
    return seen


def test_misses_cost_no_query_and_own_writes_are_hits_at_once(tmp_path: Path) -> None:
    storage = SQLStorage(str(tmp_path / "c.db"))
    study_id = _study(storage)
    trial, _ = storage.start_trial(study_id, time.time())
    assert storage.cache_get(study_id, "k0") is None  # reads the study's keys once
    seen = _statements(storage)
    assert all(storage.cache_get(study_id, f"miss-{i}") is None for i in range(100))
    assert seen == []
    _write(storage, trial.trial_id, "q1", {"k1": '{"text": "a"}'})
    assert storage.cache_get(study_id, "k1") == '{"text": "a"}'
    assert storage.cache_get(_study(storage, "other"), "k1") is None  # per study


def test_entries_of_other_processes_are_found_once_the_view_is_reread(tmp_path: Path) -> None:
    reader, writer = SQLStorage(str(tmp_path / "c.db")), SQLStorage(str(tmp_path / "c.db"))
    study_id = _study(writer)
    _write(writer, writer.start_trial(study_id, time.time())[0].trial_id, "q1", {"old": '"1"'})
    assert reader.cache_get(study_id, "old") == '"1"'  # the first lookup reads what is stored
    _write(writer, writer.start_trial(study_id, time.time())[0].trial_id, "q1", {"new": '"2"'})
    reader._cache_keys[study_id].refresh_at = 0.0  # as if the view were a few seconds old
    assert reader.cache_get(study_id, "new") == '"2"'


def test_a_stale_key_in_the_view_is_a_miss_not_a_wrong_answer(tmp_path: Path) -> None:
    storage = SQLStorage(str(tmp_path / "c.db"))
    study_id = _study(storage)
    _write(storage, storage.start_trial(study_id, time.time())[0].trial_id, "q1", {"k": '"x"'})
    assert storage.cache_get(study_id, "k") == '"x"'
    other = SQLStorage(str(tmp_path / "c.db"))
    other.delete_study("s")  # another process deletes the study; this object's view still lists "k"
    assert storage.cache_get(study_id, "k") is None


def test_examples_of_a_trial_started_elsewhere_land_in_its_study(tmp_path: Path) -> None:
    first, second = SQLStorage(str(tmp_path / "c.db")), SQLStorage(str(tmp_path / "c.db"))
    _study(first, "a")
    study_id = _study(first, "b")
    trial, _ = first.start_trial(study_id, time.time())
    _write(second, trial.trial_id, "q1", {"k": '"x"'})  # `second` never saw this trial start
    assert first.study_spent(study_id) == pytest.approx(0.002)
    assert first.cache_get(study_id, "k") == '"x"'


def test_a_failed_write_adds_no_key(tmp_path: Path) -> None:
    storage = SQLStorage(str(tmp_path / "c.db"))
    study_id = _study(storage)
    trial, _ = storage.start_trial(study_id, time.time())
    _write(storage, trial.trial_id, "q1", {})
    assert storage.cache_get(study_id, "k") is None
    with pytest.raises(Exception, match="already recorded"):
        _write(storage, trial.trial_id, "q1", {"k": '"x"'})
    assert "k" not in storage._cache_keys[study_id].keys
