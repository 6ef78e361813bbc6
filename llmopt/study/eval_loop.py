"""Run a study on an Evaluation: several trials in flight in one event loop, budgets, mid-trial resume."""

from __future__ import annotations

import asyncio
import logging
import math
import signal
import sys
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from llmopt.errors import SpaceExhaustedError
from llmopt.evaluation.calls import preload
from llmopt.evaluation.budget import StudyBudget
from llmopt.evaluation.env import CallEnv
from llmopt.evaluation.evaluation import Evaluation
from llmopt.evaluation.meter import install_meter
from llmopt.evaluation.runner import TrialRun, call_summary, run_trial
from llmopt.progress import ProgressLine
from llmopt.pruning import PartialTrial, Pruner, Stages
from llmopt.study import pruning_settings
from llmopt.study.live_trial import Trial
from llmopt.study.staging import comparable, ordered_prefix, partial_trial, prunable, trial_attrs
from llmopt.trial import ExampleResult, TrialRecord, TrialState

if TYPE_CHECKING:
    from llmopt.study.study import Study

log = logging.getLogger("llmopt.study")


def optimize_evaluation(
    study: Study,
    ev: Evaluation,
    n_trials: int | None,
    timeout: float | None,
    callbacks: Sequence[Callable[[Study, TrialRecord], None]],
    show_progress: bool | None,
) -> None:
    """Check prices and objectives before trial 0, then run the loop (in a thread if a loop already runs)."""
    ev.check(study.objectives, study.space)
    loop = EvaluationLoop(study, ev, n_trials, timeout, callbacks, ProgressLine(n_trials, enabled=show_progress))
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        # our two-step Ctrl-C only where Ctrl-C has Python's default meaning (not a user's handler)
        loop.graceful_ctrl_c = signal.getsignal(signal.SIGINT) is signal.default_int_handler
        try:
            asyncio.run(loop.run())
        except asyncio.CancelledError:
            if loop.cancelled_by_user:
                raise KeyboardInterrupt from None
            raise
        return
    failure: list[BaseException] = []  # called from a running loop (Jupyter): run in a thread of our own

    def target() -> None:
        try:
            asyncio.run(loop.run())
        except BaseException as exc:  # re-raised in the caller's thread
            failure.append(exc)

    thread = threading.Thread(target=target, name="llmopt-evaluation")
    thread.start()
    thread.join()
    if failure:
        raise failure[0]


class EvaluationLoop:
    """`concurrent_trials` workers, each asking a trial, scoring its examples and telling the result."""

    def __init__(self, study: Study, ev: Evaluation, n_trials: int | None, timeout: float | None,
                 callbacks: Sequence[Callable[[Study, TrialRecord], None]], progress: ProgressLine) -> None:
        self.study, self.ev, self.n_trials, self.callbacks, self.progress = study, ev, n_trials, list(callbacks), progress
        self.deadline = None if timeout is None else time.monotonic() + timeout
        self.started = 0
        self.stopping = False
        self.order = ev.dataset.order(study.seed)
        self.study_id = study._record.study_id
        self.measures = {m.name: m for m in ev.measures}
        self.pruner, self.boundaries = self._pruning()
        if not self.boundaries and ev.trial_budget is not None:
            self.boundaries = Stages.geometric().boundaries(len(self.order))
        self._finished_examples: dict[int, list[ExampleResult]] = {}
        self.cancelled_by_user = False
        self.graceful_ctrl_c = False

    def _pruning(self) -> tuple[Pruner | None, list[int]]:
        """The pruner and its stage boundaries (stored with the study, so a resume prunes alike);
        none when an objective cannot be followed example by example."""
        pruner, stages = pruning_settings.for_run(self.study, self.ev.pruner, self.ev.stages)
        if pruner is None or stages is None:
            return None, []
        blocked = prunable(self.measures, self.study.objectives)
        if blocked:
            if self.ev.pruner != "auto":
                log.warning("pruning is off: objective(s) %s are custom measures without per-example values", blocked)
            return None, []
        return pruner, list(stages.boundaries(len(self.order)))

    async def run(self) -> None:
        storage = self.study.storage
        if self.ev.models_in(self.study.space) or self.ev.prices.user:  # import litellm now, not inside trial 0's latency
            await asyncio.to_thread(preload)
        spent = await asyncio.to_thread(storage.study_spent, self.study_id)
        loop = asyncio.get_running_loop()
        cache = (lambda key: storage.cache_get(self.study_id, key)) if self.ev.cache else None
        self.env = CallEnv(self.ev.prices, self.ev.limits, self.ev.retry, StudyBudget(self.ev.budget, spent), cache, loop)
        if self.ev.budget is not None:
            await asyncio.to_thread(storage.set_study_system_attr, self.study_id, "budget", self.ev.budget)
        heads = self.ev.concurrent_trials
        most = heads * (2 if self.ev.overlap_trials else 1)  # trials in flight, tails included
        self.executor = ThreadPoolExecutor(max_workers=self.ev.max_concurrent_examples * most,
                                           thread_name_prefix="llmopt-pipeline")
        sigint = self._catch_first_ctrl_c(loop)
        try:
            await self._drive(heads, most)
        finally:
            if sigint:
                loop.remove_signal_handler(signal.SIGINT)
            self.executor.shutdown(wait=False, cancel_futures=True)
            self.progress.close()
        await self._set_status()
        if self.env.interrupt.is_set():
            raise KeyboardInterrupt

    def _catch_first_ctrl_c(self, loop: asyncio.AbstractEventLoop) -> bool:
        """First Ctrl-C: start nothing new, let the calls in flight finish and be stored (they are
        paid for), queue the unfinished trials, then raise KeyboardInterrupt. A second Ctrl-C
        cancels at once (the calls in flight are then lost and paid again on resume)."""
        if not self.graceful_ctrl_c or threading.current_thread() is not threading.main_thread():
            return False
        main = asyncio.current_task()

        def on_sigint() -> None:
            if self.env.interrupt.is_set():
                self.cancelled_by_user = True
                if main is not None:
                    main.cancel()
                return
            self.env.interrupt.set()
            self.stopping = True
            log.warning("study %s: Ctrl-C: finishing the calls in flight and storing them; press Ctrl-C again to stop now",
                        self.study.name)

        try:
            loop.add_signal_handler(signal.SIGINT, on_sigint)
        except (NotImplementedError, RuntimeError, ValueError):  # no signals here (Windows, embedded loops)
            return False
        return True

    def _more(self) -> bool:
        return not (
            self.stopping
            or self.study.stop_requested
            or (self.n_trials is not None and self.started >= self.n_trials)
            or (self.deadline is not None and time.monotonic() >= self.deadline)
            or self.env.budget.exhausted
        )

    async def _drive(self, heads: int, most: int) -> None:
        """Keep `heads` trials starting examples; a trial whose last examples have all started
        hands its place to the next one (with overlap_trials), so its tail leaves no slot idle."""
        places = asyncio.Semaphore(heads)
        running: set[asyncio.Task[None]] = set()
        failures: list[BaseException] = []
        try:
            while True:
                await places.acquire()
                while len(running) >= most:
                    await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
                if failures or not self._more():
                    break
                self.started += 1
                try:
                    trial = await asyncio.to_thread(self.study.ask)
                except SpaceExhaustedError as exc:
                    log.info("study %s: %s", self.study.name, exc.message)
                    self.stopping = True
                    break
                task = asyncio.ensure_future(self._trial_task(trial, places, failures))
                running.add(task)
                task.add_done_callback(running.discard)
            if running:
                await asyncio.wait(set(running))
        except BaseException:  # Ctrl-C or cancellation: every trial in flight goes back to the queue
            for task in running:
                task.cancel()
            await asyncio.gather(*running, return_exceptions=True)
            raise
        if failures:
            raise failures[0]

    async def _trial_task(self, trial: Trial, places: asyncio.Semaphore, failures: list[BaseException]) -> None:
        released = False

        def release() -> None:
            nonlocal released
            if not released:
                released = True
                places.release()

        try:
            record = await self._run_trial(trial, release if self.ev.overlap_trials else None)
            if record is not None:
                self.progress.update(trials=1, front=len(self.study.pareto_front()) if self.progress.enabled else None,
                                     force=True)
                for callback in self.callbacks:
                    callback(self.study, record)
        except asyncio.CancelledError:
            raise
        except BaseException as exc:  # a missing price, a storage error, a callback's: stop starting trials, report it
            self.stopping = True
            failures.append(exc)
        finally:
            release()

    async def _run_trial(self, trial: Trial, on_all_started: Callable[[], None] | None) -> TrialRecord | None:
        storage = self.study.storage
        if "litellm" in sys.modules:  # meter calls made by other routes (DSPy) once litellm is in use
            install_meter()
        budget = self.env.budget
        await asyncio.to_thread(budget.refresh, lambda: storage.study_spent(self.study_id))  # other workers' spend
        known = set(self.order)
        done = {r.example_id: r for r in await asyncio.to_thread(trial.examples) if r.example_id in known}

        def write(result: ExampleResult, entries: Any) -> None:
            with budget.writing(sum(c.billed_cost for c in result.calls)):  # its calls: spent, now stored
                storage.add_example_result(trial.trial_id, result, entries)

        async def sink(result: ExampleResult, entries: Any) -> None:
            await asyncio.to_thread(write, result, entries)

        def on_example(result: ExampleResult) -> None:
            self.progress.update(examples=1, dollars=result.billed_cost or 0.0)

        stage_check = None
        if (self.pruner is not None or self.ev.trial_budget is not None) and not trial_attrs(storage, trial).get("no_prune"):
            async def stage_check(results: list[ExampleResult], stage: int, n_stages: int) -> tuple[str, dict[str, Any]] | None:
                return await asyncio.to_thread(self._decide, trial, results, stage, n_stages)

        try:
            run = await run_trial(self.ev, self.env, trial.config, trial.trial_id, self.order, done, sink,
                                  self.executor, self.boundaries, stage_check, on_example=on_example,
                                  on_all_started=on_all_started)
        except BaseException as exc:  # a missing price, Ctrl-C, cancellation: the trial goes back to the queue
            self.stopping = True
            self.study._heartbeat.remove(trial.trial_id)
            await asyncio.to_thread(storage.requeue_trial, trial.trial_id, f"interrupted: {type(exc).__name__}")
            raise
        if run.orphan_calls:
            def write_orphans() -> None:
                with budget.writing(sum(c.billed_cost for c in run.orphan_calls)):
                    storage.add_calls(trial.trial_id, run.orphan_calls)

            await asyncio.to_thread(write_orphans)
        return await asyncio.to_thread(self._tell, trial, run)

    def _decide(self, trial: Trial, results: list[ExampleResult], stage: int, n_stages: int) -> tuple[str, dict[str, Any]] | None:
        """Ask the pruner, comparing this trial with every other trial on their shared examples."""
        budget = self.ev.trial_budget
        if budget is not None and results:
            projected = sum(r.cost or 0.0 for r in results) / len(results) * len(self.order)
            if projected > budget * 1.5:  # a clear overrun, not noise: the hard cap stops the rest
                return (f"projected cost ${projected:.4g} for {len(self.order)} examples exceeds the per-trial budget "
                        f"${budget:.4g} (at {len(results)} examples)", {"projected_cost": projected, "trial_budget": budget})
        if self.pruner is None:
            return None
        objectives = self.study.objectives
        current = partial_trial(trial.number, results, self.measures, objectives, len(self.order), complete=False)
        decision = self.pruner.decide(current, self._others(trial.trial_id), stage, n_stages)
        return (decision.reason, decision.details) if decision.prune else None

    def _others(self, trial_id: int) -> list[PartialTrial]:
        storage = self.study.storage
        records = [t for t in storage.get_trials(self.study_id) if comparable(t, trial_id)]
        missing = [t.trial_id for t in records if t.trial_id not in self._finished_examples]
        fetched = storage.get_examples_of_trials(missing) if missing else {}
        others = []
        for record in records:
            examples = self._finished_examples.get(record.trial_id)
            if examples is None:
                examples = ordered_prefix(fetched.get(record.trial_id, []), self.order)
                if record.state.is_finished:
                    self._finished_examples[record.trial_id] = examples
            if examples:
                complete = record.state == TrialState.COMPLETE and record.feasible and len(examples) == len(self.order)
                others.append(partial_trial(record.number, examples, self.measures, self.study.objectives,
                                            len(self.order), complete=complete))
        return others

    def _tell(self, trial: Trial, run: TrialRun) -> TrialRecord | None:
        measures = {m.name: m.compute(run.results) for m in self.ev.measures}
        attrs: dict[str, Any] = {
            "measures": measures,
            "examples_scored": len(run.results),
            "examples_total": len(self.order),
            "resumed_examples": run.resumed,
            "billed_cost": sum(r.billed_cost or 0.0 for r in run.results),
            "calls": call_summary(self.study.storage.get_calls(trial.trial_id)),
        }
        values = {o.name: measures[o.name] for o in self.study.objectives}
        finite = bool(run.results) and all(not math.isnan(v) for v in values.values())
        if run.stopped in ("study-budget", "interrupted"):
            self.stopping = True
            self.study._heartbeat.remove(trial.trial_id)
            self.study.storage.requeue_trial(trial.trial_id, run.reason or "study budget reached")
            log.warning("study %s: %s; trial %d is queued to continue on resume", self.study.name, run.reason, trial.number)
            return None
        if run.stopped == "errors":
            return self.study.tell(trial, state=TrialState.FAILED, error=run.reason, system_attrs=attrs)
        if run.stopped in ("trial-budget", "pruned"):
            attrs.update(prune_reason=run.reason, prune_details=run.details)
            return self.study.tell(trial, values if finite else None, state=TrialState.PRUNED, system_attrs=attrs)
        if not finite:
            return self.study.tell(trial, state=TrialState.FAILED, error=f"objectives are not numbers: {values}", system_attrs=attrs)
        return self.study.tell(trial, values, system_attrs=attrs)

    async def _set_status(self) -> None:
        """Store the study's state and spend: the sum of its stored calls, read after this worker's
        last write (the in-memory budget may lag other workers' calls, or lead by calls in flight)."""
        budget = self.env.budget
        storage = self.study.storage
        spent = await asyncio.to_thread(storage.study_spent, self.study_id)
        if budget.exhausted or (budget.limit is not None and spent >= budget.limit):
            status = {"state": "budget_exhausted", "spent": spent, "budget": budget.limit,
                      "hint": "resume with a higher budget to continue"}
        else:
            status = {"state": "ok", "spent": spent, "budget": budget.limit}
        await asyncio.to_thread(storage.set_study_system_attr, self.study_id, "status", status)
