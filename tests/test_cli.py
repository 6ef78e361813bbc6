"""The `llmopt` command: optimize (the README's main job), studies, trials, report, delete, and its errors."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from llmopt.cli import main

ROOT = Path(__file__).resolve().parents[1]
SPACE = str(ROOT / "spaces" / "qa_pipeline.py")
OBJECTIVE = str(ROOT / "objectives" / "simulated_qa.py")


@pytest.fixture
def db(tmp_path: Path) -> str:
    return str(tmp_path / "cli.db")


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_optimize_prints_the_front_and_resumes(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--storage", db, "optimize", "--space", SPACE, "--objective", OBJECTIVE, "--n-trials", "15", "--seed", "0", "--quiet")
    assert code == 0
    assert "Pareto front of 'quickstart'" in out and "of 15 complete trials" in out
    assert "accuracy" in out.splitlines()[2] and "model" in out.splitlines()[2]
    code, out, _ = run(capsys, "optimize", "--storage", db, "--space", SPACE, "--objective", OBJECTIVE, "--n-trials", "5", "--quiet")
    assert code == 0 and "of 20 complete trials" in out  # the second call resumed the stored study


def test_studies_trials_report_formats(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "--storage", db, "optimize", "--space", SPACE, "--objective", OBJECTIVE, "--n-trials", "12", "--seed", "1", "--quiet")
    code, out, _ = run(capsys, "--storage", db, "studies")
    assert code == 0 and "quickstart" in out and "12" in out
    code, out, _ = run(capsys, "trials", "quickstart", "--storage", db, "--format", "json")
    rows = json.loads(out)
    assert code == 0 and [r["trial"] for r in rows] == list(range(12)) and all(r["state"] == "COMPLETE" for r in rows)
    code, out, _ = run(capsys, "report", "quickstart", "--storage", db, "--format", "json")
    front = json.loads(out)
    assert code == 0 and 1 <= len(front) <= 12 and {"accuracy", "cost", "latency", "model"} <= set(front[0])
    code, out, _ = run(capsys, "report", "quickstart", "--storage", db, "--format", "csv")
    parsed = list(csv.DictReader(io.StringIO(out)))
    assert [int(r["trial"]) for r in parsed] == [r["trial"] for r in front]
    code, out, _ = run(capsys, "report", "quickstart", "--storage", db)
    assert code == 0 and out.startswith("Pareto front of 'quickstart'")


def test_delete(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "--storage", db, "optimize", "--space", SPACE, "--objective", OBJECTIVE, "--n-trials", "2", "--quiet")
    assert run(capsys, "--storage", db, "delete", "quickstart")[0] == 0
    assert "(no studies)" in run(capsys, "--storage", db, "studies")[1]


@pytest.mark.parametrize(
    "argv, message",
    [
        (["report", "missing"], "no study named 'missing'"),
        (["trials", "missing"], "no study named 'missing'"),
    ],
)
def test_unknown_study_is_one_line_exit_1(argv: list[str], message: str, db: str, capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "--storage", db, "optimize", "--space", SPACE, "--objective", OBJECTIVE, "--n-trials", "1", "--quiet")
    code, out, err = run(capsys, "--storage", db, *argv)
    assert code == 1 and message in err and "quickstart" in err and len(err.strip().splitlines()) == 1


def test_missing_database_file_via_console_script(tmp_path: Path) -> None:
    missing = tmp_path / "nope.db"
    out = subprocess.run([sys.executable, "-m", "llmopt", "--storage", str(missing), "studies"], capture_output=True, text=True)
    assert out.returncode == 1
    assert out.stderr.strip().splitlines() == [f"llmopt: error: no llmopt database at {missing} (fix: run a study first, or pass --storage with the right URL)"]
    assert "Traceback" not in out.stderr and not missing.exists()


def test_bad_space_file_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad_space.py"
    bad.write_text("X = 1\n")
    code, _, err = run(capsys, "--storage", str(tmp_path / "d.db"), "optimize", "--space", str(bad), "--objective", OBJECTIVE)
    assert code == 1 and "defines no SPACE" in err
    code, _, err = run(capsys, "--storage", str(tmp_path / "d.db"), "optimize", "--space", str(tmp_path / "none.py"), "--objective", OBJECTIVE)
    assert code == 1 and "no such file" in err


def test_optimize_on_an_exhausted_space_says_the_search_is_done(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    space = tmp_path / "tiny.py"
    space.write_text("from llmopt import ChoiceVar, Space\nSPACE = Space({'model': ChoiceVar(['small', 'medium', 'large'])})\n")
    objective = tmp_path / "obj.py"
    objective.write_text("OBJECTIVES = {'v': 'maximize'}\n\n\ndef evaluate(trial):\n    return len(trial.config['model'])\n")
    argv = ["--storage", str(tmp_path / "t.db"), "optimize", "--space", str(space), "--objective", str(objective), "--quiet"]
    code, out, err = run(capsys, *argv, "--n-trials", "5")
    assert code == 0 and "ran 3 trials" in err and "search done: all 3 configurations" in err
    code, out, err = run(capsys, *argv, "--n-trials", "5")
    assert code == 0 and "ran 0 trials" in err and "search done" in err and "Traceback" not in err


def test_main_leaves_no_log_handler_behind(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    """main() may run several times in one process (tests, notebooks): its per-trial log goes with it."""
    import logging

    logger = logging.getLogger("llmopt")
    before = (list(logger.handlers), logger.level)
    code, _, err = run(capsys, "--storage", db, "optimize", "--space", SPACE, "--objective", OBJECTIVE, "--n-trials", "2")
    assert code == 0 and "trial 0 COMPLETE" in err
    assert (list(logger.handlers), logger.level) == before


def test_report_sorts_shows_what_differs_and_writes_markdown(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import llmopt
    from llmopt import ChoiceVar, FloatVar, RandomSampler, Space

    db = str(tmp_path / "r.db")
    space = Space({"x": FloatVar(0, 1), "region": ChoiceVar(["eu"])})  # region is the same everywhere
    with llmopt.create_study("r", space, {"acc": "maximize", "cost": "minimize"}, storage=db, seed=0,
                             sampler=RandomSampler()) as study:
        study.optimize(lambda t: {"acc": t.config["x"], "cost": t.config["x"] ** 2}, n_trials=8)
    code, out, _ = run(capsys, "--storage", db, "report", "r", "--sort", "cost")
    lines = out.splitlines()
    assert code == 0 and "same on the whole front: region=eu" in out
    header = next(i for i, line in enumerate(lines) if line.startswith("trial"))
    assert "region" not in lines[header]
    costs = [float(line.split()[2]) for line in lines[header + 2:]]
    assert len(costs) == 8 and costs == sorted(costs)  # every trial is on this front; cheapest first
    code, out, _ = run(capsys, "--storage", db, "report", "r", "--all-variables")
    assert "region" in next(line for line in out.splitlines() if line.startswith("trial"))
    code, out, _ = run(capsys, "--storage", db, "report", "r", "--format", "markdown", "--sort", "acc")
    table = [line for line in out.splitlines() if line.startswith("|")]
    assert table[0].startswith("| trial | acc | cost |") and table[1].startswith("| --- |") and len(table) == 10
    accs = [float(row.split("|")[2]) for row in table[2:]]
    assert accs == sorted(accs, reverse=True)
    code, _, err = run(capsys, "--storage", db, "report", "r", "--sort", "latency")
    assert code == 1 and "--sort 'latency' is not an objective" in err and "['acc', 'cost']" in err
