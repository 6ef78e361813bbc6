"""The HTML report's plots, as plotly figures (the library Optuna and optuna-dashboard users
know; it draws interactive plots from one script embedded in the page, so it opens offline).

Each function takes a StudyData and returns a figure, or None when there is nothing to draw.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from llmopt.evaluation.intervals import Interval
from llmopt.pareto import non_dominated_mask, to_minimization
from llmopt.report.curves import hypervolume_curves
from llmopt.report.data import StudyData
from llmopt.report.importance import importances, is_numeric, ranked
from llmopt.trial import TrialRecord, TrialState

FRONT, FAINT, GREY, PRUNED = "#d62728", "#1f77b4", "#9e9e9e", "#ff7f0e"
_LAYOUT: dict[str, Any] = {"template": "plotly_white", "margin": {"l": 60, "r": 20, "t": 50, "b": 50}, "hovermode": "closest"}


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    text = str(value)
    return text if len(text) <= 60 else text[:57] + "..."


def hover_text(data: StudyData, record: TrialRecord, intervals: dict[str, Interval], note: str = "") -> str:
    """Trial number and state, each objective with its interval, then the configuration."""
    lines = [f"<b>trial {record.number}</b> ({record.state.value}{note})"]
    for name in data.names:
        value = (record.values or {}).get(name)
        band = intervals.get(name)
        shown = "-" if value is None else _fmt(value)
        lines.append(f"{html.escape(name)} {shown}" + (f" [{_fmt(band[0])}, {_fmt(band[1])}]" if band else ""))
    for path, value in (record.params or {}).items():
        lines.append(html.escape(f"{path}={_fmt(value)}"))
    return "<br>".join(lines)


def _log_scale(values: Sequence[float]) -> bool:
    """A log axis when every value is positive and they span 20x or more (costs often span 100x)."""
    positive = [v for v in values if v > 0]
    return len(positive) == len(values) and len(values) > 1 and max(positive) / min(positive) >= 20


def _errors(records: Sequence[TrialRecord], bands: Sequence[dict[str, Interval]], name: str) -> dict[str, Any]:
    plus, minus = [], []
    for r, band in zip(records, bands):
        value = (r.values or {})[name]
        low, high = band.get(name, (value, value))
        plus.append(max(0.0, high - value))
        minus.append(max(0.0, value - low))
    return {"type": "data", "symmetric": False, "array": plus, "arrayminus": minus, "thickness": 1, "width": 0}


def pareto_figure(data: StudyData) -> go.Figure | None:
    """The first objective against the second (the third, if any, as colour); every trial
    drawn: the front joined and highlighted, other COMPLETE trials faint, PRUNED trials hollow
    at their partial estimate, constraint-breaking ones grey, FAILED ones counted in the legend."""
    if len(data.objectives) < 2:
        return _single_objective_figure(data)
    y_name, x_name = data.names[0], data.names[1]
    colour = data.names[2] if len(data.names) > 2 else None
    front_ids = set(data.front)
    complete = data.scored(TrialState.COMPLETE)
    groups: list[tuple[str, list[TrialRecord], dict[str, Any]]] = [
        ("other complete", [t for t in complete if t.feasible and t.number not in front_ids],
         {"marker": {"color": FAINT, "opacity": 0.45, "size": 7}}),
        ("breaks a constraint", [t for t in complete if not t.feasible],
         {"marker": {"color": GREY, "opacity": 0.6, "size": 7, "symbol": "x"}}),
        ("pruned (partial estimate)", data.scored(TrialState.PRUNED),
         {"marker": {"color": PRUNED, "size": 8, "symbol": "circle-open", "line": {"width": 1.5}}}),
    ]
    fig = go.Figure()
    all_x: list[float] = []
    for label, records, style in groups:
        if not records:
            continue
        bands = [data.intervals(r) for r in records]
        xs = [r.values[x_name] for r in records]  # type: ignore[index]
        all_x += xs
        marker = dict(style["marker"])
        if colour and label == "other complete":
            marker.update(color=[r.values[colour] for r in records], coloraxis="coloraxis")  # type: ignore[index]
        trace: dict[str, Any] = {
            "x": xs, "y": [r.values[y_name] for r in records], "mode": "markers", "marker": marker,  # type: ignore[index]
            "name": f"{label} ({len(records)})", "hovertext": [hover_text(data, r, b) for r, b in zip(records, bands)],
            "hoverinfo": "text",
        }
        if label == "pruned (partial estimate)":
            trace.update(error_x=_errors(records, bands, x_name) | {"color": PRUNED},
                         error_y=_errors(records, bands, y_name) | {"color": PRUNED})
        fig.add_trace(go.Scatter(**trace))
    front = sorted(data.front_records(), key=lambda r: r.values[x_name])  # type: ignore[index]
    if front:
        bands = [data.intervals(r) for r in front]
        xs = [r.values[x_name] for r in front]  # type: ignore[index]
        all_x += xs
        marker: dict[str, Any] = {"color": FRONT, "size": 11, "line": {"color": "black", "width": 1}}
        if colour:
            marker.update(color=[r.values[colour] for r in front], coloraxis="coloraxis")  # type: ignore[index]
        fig.add_trace(go.Scatter(
            x=xs, y=[r.values[y_name] for r in front], mode="markers", name=f"Pareto front ({len(front)})",  # type: ignore[index]
            marker=marker, error_x=_errors(front, bands, x_name) | {"color": FRONT},
            error_y=_errors(front, bands, y_name) | {"color": FRONT},
            hovertext=[hover_text(data, r, b, ", on the front") for r, b in zip(front, bands)], hoverinfo="text"))
        fig.add_trace(_staircase(data, front, x_name, y_name))
    failed = sum(t.state == TrialState.FAILED for t in data.trials)
    fig.add_trace(go.Scatter(x=[None], y=[None], mode="markers", name=f"failed: {failed} (no values)",
                             marker={"color": "black", "symbol": "x-thin-open"}, hoverinfo="skip"))
    fig.update_layout(**_LAYOUT, title=f"{y_name} against {x_name}" + (f", colour: {colour}" if colour else ""),
                      xaxis_title=_axis_title(data, x_name), yaxis_title=_axis_title(data, y_name), height=520,
                      legend={"orientation": "h", "y": -0.18})
    if colour:
        fig.update_layout(coloraxis={"colorscale": "Viridis", "colorbar": {"title": {"text": colour}}})
    fig.update_xaxes(**_axis_format(x_name))
    fig.update_yaxes(**_axis_format(y_name))
    if _log_scale(all_x):
        fig.update_xaxes(type="log")
    return fig


def _staircase(data: StudyData, front: Sequence[TrialRecord], x_name: str, y_name: str) -> go.Scatter:
    """The front's members that are best on the two plotted objectives, joined as the staircase
    of what they attain (with three or more objectives the others are on the front for the
    objectives not drawn, so joining them would draw a zigzag)."""
    maximize = {o.name: o.maximize for o in data.objectives}
    points = to_minimization(np.array([[r.values[x_name], r.values[y_name]] for r in front], dtype=float),  # type: ignore[index]
                             [maximize[x_name], maximize[y_name]])
    keep = non_dominated_mask(points)
    members = sorted((r for r, k in zip(front, keep) if k), key=lambda r: r.values[x_name])  # type: ignore[index]
    shape = "vh" if maximize[x_name] else "hv"  # what a member attains extends toward worse x, whatever y's direction
    return go.Scatter(x=[r.values[x_name] for r in members], y=[r.values[y_name] for r in members], mode="lines",  # type: ignore[index]
                      line={"color": FRONT, "width": 2, "shape": shape}, name=f"best on {x_name} and {y_name}",
                      hoverinfo="skip", showlegend=len(data.objectives) > 2)


DOLLARS = ("cost", "total_cost")


def _axis_format(name: str) -> dict[str, Any]:
    """Plain numbers (plotly's default SI prefixes turn $0.00001 into "10µ"); dollars with a $."""
    return {"tickformat": ".2~g", "tickprefix": "$" if name in DOLLARS else ""}


def _axis_title(data: StudyData, name: str) -> str:
    objective = next(o for o in data.objectives if o.name == name)
    return f"{name} ({'higher' if objective.maximize else 'lower'} is better)"


def _single_objective_figure(data: StudyData) -> go.Figure | None:
    """One objective: its value per trial, the best so far as a line."""
    name = data.names[0]
    scored = data.scored(TrialState.COMPLETE, TrialState.PRUNED)
    if not scored:
        return None
    objective = data.objectives[0]
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=[t.number for t in scored], y=[t.values[name] for t in scored], mode="markers",  # type: ignore[index]
                             name="trials", marker={"color": FAINT}, hoverinfo="text",
                             hovertext=[hover_text(data, t, data.intervals(t)) for t in scored]))
    best, out = None, []
    for t in scored:
        if t.state == TrialState.COMPLETE and t.feasible:
            v = t.values[name]  # type: ignore[index]
            best = v if best is None else (max(best, v) if objective.maximize else min(best, v))
        out.append(best)
    fig.add_trace(go.Scatter(x=[t.number for t in scored], y=out, mode="lines", name="best so far", line={"color": FRONT}))
    fig.update_layout(**_LAYOUT, title=f"{name} by trial", xaxis_title="trial", yaxis_title=_axis_title(data, name), height=420)
    return fig


def scatter_matrix(data: StudyData) -> go.Figure | None:
    """Every pair of objectives (3 or more objectives), front members in red."""
    if len(data.objectives) < 3:
        return None
    records = [t for t in data.scored(TrialState.COMPLETE) if t.feasible]
    front = set(data.front)
    colours = [FRONT if t.number in front else FAINT for t in records]
    fig = go.Figure(go.Splom(
        dimensions=[{"label": n, "values": [t.values[n] for t in records]} for n in data.names],  # type: ignore[index]
        marker={"color": colours, "size": 5, "opacity": 0.7}, diagonal_visible=False, showupperhalf=False,
        hovertext=[hover_text(data, t, {}) for t in records], hoverinfo="text"))
    for axis in range(1, len(data.names) + 1):
        suffix = "" if axis == 1 else str(axis)
        fig.update_layout({f"xaxis{suffix}": _axis_format(data.names[axis - 1]), f"yaxis{suffix}": _axis_format(data.names[axis - 1])})
    fig.update_layout(**_LAYOUT, title="every pair of objectives (front in red)", height=160 * len(data.names) + 120)
    return fig


def hypervolume_figure(data: StudyData) -> go.Figure | None:
    """Hypervolume against trials, and against dollars spent when the study made LLM calls."""
    curves = hypervolume_curves(data)
    if not curves.trial:
        return None
    paid = bool(curves.dollars) and curves.dollars[-1] > 0
    fig = make_subplots(rows=1, cols=2 if paid else 1, subplot_titles=["against trials", "against dollars spent"][: 2 if paid else 1])
    fig.add_trace(go.Scatter(x=curves.trial, y=curves.hypervolume, mode="lines", line={"shape": "hv", "color": FRONT},
                             name="hypervolume", hovertemplate="trial %{x}<br>hypervolume %{y:.4g}<extra></extra>"), row=1, col=1)
    fig.update_xaxes(title_text="trial", row=1, col=1)
    if paid:
        fig.add_trace(go.Scatter(x=curves.dollars, y=curves.hypervolume, mode="lines", line={"shape": "hv", "color": FAINT},
                                 name="hypervolume per dollar", customdata=curves.trial,
                                 hovertemplate="$%{x:.4g} spent (through trial %{customdata})<br>hypervolume %{y:.4g}<extra></extra>"),
                      row=1, col=2)
        fig.update_xaxes(title_text="dollars spent (pruned, failed and retried calls included; cache hits free)", row=1, col=2)
    fig.update_yaxes(title_text="hypervolume", tickformat=".3~g")
    if paid:
        fig.update_xaxes(tickformat=".2~g", tickprefix="$", row=1, col=2)
    fig.update_layout(**_LAYOUT, title="hypervolume of the front found so far", height=380, showlegend=False)
    return fig


def importance_figure(data: StudyData) -> go.Figure | None:
    """Each variable's share of importance, per objective and for reaching the front."""
    records = [t for t in data.scored(TrialState.COMPLETE) if t.feasible]
    shares = importances(records, data.leaves, data.objectives)
    if not shares:
        return None
    key = "front" if "front" in shares else data.names[0]
    order = [path for path, _ in ranked(shares[key])][::-1]  # most important on top
    fig = go.Figure()
    for target, values in shares.items():
        fig.add_trace(go.Bar(y=order, x=[values[p] for p in order], orientation="h", name=target,
                             hovertemplate="%{y}: %{x:.0%} of " + html.escape(target) + "<extra></extra>"))
    fig.update_layout(**_LAYOUT, barmode="group", title=f"which settings matter (PED-ANOVA on {len(records)} complete trials)",
                      xaxis={"title": "share of importance", "tickformat": ".0%"}, height=max(300, 60 + 28 * len(order) * len(shares)))
    return fig


def effects_figure(data: StudyData) -> go.Figure | None:
    """Each objective against each variable's values, over the trials where it was active; a
    menu picks the objective."""
    records = [t for t in data.scored(TrialState.COMPLETE) if t.feasible]
    leaves = [leaf for leaf in data.leaves if len({repr((t.params or {}).get(leaf.path)) for t in records}) > 1]
    if len(records) < 2 or not leaves:
        return None
    cols = min(3, len(leaves))
    rows = math.ceil(len(leaves) / cols)
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=[leaf.path for leaf in leaves],
                        vertical_spacing=min(0.3 / rows + 0.05, 0.15))
    per_objective = []
    for k, name in enumerate(data.names):
        indices = []
        for i, leaf in enumerate(leaves):
            row, col = i // cols + 1, i % cols + 1
            active = [t for t in records if leaf.path in (t.params or {})]
            xs = [t.params[leaf.path] for t in active]  # type: ignore[index]
            ys = [t.values[name] for t in active]  # type: ignore[index]
            common = {"y": ys, "name": name, "showlegend": False, "visible": k == 0,
                      "hovertext": [f"trial {t.number}: {html.escape(name)} {_fmt(y)}" for t, y in zip(active, ys)],
                      "hoverinfo": "text"}
            if is_numeric(leaf):
                trace = go.Scatter(x=xs, mode="markers", marker={"color": FAINT, "size": 6, "opacity": 0.6}, **common)
            else:
                trace = go.Box(x=[str(x) for x in xs], boxpoints="all", jitter=0.4, pointpos=0, marker={"color": FAINT, "size": 4},
                               line={"width": 1}, **common)
            fig.add_trace(trace, row=row, col=col)
            indices.append(len(fig.data) - 1)
            if is_numeric(leaf) and getattr(leaf.var, "log", False):
                fig.update_xaxes(type="log", row=row, col=col)
        per_objective.append(indices)
    buttons = []
    for k, name in enumerate(data.names):
        visible = [False] * len(fig.data)
        for i in per_objective[k]:
            visible[i] = True
        buttons.append({"label": name, "method": "update", "args": [{"visible": visible}, {"title": f"{name} against each variable"}]})
    fig.update_layout(**_LAYOUT, title=f"{data.names[0]} against each variable", height=260 * rows + 80,
                      updatemenus=[{"buttons": buttons, "direction": "down", "x": 1.0, "xanchor": "right", "y": 1.08, "yanchor": "bottom"}])
    return fig

