"""`llmopt studies`, `trials`, `delete` and `upgrade`: listing and housekeeping."""

from __future__ import annotations

import argparse

from llmopt.cli.common import add_common, paths, reading
from llmopt.report import FORMATS, render, trial_rows


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    listing = sub.add_parser("studies", help="list the studies in the storage")

    trial_list = sub.add_parser("trials", help="list a study's trials")
    trial_list.add_argument("study")
    trial_list.add_argument("--state", action="append", choices=["WAITING", "RUNNING", "COMPLETE", "PRUNED", "FAILED"])
    trial_list.add_argument("--format", choices=FORMATS, default="table")

    removal = sub.add_parser("delete", help="delete a study and its trials")
    removal.add_argument("study")
    upgrading = sub.add_parser("upgrade", help="upgrade a database written by an older llmopt to this schema")
    for p in (listing, trial_list, removal, upgrading):
        add_common(p)


def studies(args: argparse.Namespace) -> None:
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


def trials(args: argparse.Namespace) -> None:
    from llmopt.study import load_study

    with load_study(args.study, reading(args)) as study:
        records = study.get_trials(args.state) if args.state else study.trials
        print(render(trial_rows(records, study.objectives, with_state=True, param_order=paths(study)), args.format))


def delete(args: argparse.Namespace) -> None:
    from llmopt.study import delete_study

    delete_study(args.study, args.storage)
    print(f"deleted study {args.study!r}")


def upgrade(args: argparse.Namespace) -> None:
    from llmopt.storage import get_storage
    from llmopt.storage.sql.tables import SCHEMA_VERSION

    storage = get_storage(args.storage, create=False)  # a writing open migrates an older schema
    storage.close()
    print(f"{storage.url}: schema v{SCHEMA_VERSION}")
