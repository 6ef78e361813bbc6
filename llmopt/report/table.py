"""Rows for reports (the Pareto front, trial lists) and their renderers: aligned table, JSON, CSV."""

from __future__ import annotations

import csv
import io
import json
import math
import re
from collections.abc import Sequence
from typing import Any

from llmopt.errors import LLMOptError
from llmopt.trial import Objective, TrialRecord

FORMATS = ("table", "markdown", "json", "csv")


def trial_rows(
    records: Sequence[TrialRecord],
    objectives: Sequence[Objective],
    with_state: bool = False,
    param_order: Sequence[str] = (),
) -> list[dict[str, Any]]:
    """One flat dict per trial: number, [state], objective values, then the configuration.

    `param_order` (the space's paths) fixes the column order whatever each trial activated.
    """
    rank = {path: i for i, path in enumerate(param_order)}
    rows = []
    for r in records:
        row: dict[str, Any] = {"trial": r.number}
        if with_state:
            row["state"] = r.state.value
        for o in objectives:
            row[o.name] = None if not r.values else r.values.get(o.name)
        params = r.params or {}
        for path in param_order:
            row[path] = params.get(path)
        row.update({k: v for k, v in params.items() if k not in rank})
        if with_state:
            scored, total = r.system_attrs.get("examples_scored"), r.system_attrs.get("examples_total")
            if scored is not None:
                row["examples"] = f"{scored}/{total}"
            calls = r.system_attrs.get("calls")
            if isinstance(calls, dict):  # evaluation trials: failed attempts (429s, timeouts...) at a glance
                row["retries"] = calls.get("retries", 0)
                row["failures"] = calls.get("failures", 0)
            if not r.feasible:
                row["violation"] = r.constraint_violation
            note = r.error or r.system_attrs.get("prune_reason")
            if note:
                row["note"] = note.splitlines()[0][:120]
        rows.append(row)
    return rows


def split_constant(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Rows without the `columns` whose value is the same in every row, and those values.

    A front often agrees on most settings: showing only what differs keeps it readable.
    """
    if len(rows) < 2:
        return list(rows), {}
    same = {c: rows[0].get(c) for c in columns if all(r.get(c) == rows[0].get(c) for r in rows)}
    return [{k: v for k, v in r.items() if k not in same} for r in rows], same


def sort_rows(rows: Sequence[dict[str, Any]], objective: Objective) -> list[dict[str, Any]]:
    """Best first on `objective` (its direction applied); rows without a value last."""
    def key(row: dict[str, Any]) -> tuple[bool, float]:
        value = row.get(objective.name)
        if not isinstance(value, (int, float)) or math.isnan(value):
            return True, 0.0
        return False, -value if objective.maximize else value
    return sorted(rows, key=key)


def _columns(rows: Sequence[dict[str, Any]]) -> list[str]:
    cols: dict[str, None] = {}
    for row in rows:
        cols.update(dict.fromkeys(row))
    return list(cols)


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return f"{value:.6g}"
    return str(value)


def _json_safe(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return _cell(value).replace("nan", "NaN")
    return value


def render(rows: Sequence[dict[str, Any]], fmt: str, width: int | None = None) -> str:
    """Render rows as an aligned text table, a JSON list, or CSV with a header.

    `width` (a terminal's columns) fits a table to it: the widest text cells are cut with "…"
    down to MIN_CELL characters, then the columns that still do not fit continue below in
    blocks that each start with the first column (the trial number).
    """
    if fmt == "json":  # strict JSON: inf/NaN (from databases older than the finite-value check) as strings
        return json.dumps([{k: _json_safe(v) for k, v in row.items()} for row in rows], indent=2, default=str)
    cols = _columns(rows)
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=cols, lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({c: row.get(c, "") for c in cols})
        return buf.getvalue().rstrip("\n")
    if fmt not in ("table", "markdown"):
        raise LLMOptError(f"unknown report format {fmt!r}", f"use one of {FORMATS}")
    if not rows:
        return "(no trials)"
    cells = [[_cell(row.get(c)) for c in cols] for row in rows]
    if fmt == "markdown":  # a GitHub table to paste into a PR or an issue
        def line(values: Sequence[str]) -> str:
            return "| " + " | ".join(v.replace("|", "\\|") for v in values) + " |"
        return "\n".join([line(cols), line(["---"] * len(cols)), *(line(c) for c in cells)])
    widths = [max(len(c), *(len(line[i]) for line in cells)) for i, c in enumerate(cols)]
    if width is not None:
        numeric = [all(_NUMBER.match(line[i]) for line in cells) for i in range(len(cols))]
        widths = _shrink(widths, [len(c) for c in cols], width, numeric)
        cells = [[_cut(v, w) for v, w in zip(line, widths)] for line in cells]
        cols = [_cut(c, w) for c, w in zip(cols, widths)]
    blocks = _blocks(widths, width) if width is not None else [list(range(len(cols)))]
    out = []
    for block in blocks:
        head = "  ".join(cols[i].ljust(widths[i]) for i in block).rstrip()
        rule = "  ".join("-" * widths[i] for i in block)
        body = ["  ".join(line[i].ljust(widths[i]) for i in block).rstrip() for line in cells]
        out.append("\n".join([head, rule, *body]))
    return "\n\n".join(out)


MIN_CELL = 12


_NUMBER = re.compile(r"^(-|[-+0-9.eE]+|inf|-inf|nan)( \[[^\]]*\])?$")  # a value, perhaps with its interval


def _shrink(widths: list[int], heads: list[int], limit: int, numeric: list[bool]) -> list[int]:
    """Narrow the widest text columns (never below MIN_CELL, nor below their header) until the
    row fits; numbers and intervals are never cut (a cut number is a wrong number)."""
    widths = list(widths)
    floor = [max(MIN_CELL, min(h, 20)) for h in heads]
    while sum(widths) + 2 * (len(widths) - 1) > limit:
        candidates = [i for i, w in enumerate(widths) if i > 0 and w > floor[i] and not numeric[i]]
        if not candidates:
            break
        widest = max(candidates, key=lambda i: widths[i])
        widths[widest] -= 1
    return widths


def _blocks(widths: list[int], limit: int) -> list[list[int]]:
    """Column indices per block: each block starts with column 0 and fits in `limit` where it can."""
    blocks: list[list[int]] = [[0]]
    used = widths[0]
    for i in range(1, len(widths)):
        if used + 2 + widths[i] > limit and len(blocks[-1]) > 1:
            blocks.append([0])
            used = widths[0]
        blocks[-1].append(i)
        used += 2 + widths[i]
    return blocks


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(1, width - 1)] + "…"
