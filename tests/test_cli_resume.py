"""`llmopt resume` and `llmopt worker`: a study goes on from its name alone, with the files it
was started with (changed files refused unless --force); workers share one study total."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import llmopt
from llmopt.cli import main

ROOT = Path(__file__).resolve().parents[1]
OBJECTIVE = str(ROOT / "objectives" / "simulated_qa.py")


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def space_file(tmp_path: Path) -> Path:
    path = tmp_path / "space.py"
    shutil.copy(ROOT / "spaces" / "qa_pipeline.py", path)
    return path


def test_resume_runs_with_the_stored_files(tmp_path: Path, space_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = str(tmp_path / "r.db")
    base = ["--storage", db, "--quiet"]
    assert run(capsys, "optimize", "--study", "s", "--space", str(space_file), "--objective", OBJECTIVE, "--n-trials", "3", *base)[0] == 0
    code, out, err = run(capsys, "resume", "s", "--n-trials", "2", *base)
    assert code == 0 and "ran 2 trials this call" in err and out.startswith("Pareto front of 's'")
    with llmopt.load_study("s", storage=db) as study:
        assert len(study.trials) == 5
        stored = study.system_attrs["sources"]
    assert stored["space"]["path"] == str(space_file.resolve()) and len(stored["objective"]["sha256"]) == 64


def test_resume_refuses_a_changed_file_unless_forced(tmp_path: Path, space_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = str(tmp_path / "c.db")
    run(capsys, "optimize", "--study", "s", "--space", str(space_file), "--objective", OBJECTIVE, "--n-trials", "2", "--storage", db, "--quiet")
    space_file.write_text(space_file.read_text() + "\n# an edit\n")
    code, _, err = run(capsys, "resume", "s", "--n-trials", "1", "--storage", db)
    assert code == 1 and "changed since the study started" in err and "--force" in err and err.count("\n") == 1
    code, _, err = run(capsys, "resume", "s", "--n-trials", "1", "--storage", db, "--force", "--quiet")
    assert code == 0 and "ran 1 trials" in err
    moved = tmp_path / "elsewhere.py"
    space_file.rename(moved)
    code, _, err = run(capsys, "resume", "s", "--storage", db)
    assert code == 1 and "is not there" in err and "--space FILE" in err
    code, _, err = run(capsys, "resume", "s", "--storage", db, "--space", str(moved), "--n-trials", "1", "--quiet")
    assert code == 0, err  # the edited file moved here: its new content is what --force accepted... and is stored now


def test_resume_needs_a_study_run_from_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from llmopt import FloatVar, Space

    db = str(tmp_path / "p.db")
    with llmopt.create_study("py", Space({"x": FloatVar(0, 1)}), {"y": "maximize"}, storage=db, seed=0) as study:
        study.optimize(lambda t: t.config["x"], n_trials=1)
    code, _, err = run(capsys, "resume", "py", "--storage", db)
    assert code == 1 and "no stored space and objective files" in err and "llmopt optimize" in err


def test_stop_from_a_callback_ends_optimize(tmp_path: Path) -> None:
    from llmopt import FloatVar, Space

    with llmopt.create_study("cb", Space({"x": FloatVar(0, 1)}), {"y": "maximize"}, storage=str(tmp_path / "cb.db"), seed=0) as study:
        study.optimize(lambda t: t.config["x"], n_trials=50, callbacks=[lambda s, r: s.stop() if r.number >= 3 else None])
        assert len(study.trials) == 4
        study.optimize(lambda t: t.config["x"], n_trials=2)  # a new call starts afresh
        assert len(study.trials) == 6


def test_workers_on_postgres_share_the_study_total(tmp_path: Path, space_file: Path, postgres_url: str) -> None:
    """Two worker processes join one study on PostgreSQL; --n-trials is the total of both."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    first = subprocess.run([sys.executable, "-m", "llmopt", "optimize", "--study", "shared", "--space", str(space_file),
                            "--objective", OBJECTIVE, "--n-trials", "2", "--storage", postgres_url, "--quiet", "--sampler", "random"],
                           capture_output=True, text=True, timeout=300, env=env)
    assert first.returncode == 0, first.stderr
    workers = [subprocess.Popen([sys.executable, "-m", "llmopt", "worker", "shared", "--n-trials", "24", "--storage", postgres_url,
                                 "--quiet", "--format", "json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
               for _ in range(2)]
    results = [w.communicate(timeout=300) for w in workers]
    assert all(w.returncode == 0 for w in workers), [r[1][-1000:] for r in results]
    ran = [int(err.split(" ran ")[1].split()[0]) for _, err in results]
    with llmopt.load_study("shared", storage=postgres_url) as study:
        total = len(study.trials)
        states = {t.state.value for t in study.trials}
    assert 24 <= total <= 25, total  # each worker has at most one trial in flight when the other reaches the total
    assert sum(ran) == total - 2 and min(ran) > 0, ran  # both did work
    assert states == {"COMPLETE"}
