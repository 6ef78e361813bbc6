"""`llmopt show` (one trial whole) and `llmopt compare` (two trials, paired) on a real evaluation study."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import llmopt
from llmopt.cli import main


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def trials(report_db: Path) -> list:
    with llmopt.load_study("report-demo", storage=str(report_db)) as study:
        return study.trials


def test_show_lists_configuration_measures_examples_and_calls(report_db: Path, trials: list, capsys: pytest.CaptureFixture[str]) -> None:
    done = next(t for t in trials if t.state.value == "COMPLETE")
    code, out, _ = run(capsys, "show", "report-demo", str(done.number), "--storage", str(report_db), "--examples", "3")
    assert code == 0, out
    assert out.startswith(f"trial {done.number} of 'report-demo': COMPLETE")
    for path, value in done.params.items():
        assert f"  {path} = " in out
    assert "accuracy " in out and "[" in out.split("measures", 1)[1].splitlines()[1]
    assert "more (--examples all)" in out and "calls:" in out and "openai/stub" in out
    code, out, _ = run(capsys, "show", "report-demo", str(done.number), "--storage", str(report_db), "--format", "json")
    shown = json.loads(out)
    assert shown["params"] == done.params and len(shown["examples"]) == done.system_attrs["examples_scored"]
    assert sum(c["billed_cost"] for c in shown["calls"]) >= 0 and shown["intervals"]["accuracy"][0] <= shown["values"]["accuracy"]


def test_show_tells_why_a_trial_stopped(report_db: Path, trials: list, capsys: pytest.CaptureFixture[str]) -> None:
    failed = next(t for t in trials if t.state.value == "FAILED")
    code, out, _ = run(capsys, "show", "report-demo", str(failed.number), "--storage", str(report_db), "--examples", "all")
    assert code == 0 and "error: " in out and "breaks above temperature 0.9" in out
    pruned = next(t for t in trials if t.state.value == "PRUNED")
    code, out, _ = run(capsys, "show", "report-demo", str(pruned.number), "--storage", str(report_db))
    assert code == 0 and "pruned: " in out


def test_show_errors(report_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "show", "report-demo", "999", "--storage", str(report_db))
    assert code == 1 and "has no trial 999" in err and "llmopt trials report-demo" in err
    code, _, err = run(capsys, "show", "report-demo", "1", "--storage", str(report_db), "--examples", "many")
    assert code == 1 and "--examples 'many'" in err


def test_compare_pairs_two_trials(report_db: Path, trials: list, capsys: pytest.CaptureFixture[str]) -> None:
    a, b = [t for t in trials if t.state.value == "COMPLETE"][:2]
    code, out, _ = run(capsys, "compare", "report-demo", str(a.number), str(b.number), "--storage", str(report_db), "--format", "json")
    assert code == 0
    result = json.loads(out)
    rows = {r["objective"].split()[0]: r for r in result["objectives"]}
    assert set(rows) == {"accuracy", "cost", "latency_p95"}
    assert rows["accuracy"]["A - B"] == pytest.approx(a.values["accuracy"] - b.values["accuracy"])
    assert rows["accuracy"]["shared"] == a.system_attrs["examples_scored"] and len(result["verdicts"]) == 3
    code, out, _ = run(capsys, "compare", "report-demo", str(a.number), str(a.number), "--storage", str(report_db))
    assert code == 0 and "accuracy: cannot tell them apart (p = 1)" in out


def test_compare_plain_trials_says_it_cannot_pair(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from llmopt import FloatVar, Space

    db = str(tmp_path / "p.db")
    with llmopt.create_study("plain", Space({"x": FloatVar(0, 1)}), {"y": "maximize"}, storage=db, seed=0) as study:
        study.optimize(lambda t: t.config["x"], n_trials=2)
    code, out, _ = run(capsys, "compare", "plain", "0", "1", "--storage", db)
    assert code == 0 and "cannot be compared example by example" in out
