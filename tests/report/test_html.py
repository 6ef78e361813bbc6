"""The HTML report's content, read from the file (the browser test draws it): one embedded
plotly, nothing fetched, user text escaped, the front and its intervals, curves that end at
the study's own numbers, and the CLI that writes it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import llmopt
from llmopt import ChoiceVar, FloatVar, RandomSampler, Space
from llmopt.cli import main
from llmopt.report.curves import hypervolume_curves
from llmopt.report.data import summary
from llmopt.study.report_data import report_data
from llmopt.trial import TrialState

HOSTILE = "<script>alert('x')</script>"


def test_evaluation_report_has_every_section_and_the_study_numbers(report_db: Path, tmp_path: Path) -> None:
    with llmopt.load_study("report-demo", storage=str(report_db)) as study:
        page = study.write_report(tmp_path / "r.html").read_text()
        front, trials, spent = study.pareto_front(), study.trials, study.storage.study_spent(study._record.study_id)
        data = report_data(study)
        hypervolume = study.hypervolume()
    assert page.count("plotly.js v") >= 1 and len(re.findall(r"<script[^>]+src=", page)) == 0  # embedded, never fetched
    assert not re.search(r"https?://[^\s'\"]*\.(js|css)\b", page.split("</head>", 1)[1])  # the body links no script or sheet
    for div in ("plot-pareto", "plot-pairs", "plot-hypervolume", "plot-importance", "plot-effects", "front-table", "summary"):
        assert f"id=\"{div}\"" in page or f"id='{div}'" in page, div
    rows = re.findall(r"<tr><td class='num' data-v='(\d+)'>", page)
    assert sorted(map(int, rows)) == sorted(t.number for t in front)
    assert page.count("<span class='ci'>[") >= len(front)  # every member's accuracy carries its interval

    s = summary(data)
    assert s["trials"]["FAILED"] == sum(t.state == TrialState.FAILED for t in trials) > 0
    assert s["trials"]["PRUNED"] > 0 and s["examples_skipped"] > 0
    assert s["spent"] == pytest.approx(spent) and s["cache_hits"] > 0
    curves = hypervolume_curves(data)
    assert curves.hypervolume == sorted(curves.hypervolume)  # the front only grows
    assert curves.hypervolume[-1] == pytest.approx(hypervolume)
    assert curves.dollars[-1] == pytest.approx(spent) and curves.dollars == sorted(curves.dollars)


def test_plain_objective_report_escapes_user_text(tmp_path: Path) -> None:
    space = Space({"x": FloatVar(0, 1), "prompt": ChoiceVar([HOSTILE, "plain"])})
    with llmopt.create_study(HOSTILE, space, {"acc": "maximize", "cost": "minimize"}, storage=str(tmp_path / "p.db"),
                             seed=0, sampler=RandomSampler()) as study:
        study.optimize(lambda t: {"acc": t.config["x"], "cost": t.config["x"] ** 2 + (t.config["prompt"] == "plain")}, n_trials=12)
        page = study.write_report(tmp_path / "p.html").read_text()
    body = page.split("</head>", 1)[1]
    assert HOSTILE not in body  # escaped in headings, table cells and hover text
    assert "calls sent" not in body  # no LLM calls: no call or dollar cards
    assert "against dollars spent" not in body


def test_single_objective_and_empty_studies_still_render(tmp_path: Path) -> None:
    with llmopt.create_study("one", Space({"x": FloatVar(0, 1)}), {"loss": "minimize"}, storage=str(tmp_path / "o.db"), seed=0) as study:
        empty = study.write_report(tmp_path / "empty.html").read_text()
        study.optimize(lambda t: (t.config["x"] - 0.3) ** 2, n_trials=12)
        page = study.write_report(tmp_path / "one.html").read_text()
    assert "no trial has values yet" in empty and "no complete trial yet" in empty
    assert "loss by trial" in page and "plot-importance" in page


def test_cli_writes_the_html_report(report_db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["report", "report-demo", "--storage", str(report_db), "--format", "html"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("wrote report-demo.html (") and "needs no network" in out
    assert (tmp_path / "report-demo.html").stat().st_size > 1_000_000  # plotly is inside
    assert main(["report", "report-demo", "--storage", str(report_db), "--format", "markdown", "-o", "front.md"]) == 0
    assert (tmp_path / "front.md").read_text().splitlines()[0].startswith("Pareto front of 'report-demo'")
    assert not list(tmp_path.glob("*.partial"))
