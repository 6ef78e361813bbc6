"""Fault injection: an OpenAI-compatible provider failing 20% of requests (429, 500, timeouts).

The study completes; every attempt the server saw is a stored call row; spend and budget
include the timed-out requests (at their expected price); a budget is overshot by no more than
the attempts in flight when it was reached. The schedule of faults is seeded: same run, same figures.
"""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

import pytest

import llmopt
from llmopt import ChoiceVar, Dataset, Evaluation, Limits, Price, RetryPolicy, Space, acomplete
from llmopt.evaluation.budget import StudyBudget
from llmopt.evaluation.stub_server import StubLLMServer, seeded_faults
from llmopt.trial import TrialState

MODEL = "openai/stub"
PRICE = Price(prompt=0.001, completion=0.001)  # an answer to "say i" costs $0.003
IN_FLIGHT = 4
MAX_TOKENS = 4
CLIENT_TIMEOUT = 0.4
BUDGET = 0.20
N_TRIALS = 4
N_EXAMPLES = 25
FAULTS = seeded_faults(2000, 0.2, seed=20)  # 429s, 500s and timeouts in about equal numbers
KIND_OF = {429: "RateLimitError", 500: "InternalServerError", "timeout": "Timeout"}


def answer(messages: list[dict]) -> str:
    return str(messages[-1]["content"]).split()[-1]


def evaluation(server: StubLLMServer, budget: float | None) -> Evaluation:
    async def pipeline(config, example):
        reply = await acomplete(MODEL, example.question, api_base=server.api_base, api_key="k",
                                temperature=config["t"], max_tokens=MAX_TOKENS)
        return reply.text

    data = Dataset([{"id": f"q{i}", "question": f"say {i}", "answer": str(i)} for i in range(N_EXAMPLES)])
    return Evaluation(data, pipeline, prices={MODEL: PRICE}, budget=budget, pruner=None,
                      limits=Limits(max_in_flight=IN_FLIGHT), max_concurrent_examples=IN_FLIGHT,
                      retry=RetryPolicy(max_retries=6, initial_delay=0.01, max_delay=0.05, timeout=CLIENT_TIMEOUT))


@pytest.mark.slow
def test_a_flaky_provider_every_attempt_recorded_and_timeouts_paid_for(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = str(tmp_path / "flaky.db")
    totals: list[float] = []  # the budget's total after each attempt was counted (first run, the one with a budget)
    spend = StudyBudget.spend

    def spy(self: StudyBudget, dollars: float) -> None:
        spend(self, dollars)
        if self.limit == BUDGET:
            totals.append(self.spent)

    monkeypatch.setattr(StudyBudget, "spend", spy)
    space = Space({"t": ChoiceVar([0.0, 0.25, 0.5, 0.75, 1.0])})
    started = time.monotonic()
    with StubLLMServer(answer=answer, fail=FAULTS, hang=CLIENT_TIMEOUT + 0.6) as server:
        study = llmopt.create_study("flaky", space, evaluation(server, BUDGET).objectives, storage=url, seed=0)
        study.optimize(evaluation(server, BUDGET), n_trials=N_TRIALS)
        spent_at_stop = study.storage.study_spent(study._record.study_id)
        assert study.status["state"] == "budget_exhausted"
        assert study.status["spent"] == pytest.approx(spent_at_stop)  # the stored sum, exactly

        study = llmopt.load_study("flaky", storage=url)  # resume without a budget: the study completes
        study.optimize(evaluation(server, None), n_trials=N_TRIALS - len([t for t in study.trials if t.state.is_finished]))
        seen = len(server.requests)
    elapsed = time.monotonic() - started

    trials = study.trials
    assert len(trials) == N_TRIALS and all(t.state == TrialState.COMPLETE for t in trials), [t.state for t in trials]
    calls = [c for t in trials for c in study.storage.get_calls(t.trial_id)]
    assert not any(c.cache_hit for c in calls)  # every configuration asks differently: no cache hit hides a request

    # every attempt the server saw is a stored call row, of the kind the server dealt
    assert len(calls) == seen
    dealt = Counter(KIND_OF[FAULTS[i]] for i in range(seen) if i in FAULTS)
    stored = Counter(c.error_class for c in calls if c.error_class)
    assert stored == dealt, (stored, dealt)
    assert sum(t.system_attrs["calls"]["attempts"] for t in trials) == seen
    assert sum(t.system_attrs["calls"]["retries"] for t in trials) == sum(dealt.values())  # each fault was retried

    # spend and budget include the timed-out requests, at their expected price
    timed_out = [c for c in calls if c.error_class == "Timeout"]
    assert timed_out and all(c.maybe_billed and c.billed_cost > 0 and c.completion_tokens == MAX_TOKENS for c in timed_out)
    assert not any(c.maybe_billed for c in calls if c.error_class in ("RateLimitError", "InternalServerError"))
    spent = study.storage.study_spent(study._record.study_id)
    assert spent == pytest.approx(sum(c.billed_cost for c in calls))
    assert study.status["spent"] == pytest.approx(spent)
    maybe_billed = sum(c.billed_cost for c in timed_out)
    assert maybe_billed == pytest.approx(sum(t.system_attrs["calls"]["maybe_billed_cost"] for t in trials))

    # the budget stopped new calls: only attempts already in flight when it was reached ended after it
    reached = next(i for i, total in enumerate(totals) if total >= BUDGET)
    overshoot_calls = len(totals) - reached - 1
    assert overshoot_calls <= IN_FLIGHT - 1, totals[reached:]
    dearest = max(c.billed_cost for c in calls)
    overshoot = spent_at_stop - BUDGET
    assert 0 <= overshoot <= IN_FLIGHT * dearest + 1e-9, (overshoot, dearest)
    assert totals[-1] == pytest.approx(spent_at_stop)  # what the budget counted is what was stored
    print(f"\nflaky provider: {seen} attempts seen by the server, {len(calls)} stored; faults {dict(dealt)}; "
          f"${maybe_billed:.4f} of ${spent:.4f} maybe billed for {len(timed_out)} timed-out requests; "
          f"budget ${BUDGET} overshot by ${overshoot:.4f}: {overshoot_calls} attempt(s) ended after it was reached "
          f"(bound {IN_FLIGHT - 1}); {elapsed:.1f} s")
    assert elapsed < 60
