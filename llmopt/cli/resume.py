"""`llmopt resume STUDY` and `llmopt worker STUDY`: go on with a study from its name alone.

Both load the space and objective files `llmopt optimize` stored with the study (path and
SHA-256), and refuse a file that changed since unless `--force`. A worker joins a study that
other processes or machines run on the same storage (PostgreSQL); its `--n-trials` is the
study's total, shared by every worker: each stops starting trials once the study holds that
many (trials already in flight elsewhere still finish, so the total may be passed by them).
"""

from __future__ import annotations

import argparse

from llmopt.cli import sources
from llmopt.cli.common import add_common, reading
from llmopt.report import FORMATS


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    resume = sub.add_parser("resume", help="continue a study with the space and objective files it was started with")
    worker = sub.add_parser("worker", help="join a running study (another process or machine, same storage)")
    for p, trials_help in ((resume, "trials to run in this call"), (worker, "the study's total, shared by every worker")):
        p.add_argument("study")
        p.add_argument("--n-trials", type=int, default=None, help=trials_help)
        p.add_argument("--timeout", type=float, default=None, help="stop starting trials after this many seconds")
        p.add_argument("--space", default=None, help="the space file's path here, if not where the study stored it")
        p.add_argument("--objective", default=None, help="the objective file's path here, if not where the study stored it")
        p.add_argument("--force", action="store_true", help="go on although a file changed since the study started")
        p.add_argument("--format", choices=FORMATS, default="table")
        p.add_argument("--quiet", action="store_true", help="no per-trial log lines")
        add_common(p)


def resume(args: argparse.Namespace) -> None:
    _run(args, total=None)


def worker(args: argparse.Namespace) -> None:
    _run(args, total=args.n_trials)


def _run(args: argparse.Namespace, total: int | None) -> None:
    from llmopt.cli import optimize
    from llmopt.study import load_study
    from llmopt.study.arguments import check_n_trials

    check_n_trials(args.n_trials)
    with load_study(args.study, reading(args)) as study:
        files = sources.check(sources.stored(study), {"space": args.space, "objective": args.objective}, args.force)
    run = argparse.Namespace(
        storage=args.storage, space=files["space"], objective=files["objective"], study=args.study,
        n_trials=None if total is not None else args.n_trials, timeout=args.timeout, sampler=None, change_sampler=False,
        budget=None, concurrent_trials=None, seed=None, format=args.format, quiet=args.quiet, total_trials=total,
    )
    optimize.run(run)
