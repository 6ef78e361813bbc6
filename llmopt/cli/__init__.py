"""The `llmopt` command: optimize, plan, resume, worker, studies, trials, report, show, compare, export, delete, upgrade. The only package that prints.

One module per command (group); each registers its arguments and runs it.
"""

from __future__ import annotations

import argparse
import sys
import traceback
from collections.abc import Sequence

from llmopt.cli import compare, export, optimize, plan, report, resume, show, studies
from llmopt.cli.common import STORAGE_HELP
from llmopt.errors import LLMOptError
from llmopt.redaction import redact


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="llmopt", description="Find the best settings of an LLM program.")
    parser.add_argument("--storage", default=None, help=STORAGE_HELP)
    parser.add_argument("--debug", action="store_true", help="show the full traceback of an error")
    sub = parser.add_subparsers(dest="command", required=True)
    optimize.register(sub)
    plan.register(sub)
    studies.register(sub)
    report.register(sub)
    show.register(sub)
    compare.register(sub)
    resume.register(sub)
    export.register(sub)
    return parser


COMMANDS = {"optimize": optimize.run, "plan": plan.run, "studies": studies.studies, "trials": studies.trials, "report": report.run,
            "delete": studies.delete, "upgrade": studies.upgrade, "export": export.run,
            "show": show.run, "compare": compare.run,
            "resume": resume.resume, "worker": resume.worker}


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

