"""`llmopt plan` and `llmopt optimize --max-spend`, on an objective file whose EVALUATION calls a stub server (SERVICES)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import llmopt
from llmopt.cli import main

ROOT = Path(__file__).resolve().parents[1]

SPACE_FILE = '''
from llmopt import ChoiceVar, IntVar, Space

SPACE = Space({"model": ChoiceVar(["openai/small", "openai/large"]), "pad": IntVar(0, 9)})
'''

OBJECTIVE_FILE = '''
from llmopt import Dataset, Evaluation, Price, acomplete
from llmopt.testing import StubLLMServer

SERVER = StubLLMServer(answer=lambda messages: messages[-1]["content"].split()[-1])
SERVICES = [SERVER]  # started around the study (and around the plan)
DATA = Dataset([{"id": f"q{i}", "question": f"say {i}", "answer": str(i)} for i in range(20)])


async def pipeline(config, example):
    prompt = " ".join(["pad"] * config["pad"] + [example.question])
    reply = await acomplete(config["model"], [{"role": "user", "content": prompt}], api_base=SERVER.api_base, api_key="k")
    return reply.text


EVALUATION = Evaluation(DATA, pipeline, objectives=["accuracy", "cost"], max_concurrent_examples=4,
                        prices={"openai/small": Price(prompt=1e-6, completion=2e-6), "openai/large": Price(prompt=1e-5, completion=2e-5)})
'''


@pytest.fixture
def files(tmp_path: Path) -> tuple[str, str, str]:
    (tmp_path / "space_stub.py").write_text(SPACE_FILE)
    (tmp_path / "objective_stub.py").write_text(OBJECTIVE_FILE)
    return str(tmp_path / "space_stub.py"), str(tmp_path / "objective_stub.py"), str(tmp_path / "plan.db")


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def trials_of(db: str) -> int:
    with llmopt.load_study("quickstart", storage=db) as study:
        return len(study.trials)


def test_plan_prints_the_projection_and_writes_nothing(files: tuple[str, str, str], capsys: pytest.CaptureFixture[str]) -> None:
    space, objective, db = files
    code, out, err = run(capsys, "--storage", db, "plan", "--space", space, "--objective", objective, "--n-trials", "12", "--seed", "0")
    assert code == 0, err
    assert out.startswith("Cost preview of 12 trial(s) x 20 examples (seed 0)")
    for text in ("without pruning", "with pruning", "The plan itself spent $", "26 call(s)", "Most expensive configurations",
                 "(corner)", "How the ranges are made", "Pruning: default ParetoPruner", "docs/benchmarks.md"):
        assert text in out, text
    assert not Path(db).exists(), "plan opens nothing for writing"
    code, out, err = run(capsys, "--storage", db, "plan", "--space", space, "--objective", objective, "--n-trials", "12",
                         "--seed", "0", "--format", "json", "--configs", "2", "--examples", "3", "--no-corner")
    data = json.loads(out)
    assert code == 0 and data["plan_calls"] == 7 and data["corner"] is None and data["dollars"]["low"] <= data["max_dollars"]


def test_plan_uses_an_existing_studys_seed(files: tuple[str, str, str], capsys: pytest.CaptureFixture[str]) -> None:
    space, objective, db = files
    assert run(capsys, "--storage", db, "optimize", "--space", space, "--objective", objective, "--n-trials", "2", "--seed", "4", "--quiet")[0] == 0
    code, out, _ = run(capsys, "--storage", db, "plan", "--space", space, "--objective", objective, "--n-trials", "5")
    assert code == 0 and "(seed 4)" in out and trials_of(db) == 2
    code, _, err = run(capsys, "--storage", db, "plan", "--space", space, "--objective", objective, "--n-trials", "5", "--seed", "1")
    assert code == 1 and "created with seed 4" in err and len(err.strip().splitlines()) == 1


def test_max_spend_refuses_before_any_trial(files: tuple[str, str, str], capsys: pytest.CaptureFixture[str]) -> None:
    space, objective, db = files
    code, _, err = run(capsys, "--storage", db, "optimize", "--space", space, "--objective", objective, "--n-trials", "12",
                       "--seed", "0", "--max-spend", "0.0001", "--quiet")
    assert code == 1 and len(err.strip().splitlines()) == 1, err
    assert "over --max-spend $0.000100" in err and "fewer --n-trials" in err and "--budget 0.0001" in err
    assert "model=openai/large" in err  # the option to drop, or the costliest settings measured
    assert trials_of(db) == 0
    code, _, err = run(capsys, "--storage", db, "optimize", "--space", space, "--objective", objective, "--n-trials", "3",
                       "--max-spend", "5", "--quiet")
    assert code == 0 and "within --max-spend $5.00" in err and trials_of(db) == 3


@pytest.mark.parametrize("argv, message", [
    (["optimize", "--objective", str(ROOT / "objectives" / "simulated_qa.py"), "--n-trials", "3", "--max-spend", "1"],
     "--max-spend needs an objective file with EVALUATION"),
    (["optimize", "--n-trials", "3", "--max-spend", "-1"], "--max-spend must be dollars >= 0"),
    (["optimize", "--max-spend", "1"], "--max-spend needs --n-trials"),
    (["plan", "--objective", str(ROOT / "objectives" / "simulated_qa.py"), "--n-trials", "3"], "llmopt plan needs an objective file with EVALUATION"),
    (["plan", "--n-trials", "0"], "n_trials must be a whole number >= 1"),
    (["plan", "--n-trials", "3", "--examples", "21"], "more than the evaluation set's 20 examples"),
    (["plan", "--n-trials", "3", "--configs", "1"], "configs must be a whole number >= 2"),
])
def test_bad_options_are_one_line_errors(argv: list[str], message: str, files: tuple[str, str, str],
                                         capsys: pytest.CaptureFixture[str]) -> None:
    space, objective, db = files
    if "--objective" not in argv:
        argv = [*argv, "--objective", objective]
    code, _, err = run(capsys, "--storage", db, argv[0], "--space", space, *argv[1:])
    assert code == 1 and message in err and len(err.strip().splitlines()) == 1, err
    assert "Traceback" not in err
