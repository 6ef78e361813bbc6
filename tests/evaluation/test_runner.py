"""run_trial: stages are checkpoints, not barriers; a prune stops new examples; the tail is announced."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from llmopt import Dataset, Evaluation, Limits
from llmopt.evaluation.budget import StudyBudget
from llmopt.evaluation.env import CallEnv
from llmopt.evaluation.runner import TrialRun, run_trial
from llmopt.trial import ExampleResult

N = 40
ORDER = [f"q{i}" for i in range(N)]


def evaluation(pipeline: Any, width: int) -> Evaluation:
    data = Dataset([{"id": eid, "question": eid, "answer": eid} for eid in ORDER])
    return Evaluation(data, pipeline, objectives=["accuracy"], max_concurrent_examples=width,
                      limits=Limits(max_in_flight=width))


async def drive(ev: Evaluation, stage_check: Any, boundaries: list[int], on_all_started: Any = None,
                done: dict[str, ExampleResult] | None = None) -> tuple[TrialRun, list[str]]:
    stored: list[str] = []

    async def sink(result: ExampleResult, entries: Any) -> None:
        stored.append(result.example_id)

    env = CallEnv(ev.prices, ev.limits, ev.retry, StudyBudget(None, 0.0), None, asyncio.get_running_loop())
    with ThreadPoolExecutor(4) as executor:
        run = await run_trial(ev, env, {}, 1, ORDER, done or {}, sink, executor, boundaries, stage_check,
                              on_all_started=on_all_started)
    return run, stored


def recording(started: list[str], seconds: float) -> Any:
    """A pipeline that notes each example as it starts and answers right after `seconds`."""
    async def pipeline(config: Any, example: Any) -> str:
        started.append(example.id)
        await asyncio.sleep(seconds)
        return example.answer
    return pipeline


def test_examples_past_a_boundary_use_the_free_slots_while_its_check_runs() -> None:
    started: list[str] = []
    at_check_end: list[int] = []
    pipeline = recording(started, 0.01)

    async def check(results: list[ExampleResult], stage: int, n_stages: int) -> None:
        assert [r.example_id for r in results] == ORDER[: [10, 20][stage]]  # exactly the stage's prefix
        await asyncio.sleep(0.1)  # a slow check: the slots go on working, one slot-width past the boundary
        at_check_end.append(len(started))
        return None

    run, stored = asyncio.run(drive(evaluation(pipeline, 4), check, [10, 20]))
    assert run.stopped is None and len(run.results) == N and sorted(stored) == sorted(ORDER)
    assert at_check_end == [10 + 4, 20 + 4]  # not a barrier (10, 20), not unbounded (40)


def test_a_late_check_covers_the_last_boundary_passed() -> None:
    stages: list[tuple[int, int]] = []

    async def pipeline(config: Any, example: Any) -> str:
        return example.answer

    async def check(results: list[ExampleResult], stage: int, n_stages: int) -> None:
        stages.append((stage, len(results)))
        await asyncio.sleep(0.05)
        return None

    run, _ = asyncio.run(drive(evaluation(pipeline, 16), check, [2, 4, 6, 8, 30]))
    assert len(run.results) == N
    assert 1 <= len(stages) < 5  # boundaries already passed when a check can run are merged into one
    assert [s for s, _ in stages] == sorted({s for s, _ in stages}) and all(n == [2, 4, 6, 8, 30][s] for s, n in stages)


def test_a_prune_starts_no_new_example_and_stores_those_in_flight() -> None:
    started: list[str] = []
    pipeline = recording(started, 0.02)

    async def check(results: list[ExampleResult], stage: int, n_stages: int) -> tuple[str, dict[str, Any]]:
        return "dominated", {"stage": stage}

    run, stored = asyncio.run(drive(evaluation(pipeline, 4), check, [8, 16]))
    assert run.stopped == "pruned" and run.reason == "dominated" and run.details == {"stage": 0}
    assert 8 <= len(started) <= 8 + 4  # the prefix, plus at most the examples holding a slot at the verdict
    assert sorted(stored) == sorted(started) == sorted(r.example_id for r in run.results)
    assert [r.example_id for r in run.results] == ORDER[: len(run.results)]


def test_a_verdict_that_comes_after_the_last_example_does_not_prune_a_complete_trial() -> None:
    async def pipeline(config: Any, example: Any) -> str:
        return example.answer

    async def check(results: list[ExampleResult], stage: int, n_stages: int) -> tuple[str, dict[str, Any]]:
        await asyncio.sleep(0.2)  # every example finishes first
        return "too late", {}

    run, _ = asyncio.run(drive(evaluation(pipeline, N), check, [5]))
    assert run.stopped is None and len(run.results) == N


def test_all_started_fires_once_when_the_last_example_takes_a_slot() -> None:
    fired: list[int] = []
    started: list[str] = []
    pipeline = recording(started, 0.005)

    run, _ = asyncio.run(drive(evaluation(pipeline, 4), None, [], on_all_started=lambda: fired.append(len(started))))
    assert len(run.results) == N
    assert fired == [N - 1]  # the last example holds its slot and is about to start; it fired once


def test_a_resumed_trial_with_nothing_left_still_announces_its_tail() -> None:
    async def pipeline(config: Any, example: Any) -> str:
        raise AssertionError("no example should run")

    done = {eid: ExampleResult(example_id=eid, metrics={"score": 1.0}) for eid in ORDER}
    fired: list[bool] = []
    run, stored = asyncio.run(drive(evaluation(pipeline, 4), None, [], on_all_started=lambda: fired.append(True), done=done))
    assert fired == [True] and stored == [] and run.resumed == N and len(run.results) == N
