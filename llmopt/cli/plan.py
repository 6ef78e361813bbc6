"""`llmopt plan`: a study's calls, dollars and wall time before spending, and `optimize --max-spend`."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

from llmopt.cli.common import add_common
from llmopt.errors import LLMOptError, StorageError, StudyNotFoundError


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    plan = sub.add_parser("plan", help="preview a study's calls, dollars and wall time (runs a few configurations on a few examples)")
    plan.add_argument("--space", required=True, help="Python file defining SPACE")
    plan.add_argument("--objective", required=True, help="Python file defining EVALUATION")
    plan.add_argument("--n-trials", type=int, required=True, help="trials the study would run")
    plan.add_argument("--study", default="quickstart",
                      help="an existing study lends its seed, sampler, pruning and spend (it is not changed)")
    plan.add_argument("--seed", type=int, default=None, help="a new study's seed (as for optimize)")
    plan.add_argument("--sampler", default=None, help="a new study's sampler (as for optimize)")
    plan.add_argument("--budget", type=float, default=None, help="study budget in dollars: caps the projection")
    plan.add_argument("--concurrent-trials", type=int, default=None, help="trials in flight at once (an Evaluation's)")
    plan.add_argument("--examples", type=int, default=5, help="examples per measured configuration (default 5)")
    plan.add_argument("--configs", type=int, default=4, help="sampled configurations to measure (default 4)")
    plan.add_argument("--no-corner", action="store_true", help="do not also measure the costliest configuration's numeric corner")
    plan.add_argument("--format", choices=("text", "json"), default="text")

    add_common(plan)


def run(args: argparse.Namespace) -> None:
    from llmopt.loading import load_objective, load_space
    from llmopt.study.arguments import check_seed

    check_seed(args.seed)
    space = load_space(args.space)
    objective = load_objective(args.objective)
    evaluation = _evaluation_of(objective, args.objective, "llmopt plan")
    if args.budget is not None:
        evaluation.budget = args.budget
    if args.concurrent_trials is not None:
        evaluation.concurrent_trials = args.concurrent_trials
    with _existing_study(args) as study:
        if study is not None and args.seed is not None and args.seed != study.seed:
            raise LLMOptError(f"study {study.name!r} was created with seed {study.seed}, given --seed {args.seed}",
                              "drop --seed to plan with the stored one, or use a new --study name")
        if study is not None and study.space != space:
            raise LLMOptError(f"study {study.name!r} exists with a different space than {args.space}",
                              "plan with the study's own space file, or use a new --study name")
        with ExitStack() as services:
            for service in objective.services:
                services.enter_context(service)
            with _quiet():
                result = _plan(evaluation, space, args.n_trials, study, args)
    print(json.dumps(result.to_dict(), indent=2, default=str) if args.format == "json" else result.summary())


def check_max_spend_options(args: argparse.Namespace, fn: Any) -> None:
    """Before anything is opened: --max-spend needs an EVALUATION (whose calls are metered) and --n-trials."""
    if not hasattr(fn, "budget"):
        raise LLMOptError(f"--max-spend needs an objective file with EVALUATION; {args.objective} has evaluate()",
                          "drop --max-spend, or define EVALUATION = Evaluation(...)")
    if args.max_spend < 0:
        raise LLMOptError(f"--max-spend must be dollars >= 0, got {args.max_spend:g}", "e.g. --max-spend 5")
    if args.n_trials is None and getattr(args, "total_trials", None) is None:
        raise LLMOptError("--max-spend needs --n-trials: the projection is for a number of trials", "e.g. --n-trials 60 --max-spend 5")


def check_max_spend(args: argparse.Namespace, study: Any, evaluation: Any, n_trials: int | None) -> None:
    """`optimize --max-spend D`: plan this call's trials (services already running) and refuse when the
    projection's upper end (without pruning: pruning is expected, not promised) exceeds D."""
    if not n_trials:
        return  # nothing left to run in this call
    from llmopt.study.plan import plan
    from llmopt.study.plan_text import money

    with _quiet():
        preview = plan(evaluation, study.space, n_trials, study=study)
    limit = args.max_spend
    high = preview.max_dollars
    said = (f"{n_trials} trials project to {money(preview.dollars.mid)} ({money(preview.dollars.low)}-{money(high)}; "
            f"{money(preview.pruned_dollars.mid)} with expected pruning); the plan spent {money(preview.plan_dollars)}")
    if high <= limit:
        print(f"plan: {said}: within --max-spend {money(limit)}", file=sys.stderr)
        for note in preview.notes:
            print(f"plan: note: {note}", file=sys.stderr)
        return
    per_trial = high / max(preview.trials, 1)
    fits = int(limit // per_trial) if per_trial > 0 else n_trials
    fixes = [f"fewer --n-trials (about {fits} fit)" if fits >= 1 else "fewer --n-trials",
             f"--budget {limit:g} to stop there"]
    if preview.costliest_option:
        fixes.append(f"drop {preview.costliest_option} from the space ({preview.costliest_ratio:.1f}x the others' cost)")
    elif preview.measured:
        dearest = " ".join(f"{k}={v}" for k, v in preview.measured[0].params.items())
        fixes.append(f"narrow the space away from its costliest settings measured ({dearest}: "
                     f"{money(preview.measured[0].dollars_per_example)} per example)")
    raise LLMOptError(f"{said}: the upper end is over --max-spend {money(limit)}", ", or ".join(fixes) + "; `llmopt plan` shows the detail")


def _plan(evaluation: Any, space: Any, n_trials: int, study: Any, args: argparse.Namespace) -> Any:
    from llmopt.samplers import SAMPLERS, sampler_from_dict
    from llmopt.study.plan import plan

    if args.sampler and args.sampler not in SAMPLERS:
        raise LLMOptError(f"unknown sampler {args.sampler!r}", f"use one of {sorted(SAMPLERS)}")
    sampler = sampler_from_dict({"type": args.sampler}) if args.sampler and study is None else None
    return plan(evaluation, space, n_trials, study=study, seed=args.seed, sampler=sampler, examples=args.examples,
                configs=args.configs, corner=not args.no_corner)


def _evaluation_of(objective: Any, path: str, command: str) -> Any:
    from llmopt.evaluation import Evaluation

    if not isinstance(objective.evaluate, Evaluation):
        raise LLMOptError(f"{command} needs an objective file with EVALUATION; {path} has evaluate(), whose calls llmopt cannot meter",
                          "define EVALUATION = Evaluation(...)")
    return objective.evaluate


@contextmanager
def _existing_study(args: argparse.Namespace) -> Iterator[Any]:
    """The named study opened read-only, or None when it (or the database) does not exist yet."""
    from llmopt.storage import get_storage
    from llmopt.study import load_study

    try:
        storage = get_storage(args.storage, create=False, readonly=True)
    except StorageError:
        yield None
        return
    try:
        study = load_study(args.study, storage)
    except (StudyNotFoundError, StorageError):
        storage.close()
        yield None
        return
    with study:
        yield study


@contextmanager
def _quiet() -> Iterator[None]:
    """The plan's throwaway trials log nothing at INFO (warnings, such as a FAILED trial, still show)."""
    logger = logging.getLogger("llmopt")
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(level)
