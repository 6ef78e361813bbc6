"""Every paid call is accounted: each attempt is a stored call row, a timed-out request counts at its
expected price in spend and budgets, a refused connection says so and fails fast."""

from __future__ import annotations

import asyncio
import socket
import time
from pathlib import Path

import pytest

import llmopt
from llmopt import ChoiceVar, Dataset, Evaluation, Price, RetryPolicy, Space, acomplete
from llmopt.evaluation.budget import StudyBudget
from llmopt.evaluation.calls import DEFAULT_COMPLETION_TOKENS, expected_tokens
from llmopt.evaluation.env import CallEnv
from llmopt.evaluation.limits import Limits
from llmopt.evaluation.pricing import PriceBook
from llmopt.evaluation.stub_server import StubLLMServer
from llmopt.report import trial_rows
from llmopt.trial import CallRecord, TrialState
from tests.evaluation.conftest import STUB_MODEL, STUB_PRICE, echo_last_word

FAST = RetryPolicy(max_retries=4, initial_delay=0.01, max_delay=0.05)


def numbers(n: int) -> Dataset:
    return Dataset([{"id": f"q{i}", "question": f"say {i}", "answer": str(i)} for i in range(n)])


def pipeline_for(api_base: str, **extra):
    async def pipeline(config, example):
        return (await acomplete(STUB_MODEL, example.question, api_base=api_base, api_key="k", **extra)).text
    return pipeline


def run(ev: Evaluation, tmp_path: Path, n_trials: int = 1, name: str = "a"):
    study = llmopt.create_study(name, Space({"x": ChoiceVar([1, 2])}), ev.objectives, storage=str(tmp_path / f"{name}.db"), seed=0)
    study.optimize(ev, n_trials=n_trials)
    return study


def test_every_retried_attempt_is_a_stored_call_row_and_the_trial_counts_them(tmp_path: Path) -> None:
    with StubLLMServer(answer=echo_last_word, fail={0: 429, 1: 500, 2: 503}) as server:
        study = run(Evaluation(numbers(1), pipeline_for(server.api_base), prices=STUB_PRICE, retry=FAST), tmp_path)
        (trial,) = study.trials
        calls = study.storage.get_calls(trial.trial_id)
        assert len(calls) == len(server.requests) == 4  # before: 1 (the retried attempts were never stored)
        assert [(c.status, c.error_class, c.attempt) for c in calls] == [
            ("retried", "RateLimitError", 1), ("retried", "InternalServerError", 2),
            ("retried", "ServiceUnavailableError", 3), ("ok", None, 4)]
        assert not any(c.maybe_billed for c in calls) and sum(c.billed_cost for c in calls[:3]) == 0.0  # a 429/5xx is not billed
        assert all(c.example_id == "q0" and "failed after" in (c.error or "") for c in calls[:3])
        (example,) = study.storage.get_example_results(trial.trial_id)
        assert example.n_calls == 1 and example.error is None
        summary = trial.system_attrs["calls"]
        assert summary == {"attempts": 4, "retries": 3, "failures": 0, "timeouts": 0, "maybe_billed_cost": 0.0}
        (row,) = trial_rows(study.trials, study.objectives, with_state=True)
        assert row["retries"] == 3 and row["failures"] == 0


def test_a_timed_out_request_is_counted_at_its_expected_price(tmp_path: Path) -> None:
    price = Price(prompt=0.001, completion=0.002)
    with StubLLMServer(answer=echo_last_word, fail={0: "timeout"}, hang=1.0) as server:
        ev = Evaluation(numbers(2), pipeline_for(server.api_base, max_tokens=16), prices={STUB_MODEL: price},
                        retry=RetryPolicy(max_retries=2, initial_delay=0.01, timeout=0.4), max_concurrent_examples=1)
        study = run(ev, tmp_path)
        (trial,) = study.trials
        assert trial.state == TrialState.COMPLETE and trial.values["accuracy"] == 1.0
        calls = study.storage.get_calls(trial.trial_id)
        timed_out = [c for c in calls if c.error_class == "Timeout"]
        assert len(calls) == len(server.requests) == 3 and len(timed_out) == 1
        (late,) = timed_out
        assert late.status == "retried" and late.maybe_billed and "may still complete and bill" in late.error
        assert late.completion_tokens == 16 and late.prompt_tokens > 0  # max_tokens, and litellm's count of "say 0"
        assert late.billed_cost == pytest.approx(price.cost(late.prompt_tokens, 16, late.latency)) and late.billed_cost > 0
        assert late.cost == 0.0  # a provider fault is not the configuration's cost
        answered = sum(c.billed_cost for c in calls if not c.maybe_billed)
        spent = study.storage.study_spent(study._record.study_id)
        assert spent == pytest.approx(answered + late.billed_cost)  # before: the timed-out attempt counted $0
        assert study.status["spent"] == pytest.approx(spent)
        assert trial.system_attrs["calls"]["timeouts"] == 1
        assert trial.system_attrs["calls"]["maybe_billed_cost"] == pytest.approx(late.billed_cost)
        examples = {e.example_id: e for e in study.storage.get_example_results(trial.trial_id)}
        assert sum(e.billed_cost for e in examples.values()) == pytest.approx(spent)
        assert all(e.prompt_tokens == 2 and e.completion_tokens == 1 for e in examples.values())  # estimates are not usage


def test_timed_out_requests_count_toward_the_study_budget(tmp_path: Path) -> None:
    """Each request times out once ($0.016 expected with max_tokens=8), then answers ($0.003): the
    budget stops after fewer examples than if only the answers were counted."""
    price = {STUB_MODEL: Price(prompt=0.001, completion=0.001)}
    with StubLLMServer(answer=echo_last_word, fail={i: "timeout" for i in range(0, 40, 2)}, hang=0.8) as server:
        ev = Evaluation(numbers(10), pipeline_for(server.api_base, max_tokens=8), prices=price, budget=0.05,
                        retry=RetryPolicy(max_retries=1, initial_delay=0.01, timeout=0.3), max_concurrent_examples=1)
        study = run(ev, tmp_path)
        spent = study.storage.study_spent(study._record.study_id)
        paid = [c for t in study.trials for c in study.storage.get_calls(t.trial_id)]
        answered = [c for c in paid if c.status == "ok"]
        assert study.status["state"] == "budget_exhausted"
        assert len(paid) == len(server.requests)
        assert len(answered) <= 3  # counting only the answers ($0.003 each), all 10 ($0.03) fitted in the budget
        assert spent >= 0.05 and study.status["spent"] == pytest.approx(spent)


def test_expected_completion_tokens_use_max_tokens_then_the_runs_mean_then_a_default() -> None:
    async def check() -> None:
        ev = Evaluation(numbers(1), lambda c, e: "", prices=STUB_PRICE)
        env = CallEnv(PriceBook(STUB_PRICE), Limits(), RetryPolicy(), StudyBudget(None), None, asyncio.get_running_loop())
        messages = [{"role": "user", "content": "word " * 400}]
        prompt, completion = expected_tokens(env, STUB_MODEL, messages, {})
        assert 380 <= prompt <= 440 and completion == DEFAULT_COMPLETION_TOKENS
        env.answered(STUB_MODEL, 10)
        env.answered(STUB_MODEL, 31)
        assert expected_tokens(env, STUB_MODEL, messages, {})[1] == 20
        assert expected_tokens(env, STUB_MODEL, messages, {"max_tokens": 64})[1] == 64
        assert expected_tokens(env, STUB_MODEL, messages, {"max_completion_tokens": 5})[1] == 5
        assert ev.score_range == (0.0, 1.0)

    asyncio.run(check())


def free_port() -> int:
    """A port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_refused_connection_names_its_cause_and_fails_fast(tmp_path: Path) -> None:
    api_base = f"http://127.0.0.1:{free_port()}/v1"
    ev = Evaluation(numbers(3), pipeline_for(api_base), prices=STUB_PRICE, fail_fast_after=3,
                    retry=RetryPolicy())  # the default: 4 retries with backoff from 0.5 s (3.75 s at the least)
    study = run(ev, tmp_path)
    (trial,) = study.trials
    assert trial.state == TrialState.FAILED
    assert f"connection refused at {api_base}: is the server running?" in trial.error
    assert "InternalServerError" not in trial.error
    assert trial.duration is not None and trial.duration < 3.0, trial.duration  # before: >= 3.75 s of backoff
    calls = study.storage.get_calls(trial.trial_id)
    assert [(c.status, c.attempt) for c in calls if c.example_id == "q0"] == [("retried", 1), ("failed", 2)]
    assert {c.error_class for c in calls} == {"ConnectionRefused"} and not any(c.maybe_billed for c in calls)
    assert trial.system_attrs["calls"]["failures"] == 3


def test_an_out_of_range_metric_score_is_an_error_not_an_accuracy(tmp_path: Path) -> None:
    def pipeline(config, example):
        return example.answer

    def seven_and_a_half(output, expected):
        return 7.5 if expected == "1" else 1.0

    ev = Evaluation(numbers(4), pipeline, seven_and_a_half, objectives=["accuracy"], extra_measures=["error_rate"])
    study = run(ev, tmp_path)
    (trial,) = study.trials
    assert trial.values["accuracy"] == 0.75  # before: (7.5 + 3) / 4 = 2.625
    errors = {e.example_id: e for e in study.storage.get_example_results(trial.trial_id) if e.error}
    assert list(errors) == ["q1"]
    assert errors["q1"].error == "metric 'seven_and_a_half' returned 7.5, outside [0, 1] (the range accuracy needs)"
    assert errors["q1"].metrics["score"] != errors["q1"].metrics["score"]  # NaN: not stored as a value
    free = Evaluation(numbers(4), pipeline, seven_and_a_half, objectives=["cost"])  # no bounded measure reads the score
    assert free.score_range is None
    study = run(free, tmp_path, name="free")
    assert not any(e.error for e in study.storage.get_example_results(study.trials[0].trial_id))


def test_status_spent_is_the_stored_sum_even_when_another_worker_spends_meanwhile(stub: StubLLMServer, tmp_path: Path) -> None:
    """Defect 13: the status was this worker's in-memory view, refreshed only when a trial starts,
    so calls another worker stored after that were missing from `status['spent']`."""
    url = str(tmp_path / "w.db")
    other = None

    def pipeline(config, example):
        if example.id == "q0":  # another worker stores a paid call while this trial runs
            other.storage.add_calls(other_trial.trial_id, [CallRecord(STUB_MODEL, 5, 5, 0.01, 0.01, 0.1)])
        return llmopt.complete(STUB_MODEL, example.question, api_base=stub.api_base, api_key="k").text

    ev = Evaluation(numbers(4), pipeline, prices=STUB_PRICE, max_concurrent_examples=1)
    study = llmopt.create_study("w", Space({"x": ChoiceVar([1, 2])}), ev.objectives, storage=url, seed=0)
    other = llmopt.load_study("w", storage=url)
    other_trial = other.ask()
    try:
        study.optimize(ev, n_trials=1)
        stored = study.storage.study_spent(study._record.study_id)
        assert stored == pytest.approx(0.01 + 4 * 4e-6)
        assert study.status["spent"] == pytest.approx(stored)  # before: 1.6e-05, the other worker's $0.01 missing
    finally:
        other.tell(other_trial, state=TrialState.FAILED, error="test over")
        other.close()


def test_the_budget_keeps_its_own_unwritten_spend_when_it_reads_other_workers_spend() -> None:
    """Defect 13: `spent = max(own, stored)` dropped this worker's spend in flight whenever
    other workers had stored more than it had in flight."""
    budget = StudyBudget(1.0, spent=0.0)
    budget.spend(0.3)  # this worker's calls, 0.2 of them written so far
    with budget.writing(0.2):
        pass
    budget.refresh(lambda: 0.35)  # storage: 0.2 of ours + 0.15 from another worker
    assert budget.spent == pytest.approx(0.45)  # before: max(0.3, 0.35) = 0.35
    with budget.writing(0.1):
        pass
    assert budget.spent == pytest.approx(0.45)
    try:
        with budget.writing(0.05):
            raise RuntimeError("the write failed")
    except RuntimeError:
        pass
    assert budget.spent == pytest.approx(0.45)  # a failed write leaves its spend counted, as not stored


def test_a_refresh_waits_for_writes_in_progress_so_none_is_counted_twice_or_missed() -> None:
    import threading

    budget = StudyBudget(None)
    budget.spend(0.1)
    stored = [0.0]
    in_write, release = threading.Event(), threading.Event()

    def writer() -> None:
        with budget.writing(0.1):
            in_write.set()
            release.wait(5)
            stored[0] += 0.1  # the commit

    thread = threading.Thread(target=writer)
    thread.start()
    in_write.wait(5)
    reader = threading.Thread(target=budget.refresh, args=(lambda: stored[0],))
    reader.start()
    reader.join(0.2)
    assert reader.is_alive()  # the read waits for the write in progress
    release.set()
    thread.join(5)
    reader.join(5)
    assert budget.spent == pytest.approx(0.1)  # once: not 0.2 (stored and unwritten), not 0.0


def test_a_connection_dropped_after_the_request_was_sent_may_be_billed(tmp_path: Path) -> None:
    """A server that reads the request and hangs up: it may have done (and billed) the work."""
    import threading

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    seen = []

    def hang_up() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            seen.append(conn.recv(65536))
            conn.close()

    threading.Thread(target=hang_up, daemon=True).start()
    api_base = f"http://127.0.0.1:{listener.getsockname()[1]}/v1"
    try:
        ev = Evaluation(numbers(1), pipeline_for(api_base, max_tokens=3), prices=STUB_PRICE,
                        retry=RetryPolicy(max_retries=1, initial_delay=0.01), fail_fast_after=1)
        study = run(ev, tmp_path)
    finally:
        listener.close()
    (trial,) = study.trials
    calls = study.storage.get_calls(trial.trial_id)
    assert len(calls) == len(seen) == 2
    assert [(c.status, c.error_class, c.maybe_billed) for c in calls] == [
        ("retried", "ConnectionDropped", True), ("failed", "ConnectionDropped", True)]
    assert all(c.completion_tokens == 3 and c.billed_cost > 0 for c in calls)
    assert study.storage.study_spent(study._record.study_id) == pytest.approx(sum(c.billed_cost for c in calls))
