"""The `llmopt` command: optimize, studies, trials, report, delete. The only module that prints."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from llmopt.errors import LLMOptError
from llmopt.report import FORMATS, render, trial_rows

STORAGE_HELP = "storage URL or SQLite path (default: sqlite:///llmopt.db, or $LLMOPT_STORAGE)"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="llmopt", description="Find the best settings of an LLM program.")
    parser.add_argument("--storage", default=None, help=STORAGE_HELP)
    sub = parser.add_subparsers(dest="command", required=True)

    opt = sub.add_parser("optimize", help="run (or resume) a study and print its Pareto front")
    opt.add_argument("--space", required=True, help="Python file defining SPACE")
    opt.add_argument("--objective", required=True, help="Python file defining OBJECTIVES and evaluate(trial)")
    opt.add_argument("--study", default="quickstart", help="study name; an existing study is resumed")
    opt.add_argument("--n-trials", type=int, default=None, help="trials to run in this call")
    opt.add_argument("--timeout", type=float, default=None, help="stop starting trials after this many seconds")
    opt.add_argument("--sampler", choices=["random", "grid"], default="random")
    opt.add_argument("--seed", type=int, default=None)
    opt.add_argument("--format", choices=FORMATS, default="table")
    opt.add_argument("--quiet", action="store_true", help="no per-trial log lines")

    sub.add_parser("studies", help="list the studies in the storage")

    trials = sub.add_parser("trials", help="list a study's trials")
    trials.add_argument("study")
    trials.add_argument("--state", action="append", choices=["WAITING", "RUNNING", "COMPLETE", "PRUNED", "FAILED"])
    trials.add_argument("--format", choices=FORMATS, default="table")

    report = sub.add_parser("report", help="print a study's Pareto front")
    report.add_argument("study")
    report.add_argument("--format", choices=FORMATS, default="table")

    delete = sub.add_parser("delete", help="delete a study and its trials")
    delete.add_argument("study")
    for p in (opt, trials, report, delete, sub.choices["studies"]):
        p.add_argument("--storage", default=argparse.SUPPRESS, help=STORAGE_HELP)
    return parser


def _optimize(args: argparse.Namespace) -> None:
    from llmopt.loading import load_objective, load_space
    from llmopt.samplers import GridSampler, RandomSampler
    from llmopt.study import create_study

    if not args.quiet:
        logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    space = load_space(args.space)
    objective = load_objective(args.objective)
    sampler = GridSampler() if args.sampler == "grid" else RandomSampler()
    study = create_study(args.study, space, objective.objectives, args.storage, sampler, args.seed, load_if_exists=True)
    before = len(study.trials)
    study.optimize(objective.evaluate, n_trials=args.n_trials, timeout=args.timeout)
    print(f"study {study.name!r} in {study.storage.url}: ran {len(study.trials) - before} trials this call", file=sys.stderr)
    _print_front(study, args.format)


def _print_front(study, fmt: str) -> None:  # type: ignore[no-untyped-def]
    front = study.pareto_front()
    if fmt == "table":
        complete = len(study.get_trials(["COMPLETE"]))
        print(f"Pareto front of {study.name!r}: {len(front)} of {complete} complete trials; "
              f"hypervolume {study.hypervolume():.6g}")
        print("objectives: " + ", ".join(f"{o.name} ({o.direction})" for o in study.objectives))
    print(render(trial_rows(front, study.objectives, param_order=_paths(study)), fmt))


def _paths(study) -> list[str]:  # type: ignore[no-untyped-def]
    return [leaf.path for leaf in study.space.leaves]


def _studies(args: argparse.Namespace) -> None:
    from llmopt.storage import get_storage

    rows = []
    for s in get_storage(args.storage, create=False).list_studies():
        rows.append({
            "study": s.name,
            "objectives": ", ".join(f"{o.name}:{o.direction[:3]}" for o in s.objectives),
            "trials": sum(s.counts.values()),
            **{state.lower(): n for state, n in sorted(s.counts.items())},
            "created": s.created_at.strftime("%Y-%m-%d %H:%M") if s.created_at else "-",
        })
    print(render(rows, "table") if rows else "(no studies)")


def _trials(args: argparse.Namespace) -> None:
    from llmopt.study import load_study

    study = load_study(args.study, args.storage)
    records = study.get_trials(args.state) if args.state else study.trials
    print(render(trial_rows(records, study.objectives, with_state=True, param_order=_paths(study)), args.format))


def _report(args: argparse.Namespace) -> None:
    from llmopt.study import load_study

    _print_front(load_study(args.study, args.storage), args.format)


def _delete(args: argparse.Namespace) -> None:
    from llmopt.study import delete_study

    delete_study(args.study, args.storage)
    print(f"deleted study {args.study!r}")


COMMANDS = {"optimize": _optimize, "studies": _studies, "trials": _trials, "report": _report, "delete": _delete}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; an LLMOptError prints one line naming the problem and the fix, exit code 1."""
    args = _parser().parse_args(argv)
    try:
        COMMANDS[args.command](args)
    except LLMOptError as exc:
        print(f"llmopt: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("llmopt: interrupted; the running trial was re-queued, rerun the same command to resume", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
