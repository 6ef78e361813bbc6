"""The README's main job: optimize the prompt pipeline on the real local model, print the front, resume."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def llmopt(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "llmopt", *args], cwd=cwd, capture_output=True, text=True, timeout=600)


@pytest.mark.slow
def test_quickstart_on_the_local_model_prints_the_front_and_resumes(tmp_path: Path) -> None:
    args = ["optimize", "--space", str(ROOT / "spaces/prompt_qa.py"), "--objective", str(ROOT / "objectives/local_qa.py"),
            "--n-trials", "2", "--seed", "0"]
    first = llmopt(*args, cwd=tmp_path)
    assert first.returncode == 0, first.stderr[-3000:]
    assert "Pareto front of 'quickstart'" in first.stdout and "accuracy (maximize), cost (minimize), latency_p95 (minimize)" in first.stdout
    assert (tmp_path / "llmopt.db").exists()
    again = llmopt(*args[:-4], "--n-trials", "1", "--format", "json", cwd=tmp_path)
    assert again.returncode == 0, again.stderr[-3000:]
    front = json.loads(again.stdout)
    assert front and all(0 <= row["accuracy"] <= 1 and row["cost"] > 0 for row in front)
    trials = llmopt("trials", "quickstart", "--format", "json", cwd=tmp_path)
    assert [row["state"] for row in json.loads(trials.stdout)] == ["COMPLETE"] * 3


def test_budget_flag_needs_an_evaluation_objective(tmp_path: Path) -> None:
    out = llmopt("optimize", "--space", str(ROOT / "spaces/qa_pipeline.py"), "--objective", str(ROOT / "objectives/simulated_qa.py"),
                 "--n-trials", "1", "--budget", "1", cwd=tmp_path)
    assert out.returncode == 1 and "--budget and --concurrent-trials need an objective file with EVALUATION" in out.stderr
    bad = llmopt("optimize", "--space", str(ROOT / "spaces/qa_pipeline.py"), "--objective", str(ROOT / "objectives/simulated_qa.py"),
                 "--sampler", "annealing", cwd=tmp_path)
    assert bad.returncode == 1 and "unknown sampler 'annealing'" in bad.stderr
