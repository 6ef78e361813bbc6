"""`llmopt export`: a study's trials, examples or LLM calls as CSV or JSONL, streamed.

Rows are read page by page (the storage's keyset readers) and written as they arrive, so a
study of any size exports in flat memory and no read transaction stays open meanwhile.

CSV needs its header before the first row. Trials: the objectives and the space's variable
paths are known up front. Examples: the `metric.<name>` columns are the metric names found in
the first page of examples (PAGE rows); a metric that first appears later is left out of
the CSV, with one warning on stderr naming it (JSONL keeps every metric: nothing is lost
there). Reading every row twice to find all names would double the export's cost, while
an evaluation scores every example with the same metrics.

Free text (errors, prune reasons, outputs) passes through `redact`: an output or a provider's
error may echo a key, and an export is a file that gets shared.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from itertools import chain, islice
from pathlib import Path
from typing import Any, TextIO

from llmopt.cli.common import add_common, paths, reading
from llmopt.errors import LLMOptError
from llmopt.redaction import redact
from llmopt.trial import CallRecord, ExampleResult, TrialRecord

WHAT = ("trials", "examples", "calls")
FORMATS = ("csv", "jsonl")
#: Rows per read; also the examples that decide the CSV's metric columns.
PAGE = 1000

Row = dict[str, Any]


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    export = sub.add_parser("export", help="write a study's trials, examples or calls as CSV or JSONL",
                            description="Stream a study's records as CSV (with a header) or JSONL (one object a line).")
    export.add_argument("study")
    # Checked in run(), not by argparse choices: a wrong value is the CLI's one-line error, exit 1.
    export.add_argument("--what", default="trials", metavar="{trials,examples,calls}",
                        help="trials: one row per trial; examples: every scored example; calls: every LLM call attempt "
                             "(default: trials)")
    export.add_argument("--format", default="csv", metavar="{csv,jsonl}",
                        help="csv (metric.<name> columns from the first examples) or jsonl (default: csv)")
    export.add_argument("-o", "--output", default=None, help="write to this file (written whole, then renamed) instead of stdout")
    add_common(export)


def run(args: argparse.Namespace) -> None:
    if args.what not in WHAT:
        raise LLMOptError(f"--what {args.what!r} is not something export writes", f"use one of {', '.join(WHAT)}")
    if args.format not in FORMATS:
        raise LLMOptError(f"--format {args.format!r} is not an export format", f"use one of {', '.join(FORMATS)}")
    storage = reading(args)
    try:
        columns, rows = _source(storage, args.study, args.what, args.format == "csv")
        with _destination(args.output) as out:
            count = (_write_csv if args.format == "csv" else _write_jsonl)(out, columns, rows)
    except BrokenPipeError:  # `llmopt export ... | head`: the reader has what it wanted
        _silence_stdout()
        return
    finally:
        storage.close()
    if args.output is not None:
        print(f"wrote {args.output} ({count:,} {args.what if count != 1 else args.what[:-1]})")


# -- what: records as rows ------------------------------------------------------------------------
def _source(storage: Any, name: str, what: str, flat: bool) -> tuple[list[str], Iterator[Row]]:
    """The columns (known before the first row is written) and the rows, lazily."""
    record = storage.get_study(name)  # StudyNotFoundError names the studies there are
    if what == "trials":
        from llmopt.study import load_study

        with load_study(name, storage) as study:
            order = paths(study)
        objectives = [o.name for o in record.objectives]
        rows = (_trial_row(t, objectives, order, flat) for t in storage.iter_trials(record.study_id, batch=PAGE))
        columns = ["trial", "state", *(f"value.{o}" for o in objectives), *(f"param.{p}" for p in order), *_TRIAL_TAIL]
        return (columns if flat else []), rows
    if what == "calls":
        return _CALL_COLUMNS, (_call_row(n, c) for n, c in storage.iter_calls(record.study_id, batch=PAGE))
    examples = storage.iter_examples(record.study_id, batch=PAGE)
    if not flat:
        return [], (_example_row(n, e, None) for n, e in examples)
    first = list(islice(examples, PAGE))
    metrics = list(dict.fromkeys(m for _, e in first for m in e.metrics))
    late = _LateMetrics(metrics)
    columns = [*_EXAMPLE_HEAD, *(f"metric.{m}" for m in metrics), *_EXAMPLE_TAIL]
    return columns, (_example_row(n, e, late) for n, e in chain(first, examples))


_TRIAL_TAIL = ["examples_scored", "examples_total", "constraint_violation", "attempts", "error", "prune_reason",
               "started_at", "finished_at", "duration"]
_EXAMPLE_HEAD = ["trial", "example_id"]
_EXAMPLE_TAIL = ["cost", "billed_cost", "latency", "prompt_tokens", "completion_tokens", "n_calls", "cache_hits", "error", "output"]
_CALL_COLUMNS = ["trial", "example_id", "model", "prompt_tokens", "completion_tokens", "cost", "billed_cost", "latency",
                 "cache_hit", "status", "error_class", "attempt", "maybe_billed", "error"]


def _trial_row(t: TrialRecord, objectives: list[str], order: list[str], flat: bool) -> Row:
    values, params = t.values or {}, t.params or {}
    row: Row = {"trial": t.number, "state": t.state.value}
    if flat:
        row.update({f"value.{o}": values.get(o) for o in objectives})
        row.update({f"param.{p}": params.get(p) for p in order})
    else:
        row["values"] = None if t.values is None else {o: values.get(o) for o in objectives}
        row["params"] = t.params
    reason = t.system_attrs.get("prune_reason")
    row.update(
        examples_scored=t.system_attrs.get("examples_scored"), examples_total=t.system_attrs.get("examples_total"),
        constraint_violation=t.constraint_violation, attempts=t.attempts, error=_text(t.error),
        prune_reason=_text(reason if isinstance(reason, str) else None),
        started_at=_time(t.started_at), finished_at=_time(t.finished_at), duration=t.duration,
    )
    return row


def _example_row(number: int, e: ExampleResult, late: _LateMetrics | None) -> Row:
    row: Row = {"trial": number, "example_id": e.example_id}
    if late is None:
        row["metrics"] = e.metrics
    else:
        late.check(e)
        row.update({f"metric.{m}": e.metrics.get(m) for m in late.known})
    row.update(cost=e.cost, billed_cost=e.billed_cost, latency=e.latency, prompt_tokens=e.prompt_tokens,
               completion_tokens=e.completion_tokens, n_calls=e.n_calls, cache_hits=e.cache_hits,
               error=_text(e.error), output=_text(e.output))
    return row


def _call_row(number: int, c: CallRecord) -> Row:
    return {"trial": number, "example_id": c.example_id, "model": c.model, "prompt_tokens": c.prompt_tokens,
            "completion_tokens": c.completion_tokens, "cost": c.cost, "billed_cost": c.billed_cost, "latency": c.latency,
            "cache_hit": c.cache_hit, "status": c.status, "error_class": c.error_class, "attempt": c.attempt,
            "maybe_billed": c.maybe_billed, "error": _text(c.error)}


class _LateMetrics:
    """The CSV's metric columns; warns once per metric name that appears after the header was written."""

    def __init__(self, known: list[str]) -> None:
        self.known = known
        self._seen = set(known)

    def check(self, e: ExampleResult) -> None:
        for name in e.metrics:
            if name not in self._seen:
                self._seen.add(name)
                print(f"llmopt: warning: metric {name!r} first appears at example {e.example_id!r}, after the first "
                      f"{PAGE} examples set the CSV columns: its values are left out (--format jsonl keeps every metric)",
                      file=sys.stderr)


def _text(value: str | None) -> str | None:
    return None if value is None else redact(value)


def _time(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


# -- how: CSV or JSONL, to stdout or a file -----------------------------------------------------------
def _write_csv(out: TextIO, columns: list[str], rows: Iterable[Row]) -> int:
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    return _each(rows, writer.writerow)


def _write_jsonl(out: TextIO, columns: list[str], rows: Iterable[Row]) -> int:
    def write(row: Row) -> None:
        try:
            text = json.dumps(row, allow_nan=False, default=str)
        except ValueError:  # strict JSON: inf/NaN as strings, as `llmopt report --format json` writes them
            text = json.dumps(_json_safe(row), allow_nan=False, default=str)
        out.write(text + "\n")
    return _each(rows, write)


def _each(rows: Iterable[Row], write: Callable[[Row], Any]) -> int:
    count = 0
    for row in rows:
        write(row)
        count += 1
    return count


def _json_safe(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    return value


@contextmanager
def _destination(output: str | None) -> Iterator[TextIO]:
    """stdout, or FILE written as FILE.partial and renamed once complete: a failed or
    interrupted export never leaves a truncated FILE that looks whole."""
    if output is None:
        yield sys.stdout
        sys.stdout.flush()
        return
    path = Path(output)
    partial = path.with_name(path.name + ".partial")
    try:
        with open(partial, "w", encoding="utf-8", newline="") as out:
            yield out
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def _silence_stdout() -> None:
    """After a closed pipe, point stdout at /dev/null so the interpreter's final flush stays quiet."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # not a real file descriptor (e.g. captured in tests)
        pass
