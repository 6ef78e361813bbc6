"""`llmopt report`: the front as a table, markdown, JSON or CSV, or the HTML report."""

from __future__ import annotations

import argparse
import contextlib
import io
from pathlib import Path

from llmopt.cli.common import add_common, file_safe, reading
from llmopt.cli.front import print_front
from llmopt.report import FORMATS


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    report = sub.add_parser("report", help="print a study's Pareto front")
    report.add_argument("study")
    report.add_argument("--format", choices=(*FORMATS, "html"), default="table",
                        help="html: one self-contained page with plots (opens offline); -o names the file")
    report.add_argument("-o", "--output", default=None, help="write to this file (html default: STUDY.html)")
    report.add_argument("--sort", metavar="OBJECTIVE", default=None, help="order the front best first on this objective")
    report.add_argument("--all-variables", action="store_true",
                        help="table/markdown: also the variables every front member sets alike")
    report.add_argument("--where", action="append", default=[], metavar="LIMIT",
                        help="what to deploy: only trials meeting LIMIT, e.g. 'cost <= 0.002' (repeatable); "
                             "names the best and the members tied with it")

    add_common(report)


def run(args: argparse.Namespace) -> None:
    from llmopt.study import load_study

    with load_study(args.study, reading(args)) as study:
        if args.format == "html":
            path = study.write_report(args.output or f"{file_safe(study.name)}.html")
            print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB): open it in a browser; it needs no network")
            return
        if args.output is None:
            print_front(study, args.format, args.sort, args.all_variables, args.where)
            return
        buffer = io.StringIO()
        with contextlib.redirect_stdout(buffer):
            print_front(study, args.format, args.sort, args.all_variables, args.where)
        Path(args.output).write_text(buffer.getvalue(), encoding="utf-8")
        print(f"wrote {args.output}")
