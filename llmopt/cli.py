"""The `llmopt` command: optimize, studies, trials, report, delete. The only module that prints."""

from __future__ import annotations

import argparse
import logging
import sys
import traceback
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from llmopt.errors import LLMOptError
from llmopt.redaction import redact
from llmopt.report import FORMATS, render, sort_rows, split_constant, trial_rows

STORAGE_HELP = "storage URL or SQLite path (default: sqlite:///llmopt.db, or $LLMOPT_STORAGE)"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="llmopt", description="Find the best settings of an LLM program.")
    parser.add_argument("--storage", default=None, help=STORAGE_HELP)
    parser.add_argument("--debug", action="store_true", help="show the full traceback of an error")
    sub = parser.add_subparsers(dest="command", required=True)

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
    report.add_argument("--format", choices=(*FORMATS, "html"), default="table",
                        help="html: one self-contained page with plots (opens offline); -o names the file")
    report.add_argument("-o", "--output", default=None, help="write to this file (html default: STUDY.html)")
    report.add_argument("--sort", metavar="OBJECTIVE", default=None, help="order the front best first on this objective")
    report.add_argument("--all-variables", action="store_true",
                        help="table/markdown: also the variables every front member sets alike")

    delete = sub.add_parser("delete", help="delete a study and its trials")
    delete.add_argument("study")
    upgrade = sub.add_parser("upgrade", help="upgrade a database written by an older llmopt to this schema")
    for p in (opt, trials, report, delete, upgrade, sub.choices["studies"]):
        p.add_argument("--storage", default=argparse.SUPPRESS, help=STORAGE_HELP)
        p.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help="show the full traceback of an error")
    return parser


def _optimize(args: argparse.Namespace) -> None:
    from llmopt.study.arguments import check_n_trials, check_seed, check_timeout

    check_n_trials(args.n_trials), check_timeout(args.timeout), check_seed(args.seed)  # before opening anything
    with _trial_log(enabled=not args.quiet):
        _run_optimize(args)


@contextmanager
def _trial_log(enabled: bool) -> Iterator[None]:
    """Per-trial log lines on stderr while one command runs (removed after: main() may run again in-process)."""
    if not enabled:
        yield
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    handler.addFilter(_redacting)
    logger = logging.getLogger("llmopt")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


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
    with study:
        _run_study(args, study, objective, fn)


def _run_study(args: argparse.Namespace, study, objective, fn) -> None:  # type: ignore[no-untyped-def]
    from contextlib import ExitStack

    before = len(study.trials)
    with ExitStack() as services:
        for service in objective.services:
            services.enter_context(service)
        study.optimize(fn, n_trials=args.n_trials, timeout=args.timeout)
    print(f"study {study.name!r} in {study.storage.url}: ran {len(study.trials) - before} trials this call", file=sys.stderr)
    status = study.status
    if status.get("state") == "budget_exhausted":
        print(f"budget exhausted: spent ${status['spent']:.4f} of ${status['budget']:.4f}; "
              "resume with a higher --budget to continue", file=sys.stderr)
    elif status.get("state") == "space_exhausted":
        print(f"search done: {status['message']}; nothing is left to run", file=sys.stderr)
    _print_front(study, args.format)


def _redacting(record: logging.LogRecord) -> bool:
    """Log lines pass through redact(): no key reaches the terminal or a captured log."""
    record.msg, record.args = redact(record.getMessage()), None
    return True


def _print_front(study, fmt: str, sort: str | None = None, all_variables: bool = True) -> None:  # type: ignore[no-untyped-def]
    """The front: a heading and a table for people (only the variables that differ, unless
    `all_variables`), every column for json/csv."""
    objectives = {o.name: o for o in study.objectives}
    if sort is not None and sort not in objectives:
        raise LLMOptError(f"--sort {sort!r} is not an objective of study {study.name!r}", f"use one of {sorted(objectives)}")
    front = study.pareto_front()
    rows = trial_rows(front, study.objectives, param_order=_paths(study))
    if sort is not None:
        rows = sort_rows(rows, objectives[sort])
    same: dict[str, object] = {}
    if fmt in ("table", "markdown") and not all_variables:
        rows, same = split_constant(rows, [p for p in _paths(study) if any(p in r for r in rows)])
    if fmt in ("table", "markdown"):
        complete = len(study.get_trials(["COMPLETE"]))
        print(f"Pareto front of {study.name!r}: {len(front)} of {complete} complete trials; "
              f"hypervolume {study.hypervolume():.6g}")
        print("objectives: " + ", ".join(f"{o.name} ({o.direction})" for o in study.objectives))
        if same:
            print("same on the whole front: " + ", ".join(f"{k}={_shown(v)}" for k, v in same.items()))
    print(render(rows, fmt))


def _shown(value: object) -> str:
    return "-" if value is None else f"{value:.6g}" if isinstance(value, float) else str(value)


def _paths(study) -> list[str]:  # type: ignore[no-untyped-def]
    return [leaf.path for leaf in study.space.leaves]


def _studies(args: argparse.Namespace) -> None:
    from llmopt.storage import get_storage

    rows = []
    for s in get_storage(args.storage, readonly=True).list_studies():
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

    with load_study(args.study, _reading(args)) as study:
        records = study.get_trials(args.state) if args.state else study.trials
        print(render(trial_rows(records, study.objectives, with_state=True, param_order=_paths(study)), args.format))


def _report(args: argparse.Namespace) -> None:
    import contextlib
    import io
    from pathlib import Path

    from llmopt.study import load_study

    with load_study(args.study, _reading(args)) as study:
        if args.format == "html":
            path = study.write_report(args.output or f"{_file_safe(study.name)}.html")
            print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB): open it in a browser; it needs no network")
            return
        if args.output is None:
            _print_front(study, args.format, args.sort, args.all_variables)
            return
        buffer = io.StringIO()
        with contextlib.redirect_stdout(buffer):
            _print_front(study, args.format, args.sort, args.all_variables)
        Path(args.output).write_text(buffer.getvalue(), encoding="utf-8")
        print(f"wrote {args.output}")


def _file_safe(name: str) -> str:
    """A study name as a file name: letters, digits, '-', '_' and '.' kept, the rest '_'."""
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name) or "study"


def _reading(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    """The storage opened read-only: reading commands never change a file."""
    from llmopt.storage import get_storage

    return get_storage(args.storage, readonly=True)


def _delete(args: argparse.Namespace) -> None:
    from llmopt.study import delete_study

    delete_study(args.study, args.storage)
    print(f"deleted study {args.study!r}")


def _upgrade(args: argparse.Namespace) -> None:
    from llmopt.storage import get_storage
    from llmopt.storage.sql.tables import SCHEMA_VERSION

    storage = get_storage(args.storage, create=False)  # a writing open migrates an older schema
    storage.close()
    print(f"{storage.url}: schema v{SCHEMA_VERSION}")


COMMANDS = {"optimize": _optimize, "studies": _studies, "trials": _trials, "report": _report, "delete": _delete,
            "upgrade": _upgrade}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; an error prints one line naming the problem and the fix, exit code 1 (`--debug`: the traceback)."""
    args = _parser().parse_args(argv)
    debug = getattr(args, "debug", False)
    try:
        COMMANDS[args.command](args)
    except LLMOptError as exc:
        if debug:
            traceback.print_exc()
        print(f"llmopt: error: {redact(str(exc))}", file=sys.stderr)
        return 1
    except Exception as exc:  # a bug or an environment problem: still one line unless --debug
        if debug:
            traceback.print_exc()
        print(f"llmopt: error: unexpected {type(exc).__name__}: {redact(str(exc))[:500]} "
              "(run again with --debug for the traceback)", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("llmopt: interrupted; the running trial was re-queued, rerun the same command to resume", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
