"""The self-contained HTML report: one file, plotly's script embedded once, no network at all.

Sections: the study summary, the Pareto plot (and every pair of objectives when there are
three or more), the front as a sortable table with intervals, hypervolume against trials and
dollars, which settings matter, and each objective against each variable.
"""

from __future__ import annotations

import html
import math
from datetime import datetime, timezone
from typing import Any

import plotly.graph_objects as go
from plotly.offline import get_plotlyjs

from llmopt.report import figures
from llmopt.report.data import TABLE_MEASURES, StudyData, summary
from llmopt.report.importance import MIN_TRIALS
from llmopt.report.table import split_constant

_PLOT_CONFIG = {"displaylogo": False, "responsive": True, "toImageButtonOptions": {"format": "png", "scale": 2}}

_CSS = """
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0 auto; max-width: 1180px; padding: 16px 24px; color: #222; }
h1 { font-size: 22px; margin: 8px 0 2px; } h2 { font-size: 17px; margin: 28px 0 8px; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
.sub { color: #666; margin: 0 0 12px; } .note { color: #666; font-size: 13px; }
.cards { display: flex; flex-wrap: wrap; gap: 8px; } .card { border: 1px solid #ddd; border-radius: 6px; padding: 6px 10px; min-width: 120px; }
.card b { display: block; font-size: 12px; color: #666; font-weight: normal; } .card span { font-size: 16px; }
table.front { border-collapse: collapse; width: 100%; font-size: 13px; } .front th, .front td { border-bottom: 1px solid #eee; padding: 4px 8px; text-align: left; white-space: nowrap; }
.front th { cursor: pointer; background: #f6f6f6; position: sticky; top: 0; } .front th:hover { background: #e9e9e9; }
.front th.asc::after { content: " \\25B2"; } .front th.desc::after { content: " \\25BC"; }
.front td.num { text-align: right; font-variant-numeric: tabular-nums; } .ci { color: #888; font-size: 12px; }
.scroll { overflow-x: auto; }
"""

# Click a header to sort by it (numbers by value, text alphabetically); click again to reverse.
_SORT_JS = """
document.querySelectorAll("table.front").forEach(function (table) {
  table.querySelectorAll("th").forEach(function (th, col) {
    th.addEventListener("click", function () {
      var body = table.tBodies[0], rows = Array.from(body.rows), asc = !th.classList.contains("asc");
      table.querySelectorAll("th").forEach(function (h) { h.classList.remove("asc", "desc"); });
      th.classList.add(asc ? "asc" : "desc");
      rows.sort(function (a, b) {
        var x = a.cells[col].dataset.v, y = b.cells[col].dataset.v, nx = parseFloat(x), ny = parseFloat(y);
        var c = (!isNaN(nx) && !isNaN(ny)) ? nx - ny : String(x).localeCompare(String(y));
        return asc ? c : -c;
      });
      rows.forEach(function (r) { body.appendChild(r); });
    });
  });
});
"""


def build_html(data: StudyData) -> str:
    """The whole report as one HTML document."""
    parts = [f"<h1>llmopt study {_e(data.name)}</h1>",
             f"<p class='sub'>objectives: {_e(', '.join(f'{o.name} ({o.direction})' for o in data.objectives))}"
             f" &middot; generated {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC</p>",
             "<h2>Summary</h2>", _summary_html(data)]
    parts += ["<h2>Pareto front</h2>", _figure(figures.pareto_figure(data), "pareto", "no trial has values yet")]
    if (matrix := figures.scatter_matrix(data)) is not None:
        parts.append(_figure(matrix, "pairs", ""))
    parts += ["<h2>Front members</h2>", _front_table(data)]
    parts += ["<h2>Hypervolume</h2>", _figure(figures.hypervolume_figure(data), "hypervolume", "no finished trial yet")]
    parts += ["<h2>Which settings matter</h2>",
              "<p class='note'>A variable matters when the values it takes among the best 10% of trials (per objective), or among the "
              "front's first ranks, differ from the values it takes in all trials (Pearson divergence, as in PED-ANOVA); "
              "conditional variables are judged over the trials where they were active. Shares sum to 100% per target.</p>",
              _figure(figures.importance_figure(data), "importance", f"needs at least {MIN_TRIALS} complete trials")]
    parts += ["<h2>Each objective against each variable</h2>",
              _figure(figures.effects_figure(data), "effects", "needs at least two complete trials that differ")]
    body = "\n".join(parts)
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        f"<meta name='viewport' content='width=device-width, initial-scale=1'><title>llmopt: {_e(data.name)}</title>"
        f"<style>{_CSS}</style><script type='text/javascript'>{get_plotlyjs()}</script></head>\n"
        f"<body>\n{body}\n<script>{_SORT_JS}</script>\n</body></html>\n"
    )


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _figure(fig: go.Figure | None, div_id: str, empty: str) -> str:
    if fig is None:
        return f"<p class='note' id='{div_id}-empty'>{_e(empty)}</p>" if empty else ""
    return fig.to_html(full_html=False, include_plotlyjs=False, div_id=f"plot-{div_id}", config=_PLOT_CONFIG)


def _money(value: float | None) -> str:
    return "-" if value is None else f"${value:,.4f}" if value < 100 else f"${value:,.2f}"


def _summary_html(data: StudyData) -> str:
    s = summary(data)
    counts = s["trials"]
    cards: list[tuple[str, Any]] = [("trials", sum(counts.values()))] + [(state.lower(), n) for state, n in counts.items() if n]
    if any(data.examples.values()) or data.spend:  # an evaluation study: examples, calls and dollars
        cards += [("examples scored", f"{s['examples_scored']:,}"), ("skipped by pruning", f"{s['examples_skipped']:,}"),
                  ("calls sent", f"{s['calls_sent']:,}"), ("served by the cache", f"{s['cache_hits']:,}"),
                  ("spent", _money(s["spent"]) + (f" of {_money(s['budget'])}" if s["budget"] is not None else "")),
                  ("pruner", s["pruner"])]
    cards += [("wall time", _duration(s["wall_seconds"])), ("seed", s["seed"]), ("sampler", s["sampler"]), ("state", s["state"])]
    html_cards = "".join(f"<div class='card'><b>{_e(k)}</b><span>{_e(v)}</span></div>" for k, v in cards)
    extra = f"<p class='note'>outcome constraints: {_e('; '.join(s['constraints']))}</p>" if s["constraints"] else ""
    return f"<div class='cards' id='summary'>{html_cards}</div>{extra}"


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 120:
        return f"{seconds:.1f} s"
    return f"{seconds / 60:.1f} min" if seconds < 7200 else f"{seconds / 3600:.1f} h"


def _front_table(data: StudyData) -> str:
    """The front, one row per member: the variables that differ across it, then each measure
    with its 95% interval, examples scored and state. Click a header to sort."""
    front = data.front_records()
    if not front:
        return "<p class='note'>no complete trial yet</p>"
    paths = [leaf.path for leaf in data.leaves]
    rows = [{p: (t.params or {}).get(p) for p in paths if p in (t.params or {})} for t in front]
    rows, same = split_constant(rows, [p for p in paths if any(p in r for r in rows)])
    variables = [p for p in paths if any(p in r for r in rows)]
    measured = [m for m in dict.fromkeys([*data.names, *TABLE_MEASURES]) if any(m in data.measures(t) for t in front)]
    head = ["trial", *variables, *measured, "examples", "state"]
    lines = []
    for t, row in zip(front, rows):
        values, bands = data.measures(t), data.intervals(t)
        cells = [_cell(t.number, str(t.number))]
        cells += [_cell(row.get(p), "-" if p not in row else _shown(row[p]), numeric=isinstance(row.get(p), (int, float)))
                  for p in variables]
        for m in measured:
            value = values.get(m)
            band = bands.get(m)
            shown = "-" if value is None else f"{value:.4g}"
            if band:
                shown += f" <span class='ci'>[{band[0]:.3g}, {band[1]:.3g}]</span>"
            cells.append(_cell(value, shown, raw_html=True))
        scored, total = t.system_attrs.get("examples_scored"), t.system_attrs.get("examples_total")
        cells.append(_cell(scored, "-" if scored is None else f"{scored}/{total}"))
        cells.append(_cell(t.state.value, t.state.value, numeric=False))
        lines.append("<tr>" + "".join(cells) + "</tr>")
    note = ""
    if same:
        note = "<p class='note'>same on the whole front: " + _e(", ".join(f"{k}={_shown(v)}" for k, v in same.items())) + "</p>"
    header = "".join(f"<th>{_e(h)}</th>" for h in head)
    return (f"{note}<p class='note'>95% intervals from the per-example results (Wilson for 0/1 scores, t for means, "
            f"order statistics for quantiles). Click a header to sort.</p><div class='scroll'><table class='front' id='front-table'>"
            f"<thead><tr>{header}</tr></thead><tbody>{''.join(lines)}</tbody></table></div>")


def _shown(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _cell(sort_value: Any, shown: str, numeric: bool = True, raw_html: bool = False) -> str:
    if isinstance(sort_value, float) and not math.isfinite(sort_value):
        sort_value = ""
    key = "" if sort_value is None else str(sort_value)
    css = " class='num'" if numeric else ""
    return f"<td{css} data-v='{_e(key)}'>{shown if raw_html else _e(shown)}</td>"

