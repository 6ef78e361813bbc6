"""Bad input, table-driven: every case raises the right error class, names the field, and changes nothing stored.

Each case runs against a SQLite file that already holds a study with three trials; the rows of
every llmopt table are compared before and after.
"""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import llmopt
from llmopt import (
    ChoiceVar, Evaluation, FloatVar, Forbid, IntVar, Limits, ModuleVar, RandomSampler, RetryPolicy, Space, TPESampler,
)
from llmopt.cli import main
from llmopt.errors import (
    DatasetError, DuplicateStudyError, EvaluationError, LLMOptError, SpaceError, StorageError, StudyError,
    StudyNotFoundError,
)
from llmopt.trial import Objective

SPACE = Space({"x": FloatVar(0, 1), "m": ChoiceVar(["a", "b"])})
OBJECTIVES = {"y": "minimize"}
SPACE_FILE = Path(__file__).resolve().parents[2] / "spaces" / "qa_pipeline.py"
OBJECTIVE_FILE = Path(__file__).resolve().parents[2] / "objectives" / "simulated_qa.py"
DATA = [{"id": "q1", "answer": "1"}, {"id": "q2", "answer": "2"}]


def pipeline(config: Any, example: Any) -> str:
    return "1"


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Study "s" (three trials, for the API cases) and study "cli" (made by the CLI, for its cases)."""
    path = tmp_path_factory.mktemp("bad") / "base.db"
    with llmopt.create_study("s", SPACE, OBJECTIVES, storage=str(path), seed=0, sampler=RandomSampler()) as study:
        study.optimize(lambda t: t.config["x"], n_trials=3)
    assert main(["--storage", str(path), "optimize", "--space", str(SPACE_FILE), "--objective", str(OBJECTIVE_FILE),
                 "--study", "cli", "--n-trials", "2", "--seed", "0", "--quiet", "--sampler", "random"]) == 0
    return path


@pytest.fixture
def db(base: Path, tmp_path: Path) -> Path:
    path = tmp_path / "study.db"
    source, target = sqlite3.connect(base), sqlite3.connect(path)
    source.backup(target)
    source.close()
    target.close()
    return path


def snapshot(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    conn = sqlite3.connect(path)
    try:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name")]
        return {t: sorted(conn.execute(f"SELECT * FROM {t}").fetchall(), key=repr) for t in tables}
    finally:
        conn.close()


def study(db: Path) -> llmopt.Study:
    return llmopt.load_study("s", storage=str(db))


def create(db: Path, **kwargs: Any) -> llmopt.Study:
    args: dict[str, Any] = {"name": "new", "space": SPACE, "objectives": OBJECTIVES, "storage": str(db)}
    args.update(kwargs)
    return llmopt.create_study(**args)


def ev(**kwargs: Any) -> Evaluation:
    return Evaluation(DATA, pipeline, **kwargs)


def _ask_then(action: Callable[[llmopt.Study, llmopt.Trial], Any]) -> Callable[[Path], Any]:
    def run(db: Path) -> Any:
        s = study(db)
        return action(s, s.ask())
    return run


# (id, action on the database path, error class, text the message must contain: the field)
API: list[tuple[str, Callable[[Path], Any], type[LLMOptError], str]] = [
    # variables and spaces
    ("float-low-above-high", lambda db: FloatVar(3, 1), SpaceError, "low"),
    ("float-log-nonpositive", lambda db: FloatVar(0, 1, log=True), SpaceError, "log"),
    ("float-step-not-dividing", lambda db: FloatVar(0, 1, step=0.3), SpaceError, "step"),
    ("float-nan-bound", lambda db: FloatVar(0, math.nan), SpaceError, "high"),
    ("float-string-bound", lambda db: FloatVar("a", 1), SpaceError, "low"),
    ("int-low-above-high", lambda db: IntVar(5, 1), SpaceError, "low"),
    ("int-step-not-dividing", lambda db: IntVar(0, 10, step=3), SpaceError, "step"),
    ("int-float-bound", lambda db: IntVar(0.5, 3), SpaceError, "low"),
    ("choice-empty", lambda db: ChoiceVar([]), SpaceError, "option"),
    ("choice-duplicate", lambda db: ChoiceVar(["a", "a"]), SpaceError, "'a'"),
    ("choice-unstorable-option", lambda db: ChoiceVar([{"a": 1}]), SpaceError, "option"),
    ("module-empty", lambda db: ModuleVar({}), SpaceError, "option"),
    ("space-not-a-variable", lambda db: Space({"x": 5}), SpaceError, "variables.x"),
    ("space-bad-name", lambda db: Space({"a.b": FloatVar(0, 1)}), SpaceError, "a.b"),
    ("forbid-unknown-variable", lambda db: Space({"x": FloatVar(0, 1)}, constraints=[Forbid({"y": 1})]), SpaceError, "'y'"),
    ("forbid-impossible-value", lambda db: Space({"m": ChoiceVar(["a"])}, constraints=[Forbid({"m": "zz"})]), SpaceError, "zz"),
    ("space-infeasible", lambda db: create(db, space=Space({"m": ChoiceVar(["a"])}, constraints=[Forbid({"m": "a"})])),
     SpaceError, "constraint"),
    # create_study
    ("create-no-space", lambda db: create(db, space=None), StudyError, "space"),
    ("create-seed-negative", lambda db: create(db, seed=-1), StudyError, "seed"),
    ("create-seed-huge", lambda db: create(db, seed=2**70), StudyError, "seed"),
    ("create-seed-string", lambda db: create(db, seed="abc"), StudyError, "seed"),
    ("create-seed-float", lambda db: create(db, seed=1.5), StudyError, "seed"),
    ("create-seed-bool", lambda db: create(db, seed=True), StudyError, "seed"),
    ("create-name-empty", lambda db: create(db, name=""), StudyError, "name"),
    ("create-name-blank", lambda db: create(db, name="  "), StudyError, "name"),
    ("create-name-long", lambda db: create(db, name="n" * 10_000), StudyError, "name"),
    ("create-name-nul", lambda db: create(db, name="a\x00b"), StudyError, "name"),
    ("create-name-number", lambda db: create(db, name=42), StudyError, "name"),
    ("create-objectives-empty", lambda db: create(db, objectives={}), StudyError, "objective"),
    ("create-objective-direction", lambda db: create(db, objectives={"y": "up"}), StudyError, "direction"),
    ("create-objectives-string", lambda db: create(db, objectives="accuracy"), StudyError, "objectives"),
    ("create-objectives-duplicate", lambda db: create(db, objectives=[Objective("y"), Objective("y")]),
     StudyError, "distinct"),
    ("create-heartbeat-zero", lambda db: create(db, heartbeat_interval=0), StudyError, "heartbeat_interval"),
    ("create-stale-below-heartbeat", lambda db: create(db, stale_after=5), StudyError, "stale_after"),
    ("create-max-attempts-zero", lambda db: create(db, max_attempts=0), StudyError, "max_attempts"),
    ("create-sampler-string", lambda db: create(db, sampler="tpe"), StudyError, "sampler"),
    ("create-constraint-syntax", lambda db: create(db, constraints=["y < 1"]), StudyError, "y < 1"),
    ("create-constraint-typo", lambda db: create(db, objectives={"cost": "minimize"}, constraints=["costt <= 1"]),
     StudyError, "'costt'"),
    ("create-constraint-inf", lambda db: create(db, constraints=["y <= inf"]), StudyError, "y <= inf"),
    ("create-constraint-nan-number", lambda db: create(db, constraints=["y <= 1e"]), StudyError, "1e"),
    ("create-duplicate", lambda db: create(db, name="s"), DuplicateStudyError, "'s'"),
    ("resume-other-space", lambda db: create(db, name="s", space=Space({"x": FloatVar(0, 2)}), load_if_exists=True),
     StudyError, "space"),
    ("resume-other-objectives", lambda db: create(db, name="s", objectives={"z": "minimize"}, load_if_exists=True),
     StudyError, "objectives"),
    ("resume-other-seed", lambda db: create(db, name="s", seed=99, load_if_exists=True), StudyError, "seed"),
    ("resume-other-sampler", lambda db: create(db, name="s", sampler=TPESampler(), load_if_exists=True),
     StudyError, "sampler"),
    ("resume-other-constraints", lambda db: create(db, name="s", constraints=["y <= 1"], load_if_exists=True),
     StudyError, "constraints"),
    ("load-other-sampler", lambda db: llmopt.load_study("s", storage=str(db), sampler=TPESampler()), StudyError, "sampler"),
    ("load-unknown-study", lambda db: llmopt.load_study("nope", storage=str(db)), StudyNotFoundError, "'nope'"),
    ("load-missing-file", lambda db: llmopt.load_study("s", storage=str(db.parent / "missing.db")), StorageError,
     "missing.db"),
    ("storage-bad-url", lambda db: create(db, storage="foo://::bad"), StorageError, "foo://"),
    ("storage-directory", lambda db: create(db, storage=str(db.parent)), StorageError, "directory"),
    # optimize and tell
    ("optimize-n-trials-string", lambda db: study(db).optimize(lambda t: 0.0, n_trials="3"), StudyError, "n_trials"),
    ("optimize-n-trials-negative", lambda db: study(db).optimize(lambda t: 0.0, n_trials=-1), StudyError, "n_trials"),
    ("optimize-n-trials-float", lambda db: study(db).optimize(lambda t: 0.0, n_trials=2.5), StudyError, "n_trials"),
    ("optimize-timeout-negative", lambda db: study(db).optimize(lambda t: 0.0, timeout=-5), StudyError, "timeout"),
    ("optimize-timeout-zero", lambda db: study(db).optimize(lambda t: 0.0, timeout=0), StudyError, "timeout"),
    ("optimize-timeout-string", lambda db: study(db).optimize(lambda t: 0.0, timeout="10"), StudyError, "timeout"),
    ("optimize-timeout-nan", lambda db: study(db).optimize(lambda t: 0.0, timeout=math.nan), StudyError, "timeout"),
    ("optimize-not-callable", lambda db: study(db).optimize(42, n_trials=1), StudyError, "42"),
    ("optimize-evaluation-objectives", lambda db: study(db).optimize(ev(), n_trials=1), EvaluationError, "objectives"),
    ("tell-unknown-number", lambda db: study(db).tell(99, 1.0), StudyError, "99"),
    ("tell-twice", lambda db: study(db).tell(0, 1.0), StudyError, "trial 0"),
    ("enqueue-unknown-key", lambda db: study(db).enqueue({"x": 0.5, "m": "a", "zz": 1}), SpaceError, "zz"),
    ("enqueue-out-of-range", lambda db: study(db).enqueue({"x": 5.0, "m": "a"}), SpaceError, "x=5.0"),
    ("enqueue-bad-choice", lambda db: study(db).enqueue({"x": 0.5, "m": "c"}), SpaceError, "m='c'"),
    ("resume-trial-not-pruned", lambda db: study(db).resume_trial(0), StudyError, "PRUNED"),
    ("best-trial-needs-one-objective",
     lambda db: create(db, storage=":memory:", objectives={"a": "maximize", "b": "minimize"}).best_trial,
     StudyError, "objective"),
    # evaluations
    ("evaluation-unknown-metric", lambda db: ev(metric="exactish"), EvaluationError, "exactish"),
    ("evaluation-pipeline-not-callable", lambda db: Evaluation(DATA, "nope"), EvaluationError, "pipeline"),
    ("evaluation-concurrent-trials", lambda db: ev(concurrent_trials=0), EvaluationError, "concurrent_trials"),
    ("evaluation-error-rate", lambda db: ev(max_error_rate=2), EvaluationError, "max_error_rate"),
    ("evaluation-budget-negative", lambda db: ev(budget=-1), EvaluationError, "budget"),
    ("evaluation-trial-budget-string", lambda db: ev(trial_budget="x"), EvaluationError, "trial_budget"),
    ("evaluation-no-objectives", lambda db: ev(objectives=()), EvaluationError, "objective"),
    ("evaluation-unknown-measure", lambda db: ev(objectives=("accuracy", "costt")), EvaluationError, "costt"),
    ("evaluation-duplicate-ids", lambda db: Evaluation([{"id": "a"}, {"id": "a"}], pipeline), DatasetError, "'a'"),
    ("evaluation-empty-dataset", lambda db: Evaluation([], pipeline), DatasetError, "empty"),
    ("evaluation-example-not-mapping", lambda db: Evaluation(["q"], pipeline), DatasetError, "item 0"),
    ("evaluation-missing-file", lambda db: Evaluation(str(db.parent / "none.jsonl"), pipeline), DatasetError, "none.jsonl"),
    ("limits-in-flight-zero", lambda db: Limits(max_in_flight=0), EvaluationError, "max_in_flight"),
    ("limits-rate-negative", lambda db: Limits(rate={"m": -1}), EvaluationError, "rate"),
    ("retry-timeout-zero", lambda db: RetryPolicy(timeout=0), EvaluationError, "timeout"),
    ("evaluation-missing-price", lambda db: create(db, storage=":memory:", objectives=ev(objectives=("accuracy", "cost")).objectives,
                                                    space=Space({"model": ChoiceVar(["no-such-model-xyz"])}))
     .optimize(ev(objectives=("accuracy", "cost")), n_trials=1), EvaluationError, "no-such-model-xyz"),
]


@pytest.mark.parametrize(("action", "error", "field"), [c[1:] for c in API], ids=[c[0] for c in API])
def test_api_bad_input(db: Path, action: Callable[[Path], Any], error: type[LLMOptError], field: str) -> None:
    before = snapshot(db)
    with pytest.raises(error) as info:
        action(db)
    message = info.value.message
    assert field in message, message
    assert info.value.hint, "every error says how to fix it"
    assert "\n" not in str(info.value), "one line"
    assert snapshot(db) == before




def _files(tmp: Path) -> dict[str, str]:
    (tmp / "nospace.py").write_text("X = 1\n")
    (tmp / "noobjective.py").write_text("X = 1\n")
    (tmp / "syntax.py").write_text("SPACE = (\n")
    return {"nospace": str(tmp / "nospace.py"), "noobjective": str(tmp / "noobjective.py"), "syntax": str(tmp / "syntax.py")}


OPT = ["optimize", "--space", "{space}", "--objective", "{objective}", "--quiet", "--study", "cli"]
# (id, argv, text the one-line message must contain)
CLI: list[tuple[str, list[str], str]] = [
    ("report-unknown-study", ["report", "nope"], "'nope'"),
    ("trials-unknown-study", ["trials", "nope"], "'nope'"),
    ("delete-unknown-study", ["delete", "nope"], "'nope'"),
    ("studies-missing-file", ["studies", "--storage", "{dir}/missing.db"], "missing.db"),
    ("optimize-missing-space", [*OPT[:2], "{dir}/nothere.py", *OPT[3:]], "nothere.py"),
    ("optimize-no-space", [*OPT[:2], "{nospace}", *OPT[3:]], "SPACE"),
    ("optimize-no-objective", [*OPT[:4], "{noobjective}", *OPT[5:]], "EVALUATION"),
    ("optimize-syntax", [*OPT[:2], "{syntax}", *OPT[3:]], "syntax.py:1"),
    ("optimize-unknown-sampler", [*OPT, "--sampler", "bogus"], "'bogus'"),
    ("optimize-budget-plain", [*OPT, "--budget", "1"], "--budget"),
    ("optimize-n-trials-negative", [*OPT, "--n-trials", "-1"], "n_trials"),
    ("optimize-timeout-negative", [*OPT, "--timeout", "-5"], "timeout"),
    ("optimize-seed-negative", [*OPT, "--seed", "-1", "--study", "fresh"], "seed"),
    ("optimize-change-sampler-alone", [*OPT, "--change-sampler"], "--sampler"),
    ("optimize-other-seed", [*OPT, "--seed", "5"], "seed"),
]


@pytest.mark.parametrize(("argv", "field"), [c[1:] for c in CLI], ids=[c[0] for c in CLI])
def test_cli_bad_input(db: Path, tmp_path: Path, argv: list[str], field: str, capsys: pytest.CaptureFixture[str]) -> None:
    values = {"dir": str(tmp_path), "space": str(SPACE_FILE), "objective": str(OBJECTIVE_FILE), **_files(tmp_path)}
    args = [a.format(**values) for a in argv]
    if "--storage" not in args:
        args += ["--storage", str(db)]
    before = snapshot(db)
    code = main(args)
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert code == 1 and len(lines) == 1, err
    assert lines[0].startswith("llmopt: error:") and field in lines[0] and "fix:" in lines[0]
    assert snapshot(db) == before


def test_the_table_is_at_least_sixty_cases() -> None:
    assert len(API) + len(CLI) >= 60
