"""Run one trial's examples: concurrently, in the study's order, skipping those already stored.

Each example is written as soon as it is scored (with its calls and new cache entries), so a
killed worker loses only the examples in flight, and a resumed trial pays for none twice.
"""

from __future__ import annotations

import asyncio
import contextvars
import math
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Any

from llmopt.errors import EvaluationError
from llmopt.evaluation.budget import CallsStopped
from llmopt.evaluation.calls import Completion, LLMCallError
from llmopt.evaluation.env import CallEnv
from llmopt.evaluation.evaluation import Evaluation
from llmopt.evaluation.scope import ExampleScope, TrialScope, enter_example, leave_example
from llmopt.redaction import describe_exception
from llmopt.trial import CallRecord, ExampleResult

Sink = Callable[[ExampleResult, Mapping[str, str]], Awaitable[None]]
#: Called at a stage boundary with the results so far (study order), the boundary's index and
#: the number of boundaries (the full set is not one); returns (reason, details) to stop, or None.
StageCheck = Callable[[list[ExampleResult], int, int], Awaitable[tuple[str, dict[str, Any]] | None]]


@dataclass
class TrialRun:
    """What happened to one trial's examples."""

    results: list[ExampleResult]  # in the study's order, resumed ones included
    stopped: str | None = None  # "study-budget", "trial-budget", "pruned", "errors", "interrupted"
    reason: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    resumed: int = 0
    orphan_calls: list[CallRecord] = field(default_factory=list)  # calls of examples cut off by a budget


async def run_trial(
    ev: Evaluation,
    env: CallEnv,
    config: Any,
    trial_id: int,
    order: Sequence[str],
    done: Mapping[str, ExampleResult],
    sink: Sink,
    executor: Executor,
    boundaries: Sequence[int] = (),
    stage_check: StageCheck | None = None,
    on_example: Callable[[ExampleResult], None] | None = None,
    on_all_started: Callable[[], None] | None = None,
) -> TrialRun:
    """Score the examples of `order` not in `done`; check each stage when its prefix is complete.

    Stages are checkpoints, not barriers: while a stage's last examples finish and its check
    runs, up to one request-slot width (`max_concurrent_examples`, at most `Limits.max_in_flight`)
    of examples past the boundary may start, so request slots stay busy and a pruned trial
    wastes at most that many. When a check prunes, no new
    example starts; those in flight finish and are stored (they are paid for). When the
    scored prefix has passed several boundaries by the time a check can run, only the last
    is checked (the pruner's bounds hold at any stopping point). `on_all_started` fires once
    every remaining example has started: this trial alone can no longer fill the slots, so
    the loop may start the next one. Once `env.interrupt` is set (a first Ctrl-C), no example
    starts; those in flight finish and are stored, and the run reports "interrupted".
    """
    trial = TrialScope(trial_id, env, ev.trial_budget, billed=sum(r.billed_cost or 0.0 for r in done.values()))
    results: dict[str, ExampleResult] = dict(done)
    run = TrialRun([], resumed=len(done))
    stop = asyncio.Event()
    progress = asyncio.Event()
    slots = asyncio.Semaphore(ev.max_concurrent_examples)
    width = min(ev.max_concurrent_examples, ev.limits.max_in_flight)  # enough look-ahead to keep requests going
    cuts = sorted({b for b in boundaries if 0 < b < len(order)}) if stage_check is not None else []
    gate = [cuts[0] if cuts else math.inf]  # the first boundary not yet checked
    moved = [asyncio.Event()]  # replaced each time the gate moves (or the trial stops)
    todo = [(pos, eid) for pos, eid in enumerate(order) if eid not in results]
    started = [0]
    errors_seen = [0, 0]  # errors, scored (this attempt and resumed)
    for r in done.values():
        errors_seen[0] += r.error is not None
        errors_seen[1] += 1

    def all_started() -> None:
        nonlocal on_all_started
        if on_all_started is not None:
            callback, on_all_started = on_all_started, None
            callback()

    def move_gate(to: float) -> None:
        gate[0] = to
        moved[0].set()
        moved[0] = asyncio.Event()

    def halt() -> None:
        stop.set()
        move_gate(gate[0])

    async def one(pos: int, example_id: str) -> None:
        while pos >= gate[0] + width and not stop.is_set():
            await moved[0].wait()
        async with slots:
            started[0] += 1
            if started[0] == len(todo):
                all_started()
            if stop.is_set():
                return
            try:
                result, entries = await _score(ev, env, trial, config, example_id, executor)
            except CallsStopped as exc:  # a budget or Ctrl-C: the example is dropped, its paid calls kept
                run.orphan_calls.extend(getattr(exc, "llmopt_calls", ()))
                if run.stopped in (None, "interrupted"):  # a budget outranks Ctrl-C: the status says so
                    run.stopped = _STOPPED[exc.scope]
                    run.reason = _INTERRUPTED if exc.scope == "interrupt" else str(exc)
                halt()
                return
            await sink(result, entries)
            results[example_id] = result
            progress.set()
            errors_seen[0] += result.error is not None
            errors_seen[1] += 1
            if on_example is not None:
                on_example(result)
            reason = _error_stop(ev, errors_seen, len(order), result)
            if reason and not stop.is_set():
                run.stopped, run.reason = "errors", reason
                halt()

    async def checks() -> None:
        """Check the boundaries in order as their prefixes of `order` are scored (the latest, if several)."""
        scored = 0  # length of the scored prefix of `order`
        stage = 0
        try:
            while stage < len(cuts):
                while scored < len(order) and order[scored] in results:
                    scored += 1
                if stop.is_set() or scored == len(order):
                    return  # stopped, or every example is scored: the trial is complete, no check is due
                if scored < cuts[stage]:
                    progress.clear()
                    await progress.wait()
                    continue
                while stage + 1 < len(cuts) and cuts[stage + 1] <= scored:
                    stage += 1
                cut = cuts[stage]
                verdict = await stage_check([results[eid] for eid in order[:cut]], stage, len(cuts))
                if verdict is not None and not stop.is_set() and not all(eid in results for eid in order):
                    run.stopped, (run.reason, run.details) = "pruned", verdict
                    halt()
                    return
                stage += 1
                move_gate(cuts[stage] if stage < len(cuts) else math.inf)
        finally:
            move_gate(math.inf)  # never leave examples waiting on a check that will not come

    async def on_interrupt() -> None:
        await env.interrupt.wait()
        if run.stopped is None:
            run.stopped, run.reason = "interrupted", _INTERRUPTED
        halt()

    tasks = [asyncio.ensure_future(one(pos, eid)) for pos, eid in todo]
    if not todo:
        all_started()
    checker = asyncio.ensure_future(checks()) if cuts else None
    watcher = asyncio.ensure_future(on_interrupt())
    try:
        await asyncio.gather(*tasks)
        progress.set()  # wake the checker: every example is scored or the trial stopped
        if checker is not None:
            await checker
    except BaseException:
        helpers = [checker] if checker is not None else []
        for task in (*tasks, *helpers):
            task.cancel()
        await asyncio.gather(*tasks, *helpers, return_exceptions=True)
        raise
    finally:
        all_started()
        watcher.cancel()
    if run.stopped == "interrupted" and all(eid in results for eid in order):
        run.stopped = run.reason = None  # every example was in flight and finished: a complete trial
    run.results = [results[eid] for eid in order if eid in results]
    return run


_STOPPED = {"study": "study-budget", "per-trial": "trial-budget", "interrupt": "interrupted"}
_INTERRUPTED = "interrupted (Ctrl-C): the examples in flight were stored"


def _error_stop(ev: Evaluation, seen: list[int], total: int, last: ExampleResult) -> str | None:
    errors, scored = seen
    if not errors or last.error is None:
        return None
    if ev.fail_fast_after and scored >= ev.fail_fast_after and errors == scored:
        return f"the first {scored} examples all failed; last error: {(last.error or '').splitlines()[0][:300]}"
    if errors > ev.max_error_rate * total:
        return (f"{errors} of {total} examples failed, over max_error_rate={ev.max_error_rate:g}; "
                f"last error: {(last.error or '').splitlines()[0][:300]}")
    return None


async def _score(
    ev: Evaluation, env: CallEnv, trial: TrialScope, config: Any, example_id: str, executor: Executor
) -> tuple[ExampleResult, dict[str, str]]:
    example = ev.dataset[example_id]
    scope = ExampleScope(example_id, trial)
    token = enter_example(scope)
    error: str | None = None
    output: Any = None
    started = time.perf_counter()
    try:
        if ev.is_async:
            output = await ev.pipeline(config, example)
        else:
            ctx = contextvars.copy_context()
            output = await env.loop.run_in_executor(executor, ctx.run, ev.pipeline, config, example)
    except LLMCallError as exc:  # a call that failed for good is this example's error, not a set-up problem
        error = _describe(exc)
    except (CallsStopped, EvaluationError) as exc:
        exc.llmopt_calls = tuple(scope.calls)  # type: ignore[attr-defined]  # paid for: the caller stores them
        raise
    except Exception as exc:
        error = _describe(exc)
    finally:
        elapsed = time.perf_counter() - started
        leave_example(token)
    await scope.settle()
    if isinstance(output, Completion):
        output = output.text
    score = math.nan
    if error is None:
        try:
            score = float(ev.metric(output, ev.expected(example)))
            error = _out_of_range(ev, score)
            if error is not None:
                score = math.nan  # not stored as a value: the example is an error
        except Exception as exc:
            error = "metric failed: " + _describe(exc)
    calls = tuple(scope.calls)
    answered = [c for c in calls if not c.maybe_billed]  # a timed-out attempt's tokens are an estimate, for billing only
    latency = max(0.0, elapsed - scope.waited + scope.latency_credit)
    result = ExampleResult(
        example_id=example_id,
        metrics={"score": score},
        cost=sum(c.cost for c in calls),
        latency=latency,
        prompt_tokens=sum(c.prompt_tokens for c in answered),
        completion_tokens=sum(c.completion_tokens for c in answered),
        error=error,
        billed_cost=sum(c.billed_cost for c in calls),
        output=None if output is None else str(output)[:4000],
        n_calls=sum(c.status != "retried" for c in calls),  # calls the pipeline made; retries are extra attempts
        cache_hits=sum(c.cache_hit for c in calls),
        calls=calls,
    )
    return result, dict(scope.cache_entries)


def call_summary(calls: Sequence[CallRecord]) -> dict[str, Any]:
    """A trial's attempts at a glance (stored on the trial, shown by `llmopt trials`): requests
    sent, retried and failed attempts, timeouts, and the dollars that may have been billed for
    requests that got no answer (counted at their expected price)."""
    sent = [c for c in calls if not c.cache_hit]
    return {
        "attempts": len(sent),
        "retries": sum(c.status == "retried" for c in sent),
        "failures": sum(c.status == "failed" for c in sent),
        "timeouts": sum(c.error_class == "Timeout" for c in sent),
        "maybe_billed_cost": sum(c.billed_cost for c in sent if c.maybe_billed),
    }


def _out_of_range(ev: Evaluation, score: float) -> str | None:
    """Why the metric's `score` cannot be stored (NaN, or outside the range a measure needs), or None."""
    name = getattr(ev.metric, "__name__", None) or type(ev.metric).__name__
    if math.isnan(score):
        return "metric returned NaN"
    if ev.score_range is not None:
        low, high = ev.score_range
        if not low <= score <= high:
            return (f"metric {name!r} returned {score!r}, outside [{low:g}, {high:g}] "
                    f"(the range {', '.join(ev.score_bounded_by)} needs)")
    return None


def _describe(exc: BaseException) -> str:
    """Type, message and frame locations, never source lines (a line may hold a key), redacted."""
    return describe_exception(exc)
