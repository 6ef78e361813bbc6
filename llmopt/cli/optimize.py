"""`llmopt optimize`: run (or resume) a study from a space file and an objective file, then print its front."""

from __future__ import annotations

import argparse
import sys

from llmopt.cli import sources
from llmopt.cli.common import add_common, trial_log
from llmopt.cli.front import print_front
from llmopt.errors import LLMOptError
from llmopt.redaction import redact
from llmopt.report import FORMATS


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    opt = sub.add_parser("optimize", help="run (or resume) a study and print its Pareto front")
    opt.add_argument("--space", required=True, help="Python file defining SPACE")
    opt.add_argument("--objective", required=True, help="Python file defining EVALUATION, or OBJECTIVES and evaluate(trial)")
    opt.add_argument("--study", default="quickstart", help="study name; an existing study is resumed")
    opt.add_argument("--n-trials", type=int, default=None, help="trials to run in this call")
    opt.add_argument("--timeout", type=float, default=None, help="stop starting trials after this many seconds")
    opt.add_argument("--sampler", default=None,
                     help="random, grid, tpe, nsga2... (default: a new study's default sampler; a resumed study's stored one)")
    opt.add_argument("--change-sampler", action="store_true", help="switch a resumed study to --sampler (stored from now on)")
    opt.add_argument("--budget", type=float, default=None, help="study budget in dollars (an Evaluation's; raise it to resume)")
    opt.add_argument("--concurrent-trials", type=int, default=None, help="trials in flight at once (an Evaluation's)")
    opt.add_argument("--max-spend", type=float, default=None, metavar="DOLLARS",
                     help="first preview this call's trials (llmopt plan) and refuse if they may cost more (an Evaluation's)")
    opt.add_argument("--seed", type=int, default=None)
    opt.add_argument("--format", choices=FORMATS, default="table")
    opt.add_argument("--quiet", action="store_true", help="no per-trial log lines")

    add_common(opt)


def run(args: argparse.Namespace) -> None:
    from llmopt.study.arguments import check_n_trials, check_seed, check_timeout

    check_n_trials(args.n_trials), check_timeout(args.timeout), check_seed(args.seed)  # before opening anything
    with trial_log(enabled=not args.quiet):
        _run_optimize(args)


def _run_optimize(args: argparse.Namespace) -> None:
    from llmopt.loading import load_objective, load_space
    from llmopt.samplers import sampler_from_dict
    from llmopt.study import create_study

    space = load_space(args.space)
    objective = load_objective(args.objective)
    from llmopt.samplers import SAMPLERS

    if args.sampler and args.sampler not in SAMPLERS:
        raise LLMOptError(f"unknown sampler {args.sampler!r}", f"use one of {sorted(SAMPLERS)}")
    sampler = sampler_from_dict({"type": args.sampler}) if args.sampler else None
    if args.change_sampler and sampler is None:
        raise LLMOptError("--change-sampler needs --sampler NAME", "e.g. --sampler tpe --change-sampler")
    fn = objective.evaluate
    if not hasattr(fn, "budget") and (args.budget is not None or args.concurrent_trials is not None):
        raise LLMOptError(f"--budget and --concurrent-trials need an objective file with EVALUATION; {args.objective} has evaluate()",
                          "drop those options, or define EVALUATION = Evaluation(...)")
    if getattr(args, "max_spend", None) is not None:
        from llmopt.cli.plan import check_max_spend_options

        check_max_spend_options(args, fn)
    if hasattr(fn, "budget"):
        if args.budget is not None:
            fn.budget = args.budget
        if args.concurrent_trials is not None:
            fn.concurrent_trials = args.concurrent_trials
    study = create_study(args.study, space, objective.objectives, args.storage, None if args.change_sampler else sampler,
                         args.seed, load_if_exists=True)
    if args.change_sampler and sampler is not None and sampler.to_dict() != study.sampler.to_dict():
        study.set_sampler(sampler)
        print(f"study {study.name!r}: sampler switched to {args.sampler}", file=sys.stderr)
    files = sources.describe(args.space, args.objective)
    if study.system_attrs.get(sources.KEY) != files:  # what `llmopt resume` and `llmopt worker` will load
        study.set_system_attr(sources.KEY, files)
    with study:
        _run_study(args, study, objective, fn)


def _this_call(study, args: argparse.Namespace) -> int | None:  # type: ignore[no-untyped-def]
    """Trials for this call: --n-trials, or for a worker what the study total leaves (0: none)."""
    total = getattr(args, "total_trials", None)
    if total is None:
        return args.n_trials
    return max(0, total - len(study.trials))


def _total_callbacks(args: argparse.Namespace) -> list:  # type: ignore[type-arg]
    """A worker stops starting trials once the study holds its total (other workers' included)."""
    total = getattr(args, "total_trials", None)
    if total is None:
        return []
    return [lambda study, record: study.stop() if len(study.trials) >= total else None]


def _run_study(args: argparse.Namespace, study, objective, fn) -> None:  # type: ignore[no-untyped-def]
    from contextlib import ExitStack

    ran: list[int] = []  # trials this process finished (other workers' are not counted)
    with ExitStack() as services:
        for service in objective.services:
            services.enter_context(service)
        if getattr(args, "max_spend", None) is not None:  # before any trial: preview, refuse if it may cost more
            from llmopt.cli.plan import check_max_spend

            check_max_spend(args, study, fn, _this_call(study, args))
        study.optimize(fn, n_trials=_this_call(study, args), timeout=args.timeout,
                       callbacks=[lambda s, record: ran.append(record.number), *_total_callbacks(args)])
    print(f"study {study.name!r} in {redact(study.storage.url)}: ran {len(ran)} trials this call", file=sys.stderr)
    status = study.status
    if status.get("state") == "budget_exhausted":
        print(f"budget exhausted: spent ${status['spent']:.4f} of ${status['budget']:.4f}; "
              "resume with a higher --budget to continue", file=sys.stderr)
    elif status.get("state") == "space_exhausted":
        print(f"search done: {status['message']}; nothing is left to run", file=sys.stderr)
    print_front(study, args.format)
