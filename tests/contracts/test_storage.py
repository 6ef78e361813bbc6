"""One contract every storage backend passes: SQLite file, in-memory SQLite, real PostgreSQL."""

from __future__ import annotations

import math
import time

import pytest

from llmopt.errors import DuplicateStudyError, StudyError, StudyNotFoundError
from llmopt.storage import StudySettings, get_storage
from llmopt.trial import ExampleResult, Objective, TrialState

OBJECTIVES = (Objective("accuracy", "maximize"), Objective("cost", "minimize"))


@pytest.fixture
def storage(storage_url: str):
    store = get_storage(storage_url)
    yield store
    store.close()


def _study(storage, name: str, settings: StudySettings = StudySettings()):
    return storage.create_study(name, '{"variables":{}}', OBJECTIVES, {"type": "random"}, 42, settings)


def test_create_get_list_delete(storage, unique_name: str) -> None:
    record = _study(storage, unique_name)
    again = storage.get_study(unique_name)
    assert again == record
    assert again.objectives == OBJECTIVES and again.seed == 42 and again.sampler == {"type": "random"}
    assert unique_name in [s.name for s in storage.list_studies()]
    with pytest.raises(DuplicateStudyError, match="load_if_exists"):
        _study(storage, unique_name)
    storage.delete_study(unique_name)
    with pytest.raises(StudyNotFoundError):
        storage.get_study(unique_name)


def test_trial_lifecycle_and_values_round_trip(storage, unique_name: str) -> None:
    study = _study(storage, unique_name)
    trial, new = storage.start_trial(study.study_id, time.time())
    assert new and trial.state == TrialState.RUNNING and trial.number == 0 and trial.sample_index == 0
    assert storage.set_trial_params(trial.trial_id, {"a": 1, "b": "x", "c": 0.5, "d": None, "e": True}, "fp0", claim=False)
    done = storage.finish_trial(trial.trial_id, TrialState.COMPLETE, {"accuracy": 0.5, "cost": math.inf}, None, time.time())
    assert done.state == TrialState.COMPLETE
    assert done.values == {"accuracy": 0.5, "cost": math.inf}
    assert done.params == {"a": 1, "b": "x", "c": 0.5, "d": None, "e": True}
    assert done.duration is not None and done.duration >= 0
    with pytest.raises(StudyError, match="already COMPLETE"):
        storage.finish_trial(trial.trial_id, TrialState.FAILED, None, "late", time.time())
    second, _ = storage.start_trial(study.study_id, time.time())
    storage.finish_trial(second.trial_id, TrialState.FAILED, None, "ValueError: boom", time.time())
    records = storage.get_trials(study.study_id)
    assert [r.number for r in records] == [0, 1]
    assert records[1].state == TrialState.FAILED and records[1].error == "ValueError: boom"
    assert [r.number for r in storage.get_trials(study.study_id, [TrialState.FAILED])] == [1]
    assert [r.number for r in storage.get_trials(study.study_id, min_number=1)] == [1]


def test_numbers_continue_and_waiting_trials_come_first(storage, unique_name: str) -> None:
    study = _study(storage, unique_name)
    first, _ = storage.start_trial(study.study_id, time.time())
    number = storage.enqueue_trial(study.study_id, {"a": 2}, "fp-q", claim=False, now=time.time())
    assert number == 1
    queued, new = storage.start_trial(study.study_id, time.time())
    assert not new and queued.number == 1 and queued.params == {"a": 2} and queued.sample_index is None
    fresh, new = storage.start_trial(study.study_id, time.time())
    assert new and fresh.number == 2 and fresh.sample_index == 1  # the queued trial took no sample index


def test_claims_are_unique_per_study(storage, unique_name: str) -> None:
    study = _study(storage, unique_name)
    other = _study(storage, unique_name + "-other")
    a, _ = storage.start_trial(study.study_id, time.time())
    b, _ = storage.start_trial(study.study_id, time.time())
    c, _ = storage.start_trial(other.study_id, time.time())
    assert storage.set_trial_params(a.trial_id, {"x": 1}, "same", claim=True)
    assert not storage.set_trial_params(b.trial_id, {"x": 1}, "same", claim=True)
    assert storage.get_trials(study.study_id)[1].params is None  # the losing write left nothing behind
    assert storage.set_trial_params(c.trial_id, {"x": 1}, "same", claim=True)  # other study: free


def test_stale_trials_are_requeued_then_failed(storage, unique_name: str) -> None:
    study = _study(storage, unique_name, StudySettings(heartbeat_interval=0.01, stale_after=1.0, max_attempts=2))
    now = time.time()
    trial, _ = storage.start_trial(study.study_id, now)
    storage.set_trial_params(trial.trial_id, {"x": 1}, "fp", claim=False)
    # 5 s later without a heartbeat: the trial is stale, goes back to the queue and is claimed again
    again, new = storage.start_trial(study.study_id, now + 5)
    assert not new and again.number == trial.number and again.attempts == 2
    assert "heartbeat" in again.system_attrs["requeued"][0]
    storage.heartbeat([again.trial_id], now + 6)
    fresh, new = storage.start_trial(study.study_id, now + 6.5)  # heartbeat kept it alive
    assert new and fresh.number == 1
    storage.finish_trial(fresh.trial_id, TrialState.COMPLETE, {"accuracy": 1, "cost": 1}, None, now + 6.5)
    # stale again after max_attempts: FAILED with the reason
    storage.start_trial(study.study_id, now + 20)
    failed = storage.get_trials(study.study_id)[0]
    assert failed.state == TrialState.FAILED and "gave up after 2 attempts" in failed.error


def test_requeue_trial(storage, unique_name: str) -> None:
    study = _study(storage, unique_name)
    trial, _ = storage.start_trial(study.study_id, time.time())
    storage.set_trial_params(trial.trial_id, {"x": 1}, "fp", claim=False)
    storage.requeue_trial(trial.trial_id, "interrupted")
    assert storage.get_trials(study.study_id)[0].state == TrialState.WAITING
    again, new = storage.start_trial(study.study_id, time.time())
    assert not new and again.number == 0


def test_example_results_round_trip(storage, unique_name: str) -> None:
    study = _study(storage, unique_name)
    trial, _ = storage.start_trial(study.study_id, time.time())
    storage.add_example_result(trial.trial_id, ExampleResult("q1", {"em": 1.0}, cost=0.001, latency=0.5, prompt_tokens=10, completion_tokens=3))
    storage.add_example_result(trial.trial_id, ExampleResult("q2", {"em": math.nan}, error="timeout"))
    results = storage.get_example_results(trial.trial_id)
    assert [r.example_id for r in results] == ["q1", "q2"]
    assert results[0].metrics == {"em": 1.0} and results[0].cost == 0.001 and results[0].prompt_tokens == 10
    assert math.isnan(results[1].metrics["em"]) and results[1].error == "timeout"
    with pytest.raises(StudyError, match="already recorded"):
        storage.add_example_result(trial.trial_id, ExampleResult("q1", {"em": 0.0}))
    assert len(storage.get_example_results(trial.trial_id)) == 2


def test_user_attrs(storage, unique_name: str) -> None:
    study = _study(storage, unique_name)
    trial, _ = storage.start_trial(study.study_id, time.time())
    storage.set_trial_user_attr(trial.trial_id, "note", {"k": [1, 2]})
    assert storage.get_trials(study.study_id)[0].user_attrs == {"note": {"k": [1, 2]}}


def test_delete_removes_trials_and_examples(storage, unique_name: str) -> None:
    study = _study(storage, unique_name)
    trial, _ = storage.start_trial(study.study_id, time.time())
    storage.add_example_result(trial.trial_id, ExampleResult("q1"))
    storage.delete_study(unique_name)
    recreated = _study(storage, unique_name)
    assert storage.get_trials(recreated.study_id) == []


def test_calls_cache_and_spend(storage, unique_name: str) -> None:
    from llmopt.trial import CallRecord

    study = _study(storage, unique_name)
    trial, _ = storage.start_trial(study.study_id, time.time())
    calls = (CallRecord("m", 10, 2, 0.003, 0.003, 0.4), CallRecord("m", 10, 2, 0.003, 0.0, 0.4, cache_hit=True))
    result = ExampleResult("q1", {"score": 1.0}, cost=0.006, billed_cost=0.003, output="Paris", n_calls=2, cache_hits=1, calls=calls)
    storage.add_example_result(trial.trial_id, result, {"k1": '{"text": "Paris"}'})
    storage.add_example_result(trial.trial_id, ExampleResult("q2"), {"k1": '{"text": "other"}'})  # first writer wins
    storage.add_calls(trial.trial_id, [CallRecord("m", 5, 0, 0.001, 0.001, 0.1, error="cut off by budget")])
    (stored, _) = storage.get_example_results(trial.trial_id)
    assert (stored.billed_cost, stored.output, stored.n_calls, stored.cache_hits) == (0.003, "Paris", 2, 1)
    got = storage.get_calls(trial.trial_id)
    assert [c.example_id for c in got] == ["q1", "q1", None] and got[1].cache_hit and got[2].error == "cut off by budget"
    assert storage.study_spent(study.study_id) == pytest.approx(0.004)
    assert storage.cache_get(study.study_id, "k1") == '{"text": "Paris"}' and storage.cache_get(study.study_id, "k2") is None
    other = _study(storage, unique_name + "-other")
    assert storage.cache_get(other.study_id, "k1") is None and storage.study_spent(other.study_id) == 0.0
    assert set(storage.get_examples_of_trials([trial.trial_id, 10**9])) == {trial.trial_id, 10**9}
    storage.delete_study(unique_name)
    again = _study(storage, unique_name)
    assert storage.study_spent(again.study_id) == 0.0 and storage.cache_get(again.study_id, "k1") is None


def test_spend_by_trial_sums_each_trials_attempts(storage, unique_name: str) -> None:
    from llmopt.storage.base import TrialSpend
    from llmopt.trial import CallRecord

    study = _study(storage, unique_name)
    first, _ = storage.start_trial(study.study_id, time.time())
    second, _ = storage.start_trial(study.study_id, time.time())
    hit = CallRecord("m", 10, 2, 0.003, 0.0, 0.1, cache_hit=True)
    storage.add_example_result(first.trial_id, ExampleResult("q1", calls=(CallRecord("m", 10, 2, 0.003, 0.003, 0.4), hit)))
    storage.add_calls(first.trial_id, [CallRecord("m", 5, 0, 0.001, 0.001, 0.1, status="failed", error_class="Timeout")])
    other = _study(storage, unique_name + "-other")
    elsewhere, _ = storage.start_trial(other.study_id, time.time())
    storage.add_calls(elsewhere.trial_id, [CallRecord("m", 1, 1, 9.0, 9.0, 0.1)])
    spend = storage.spend_by_trial(study.study_id)
    assert set(spend) == {first.trial_id}  # a trial without calls is absent; other studies' trials too
    got = spend[first.trial_id]
    assert (got.attempts, got.cache_hits) == (2, 1)
    assert got.billed_cost == pytest.approx(0.004) and got.cost == pytest.approx(0.007)
    assert isinstance(got, TrialSpend) and second.trial_id not in spend


def test_study_and_trial_system_attrs(storage, unique_name: str) -> None:
    study = _study(storage, unique_name)
    storage.set_study_system_attr(study.study_id, "status", {"state": "budget_exhausted", "spent": 1.5})
    assert storage.get_study(unique_name).system_attrs["status"]["spent"] == 1.5
    trial, _ = storage.start_trial(study.study_id, time.time())
    storage.set_trial_system_attr(trial.trial_id, "constraint_violation", 0.25)
    record = storage.finish_trial(trial.trial_id, TrialState.PRUNED, {"accuracy": 0.5, "cost": 1.0}, None, time.time(),
                                  {"prune_reason": "dominated"})
    assert record.system_attrs == {"constraint_violation": 0.25, "prune_reason": "dominated"}
    assert record.constraint_violation == 0.25 and not record.feasible


def _examples_study(storage, name: str, trials: int, per_trial: int):
    """A study of `trials` finished trials with `per_trial` examples each, one call per example."""
    from llmopt.trial import CallRecord

    study = _study(storage, name)
    for _ in range(trials):
        trial, _ = storage.start_trial(study.study_id, time.time())
        for i in range(per_trial):
            call = CallRecord("m", i, 1, 0.001 * i, 0.001 * i, 0.1, example_id=f"t{trial.number}-e{i}")
            storage.add_example_result(trial.trial_id, ExampleResult(f"t{trial.number}-e{i}", {"score": i / 10}, cost=0.001 * i,
                                                                     output=f"answer {i}", calls=(call,)))
        storage.finish_trial(trial.trial_id, TrialState.COMPLETE, {"accuracy": 0.5, "cost": 1.0}, None, time.time())
    return study


def test_iter_examples_and_calls_page_in_stored_order(storage, unique_name: str) -> None:
    study = _examples_study(storage, unique_name, trials=3, per_trial=4)
    expected = [(t, f"t{t}-e{i}") for t in range(3) for i in range(4)]
    for batch in (1, 5, 12, 1000):  # pages of one, pages that split a trial, an exact fit, one page
        got = list(storage.iter_examples(study.study_id, batch=batch))
        assert [(n, e.example_id) for n, e in got] == expected
        assert got[5][1].metrics == {"score": 0.1} and got[5][1].output == "answer 1" and got[5][1].cost == pytest.approx(0.001)
        calls = list(storage.iter_calls(study.study_id, batch=batch))
        assert [(n, c.example_id) for n, c in calls] == expected and calls[6][1].prompt_tokens == 2
    assert [r.number for r in storage.iter_trials(study.study_id, batch=2)] == [0, 1, 2]
    assert [r.number for r in storage.iter_trials(study.study_id)] == [0, 1, 2]


def test_iter_readers_leave_out_other_studies_and_handle_empty_ones(storage, unique_name: str) -> None:
    from llmopt.trial import CallRecord

    first = _examples_study(storage, unique_name, trials=2, per_trial=3)
    other = _examples_study(storage, unique_name + "-other", trials=2, per_trial=3)  # interleaved ids after first's
    trial, _ = storage.start_trial(first.study_id, time.time())  # first again: its ids now come after other's
    storage.add_example_result(trial.trial_id, ExampleResult("late"))
    storage.add_calls(trial.trial_id, [CallRecord("m", status="failed", error_class="Timeout")])
    got = [(n, e.example_id) for n, e in storage.iter_examples(first.study_id, batch=2)]
    assert got == [(0, "t0-e0"), (0, "t0-e1"), (0, "t0-e2"), (1, "t1-e0"), (1, "t1-e1"), (1, "t1-e2"), (2, "late")]
    calls = list(storage.iter_calls(first.study_id, batch=2))
    assert len(calls) == 7 and calls[-1][0] == 2 and calls[-1][1].example_id is None and calls[-1][1].error_class == "Timeout"
    assert len(list(storage.iter_examples(other.study_id, batch=4))) == 6
    assert [r.number for r in storage.iter_trials(first.study_id, batch=1)] == [0, 1, 2]
    empty = _study(storage, unique_name + "-empty")
    assert list(storage.iter_examples(empty.study_id)) == [] and list(storage.iter_calls(empty.study_id)) == []
    assert list(storage.iter_trials(empty.study_id)) == []
    storage.start_trial(empty.study_id, time.time())  # a trial with no examples yet
    assert list(storage.iter_examples(empty.study_id, batch=1)) == [] and len(list(storage.iter_trials(empty.study_id))) == 1
    with pytest.raises(StudyError, match="batch"):
        storage.iter_examples(first.study_id, batch=0)


def test_iter_examples_sees_rows_stored_between_pages(storage, unique_name: str) -> None:
    study = _examples_study(storage, unique_name, trials=1, per_trial=2)
    stream = storage.iter_examples(study.study_id, batch=1)
    assert next(stream)[1].example_id == "t0-e0"
    trial, _ = storage.start_trial(study.study_id, time.time())  # written while the export is between pages: no lock held
    storage.add_example_result(trial.trial_id, ExampleResult("new"))
    rest = [e.example_id for _, e in stream]
    assert rest in (["t0-e1"], ["t0-e1", "new"])  # a row stored meanwhile may be read or not; nothing else changes
    assert [e.example_id for _, e in storage.iter_examples(study.study_id)] == ["t0-e0", "t0-e1", "new"]
