"""A worker process for the fault suite: joins (or creates) a study and runs trials in it.

Usage: python worker.py URL STUDY TOTAL MODE API_BASE [BARRIER_DIR]

MODE "eval": runs an Evaluation of EXAMPLES examples against a StubLLMServer at API_BASE until
the study holds TOTAL finished trials (every call's message names the trial's `x` and the
example, so the test counts paid calls per (trial, example) at the server); "plain": runs
TOTAL trials of a plain objective function (API_BASE unused).
LLMOPT_FAULT_SLOW_PROPOSE=S makes each proposal take S seconds and LLMOPT_FAULT_SLOW_COMMIT=S
holds every storage commit S seconds just before the database commits, each announced on
stdout ("proposing", "commit") so the test can SIGKILL inside that window. With BARRIER_DIR,
the worker writes `ready-<pid>` there once imported and waits for `start` (a timestamp) before
opening the study, so several workers call create_study(load_if_exists=True) at one instant.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

import llmopt
from llmopt import Dataset, Evaluation, IntVar, Price, RandomSampler, Space, TrialState, acomplete

SPACE = Space({"x": IntVar(0, 199)})  # small: workers often draw the same x, so claims are exercised
EXAMPLES = 6
MODEL = "openai/stub"
PRICE = {MODEL: Price(prompt=1e-6, completion=2e-6)}
FINISHED = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAILED)


def say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


class SlowRandomSampler(RandomSampler):
    """RandomSampler whose proposal takes a while, so a kill lands between a trial's row and its configuration."""

    def sample(self, space: Space, history: Any, objectives: Any, rng: Any, *, index: int = 0) -> dict[str, Any]:
        say(f"proposing {index}")
        time.sleep(float(os.environ.get("LLMOPT_FAULT_SLOW_PROPOSE", "0")))
        return super().sample(space, history, objectives, rng, index=index)


def slow_commits(study: llmopt.Study, seconds: float) -> None:
    """Hold each commit open (statements sent, COMMIT not yet) so a kill lands inside a transaction."""
    from sqlalchemy import event

    def before_commit(conn: Any) -> None:
        say("commit")
        time.sleep(seconds)

    event.listen(study.storage.engine, "commit", before_commit)


def evaluation(api_base: str) -> Evaluation:
    data = Dataset([{"id": f"e{i}", "question": f"say {i}", "answer": str(i)} for i in range(EXAMPLES)])

    async def pipeline(config: llmopt.Config, example: Any) -> str:
        reply = await acomplete(MODEL, f"x={config['x']} {example.question}", api_base=api_base, api_key="k")
        return reply.text

    # no cache: every call reaches the stub, so the stub's log is what was paid; no pruning: every trial runs all examples
    return Evaluation(data, pipeline, prices=PRICE, max_concurrent_examples=2, cache=False, pruner=None, overlap_trials=False)


def objective(trial: llmopt.Trial) -> float:
    trial.record_example("e0", {"x": float(trial.config["x"])})
    return float(trial.config["x"])


def wait_at_barrier(folder: Path) -> None:
    (folder / f"ready-{os.getpid()}").touch()
    start = folder / "start"
    while not start.exists():
        time.sleep(0.005)
    while True:
        text = start.read_text().strip()
        if text:  # the test writes it in one go; an empty read is a write in progress
            break
        time.sleep(0.001)
    time.sleep(max(0.0, float(text) - time.time()))


def main() -> None:
    url, name, total, mode, api_base = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
    ev = evaluation(api_base) if mode == "eval" else None
    objectives = ev.objectives if ev is not None else {"x": "maximize"}
    if len(sys.argv) > 6:
        wait_at_barrier(Path(sys.argv[6]))
    say(f"starting {time.time()}")  # the simultaneous-start test checks the workers left the barrier together
    study = llmopt.create_study(
        name, SPACE, objectives, storage=url, sampler=SlowRandomSampler(), seed=7, load_if_exists=True,
        heartbeat_interval=0.2, stale_after=1.0, max_attempts=50,  # a FAILED trial here is never "too many kills"
    )
    commit_hold = float(os.environ.get("LLMOPT_FAULT_SLOW_COMMIT", "0"))
    if commit_hold:
        slow_commits(study, commit_hold)
    finished = sum(t.state in FINISHED for t in study.trials)
    say(f"ready {finished}")
    if ev is None:  # plain: this worker's own TOTAL trials, next to the other workers'
        study.optimize(objective, n_trials=total)
    elif finished < total:  # eval: resume until the study holds TOTAL finished trials
        study.optimize(ev, n_trials=total - finished)
    study.close()
    say("done")


if __name__ == "__main__":
    main()
