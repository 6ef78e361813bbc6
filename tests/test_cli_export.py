"""`llmopt export`: trials, examples and calls as CSV and JSONL, to stdout or a file, streamed; its errors."""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path

import pytest

import llmopt
from llmopt import ChoiceVar, FloatVar, Space
from llmopt.cli import export, main
from llmopt.trial import CallRecord, ExampleResult

SPACE = Space({"model": ChoiceVar(["small", "large"]), "temperature": FloatVar(0.0, 1.0)})
KEY = "sk-" + "a" * 24  # an output that echoes a key: never in an export


def _example(trial, i: int, metrics: dict[str, float], **kw) -> None:
    calls = (CallRecord("m-small", 10 + i, 2, 0.002, 0.002, 0.3, example_id=f"q{i}"),
             CallRecord("m-small", 10 + i, 2, 0.002, 0.0, 0.0, cache_hit=True, example_id=f"q{i}"))
    trial.study.storage.add_example_result(trial.trial_id, ExampleResult(
        f"q{i}", metrics, cost=0.004, billed_cost=0.002, latency=0.5 + i, prompt_tokens=20 + i, completion_tokens=4,
        n_calls=2, cache_hits=1, calls=calls, **kw))


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A study with COMPLETE, PRUNED, FAILED and WAITING trials, examples with outputs and calls; and a second study."""
    path = str(tmp_path_factory.mktemp("export") / "export.db")
    with llmopt.create_study("demo", SPACE, {"accuracy": "maximize", "cost": "minimize"}, storage=path, seed=0) as study:
        done = study.ask()
        for i in range(3):
            _example(done, i, {"em": float(i % 2), "f1": 0.5}, output="Paris" if i else f"Paris (api_key={KEY})")
        study.tell(done, {"accuracy": 0.5, "cost": 0.004})
        pruned = study.ask()
        _example(pruned, 0, {"em": math.nan, "f1": 0.0}, error="RuntimeError: boom")
        pruned.study.storage.add_calls(pruned.trial_id, [CallRecord("m-large", 5, 0, 0.01, 0.01, 30.0, status="failed",
                                                                    error_class="Timeout", attempt=3, maybe_billed=True,
                                                                    error="timed out")])
        study.tell(pruned, {"accuracy": 0.0, "cost": 0.004}, state="PRUNED",
                   system_attrs={"prune_reason": "dominated by trial 0", "examples_scored": 1, "examples_total": 3})
        failed = study.ask()
        study.tell(failed, state="FAILED", error="ValueError: bad token=abcdef123456")
        study.enqueue({"model": "large", "temperature": 0.25})
    with llmopt.create_study("other", SPACE, {"accuracy": "maximize"}, storage=path, seed=0) as other:
        trial = other.ask()
        trial.record_example("elsewhere", {"em": 1.0})
        other.tell(trial, 1.0)
    return path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def export_rows(capsys: pytest.CaptureFixture[str], db: str, what: str, fmt: str) -> list[dict]:
    code, out, err = run(capsys, "export", "demo", "--storage", db, "--what", what, "--format", fmt)
    assert code == 0 and err == "", err
    assert KEY not in out
    if fmt == "csv":
        return list(csv.DictReader(io.StringIO(out)))
    assert out.endswith("\n")
    return [json.loads(line) for line in out.splitlines()]


def test_trials_csv_and_jsonl(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "export", "demo", "--storage", db)  # defaults: trials, csv
    header = out.splitlines()[0].split(",")
    assert code == 0 and header == [
        "trial", "state", "value.accuracy", "value.cost", "param.model", "param.temperature", "examples_scored",
        "examples_total", "constraint_violation", "attempts", "error", "prune_reason", "started_at", "finished_at", "duration"]
    rows = export_rows(capsys, db, "trials", "csv")
    assert [(r["trial"], r["state"]) for r in rows] == [("0", "COMPLETE"), ("1", "PRUNED"), ("2", "FAILED"), ("3", "WAITING")]
    assert float(rows[0]["value.accuracy"]) == 0.5 and rows[0]["param.model"] in ("small", "large")
    assert rows[1]["prune_reason"] == "dominated by trial 0" and (rows[1]["examples_scored"], rows[1]["examples_total"]) == ("1", "3")
    assert "abcdef123456" not in rows[2]["error"] and "[REDACTED]" in rows[2]["error"]
    assert rows[3]["value.accuracy"] == "" and rows[3]["param.temperature"] == "0.25" and rows[3]["started_at"] == ""
    assert float(rows[0]["duration"]) >= 0 and rows[0]["finished_at"] > rows[0]["started_at"]
    objects = export_rows(capsys, db, "trials", "jsonl")
    assert [o["trial"] for o in objects] == [0, 1, 2, 3]
    assert objects[0]["values"] == {"accuracy": 0.5, "cost": 0.004} and objects[0]["params"]["model"] == rows[0]["param.model"]
    assert objects[2]["values"] is None and objects[3]["params"] == {"model": "large", "temperature": 0.25}
    assert objects[1]["prune_reason"] == rows[1]["prune_reason"] and objects[0]["started_at"] == rows[0]["started_at"]


def test_examples_csv_and_jsonl_round_trip(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    rows = export_rows(capsys, db, "examples", "csv")
    assert list(rows[0]) == ["trial", "example_id", "metric.em", "metric.f1", "cost", "billed_cost", "latency", "prompt_tokens",
                             "completion_tokens", "n_calls", "cache_hits", "error", "output"]
    assert [(r["trial"], r["example_id"]) for r in rows] == [("0", "q0"), ("0", "q1"), ("0", "q2"), ("1", "q0")]  # not "other"'s
    assert [float(r["metric.em"]) for r in rows[:3]] == [0.0, 1.0, 0.0] and math.isnan(float(rows[3]["metric.em"]))
    assert (float(rows[1]["cost"]), float(rows[1]["billed_cost"]), float(rows[1]["latency"])) == (0.004, 0.002, 1.5)
    assert (rows[1]["prompt_tokens"], rows[1]["n_calls"], rows[1]["cache_hits"]) == ("21", "2", "1")
    assert rows[0]["output"] == "Paris (api_key=[REDACTED])" and rows[1]["output"] == "Paris" and rows[1]["error"] == ""
    assert rows[3]["error"] == "RuntimeError: boom" and rows[3]["output"] == ""
    objects = export_rows(capsys, db, "examples", "jsonl")
    assert [(o["trial"], o["example_id"]) for o in objects] == [(int(r["trial"]), r["example_id"]) for r in rows]
    assert objects[1]["metrics"] == {"em": 1.0, "f1": 0.5} and objects[3]["metrics"] == {"em": "NaN", "f1": 0.0}  # strict JSON
    assert objects[0]["output"] == rows[0]["output"] and objects[3]["output"] is None and objects[1]["latency"] == 1.5


def test_calls_csv_and_jsonl(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    rows = export_rows(capsys, db, "calls", "csv")
    assert list(rows[0]) == ["trial", "example_id", "model", "prompt_tokens", "completion_tokens", "cost", "billed_cost", "latency",
                             "cache_hit", "status", "error_class", "attempt", "maybe_billed", "error"]
    assert [(r["trial"], r["example_id"], r["cache_hit"]) for r in rows[:2]] == [("0", "q0", "False"), ("0", "q0", "True")]
    assert len(rows) == 9 and [r["trial"] for r in rows].count("1") == 3  # 4 examples x 2 calls, + 1 call outside an example
    last = rows[-1]
    assert (last["example_id"], last["status"], last["error_class"], last["attempt"], last["maybe_billed"], last["error"]) == (
        "", "failed", "Timeout", "3", "True", "timed out")
    objects = export_rows(capsys, db, "calls", "jsonl")
    assert len(objects) == 9 and objects[1]["cache_hit"] is True and objects[1]["billed_cost"] == 0.0
    assert objects[-1]["example_id"] is None and objects[-1]["maybe_billed"] is True and objects[-1]["latency"] == 30.0


def test_pages_stream_into_the_same_export(db: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    whole = {(what, fmt): run(capsys, "export", "demo", "--storage", db, "--what", what, "--format", fmt)[1]
             for what in export.WHAT for fmt in export.FORMATS}
    monkeypatch.setattr(export, "PAGE", 1)  # a read per row: the rows and the CSV header come out the same
    for (what, fmt), out in whole.items():
        assert run(capsys, "export", "demo", "--storage", db, "--what", what, "--format", fmt)[1] == out


def test_a_metric_first_seen_after_the_first_page_is_named_on_stderr(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    path = str(tmp_path / "late.db")
    with llmopt.create_study("late", SPACE, {"accuracy": "maximize"}, storage=path) as study:
        trial = study.ask()
        trial.record_example("a", {"em": 1.0})
        trial.record_example("b", {"em": 0.0, "judge": 0.5})
        study.tell(trial, 0.5)
    monkeypatch.setattr(export, "PAGE", 1)
    code, out, err = run(capsys, "export", "late", "--storage", path, "--what", "examples")
    assert code == 0 and out.splitlines()[0].startswith("trial,example_id,metric.em,cost")
    assert len(err.strip().splitlines()) == 1 and "'judge'" in err and "--format jsonl" in err
    code, out, err = run(capsys, "export", "late", "--storage", path, "--what", "examples", "--format", "jsonl")
    assert code == 0 and err == "" and json.loads(out.splitlines()[1])["metrics"] == {"em": 0.0, "judge": 0.5}


def test_output_file_is_written_whole_then_renamed(db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "examples.csv"
    code, out, err = run(capsys, "export", "demo", "--storage", db, "--what", "examples", "-o", str(target))
    assert code == 0 and out == f"wrote {target} (4 examples)\n" and err == ""
    assert list(csv.DictReader(target.open(newline="", encoding="utf-8"))) == export_rows(capsys, db, "examples", "csv")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["examples.csv"]
    code, out, _ = run(capsys, "export", "demo", "--storage", db, "--what", "calls", "--format", "jsonl", "-o", str(target))
    assert code == 0 and len(target.read_text(encoding="utf-8").splitlines()) == 9  # replaced whole


def test_a_failure_midway_leaves_no_file(db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "calls.csv"
    target.write_text("an earlier export\n")
    real, seen = export._call_row, []

    def breaks_on_the_second(number, call):  # type: ignore[no-untyped-def]
        seen.append(number)
        if len(seen) == 2:
            raise OSError("disk full")
        return real(number, call)

    monkeypatch.setattr(export, "_call_row", breaks_on_the_second)
    code, out, err = run(capsys, "export", "demo", "--storage", db, "--what", "calls", "-o", str(target))
    assert code == 1 and "disk full" in err and len(err.strip().splitlines()) == 1
    assert target.read_text() == "an earlier export\n" and sorted(p.name for p in tmp_path.iterdir()) == ["calls.csv"]


@pytest.mark.parametrize("argv, message", [
    (["export", "missing"], "no study named 'missing'"),
    (["export", "demo", "--what", "runs"], "--what 'runs' is not something export writes (fix: use one of trials, examples, calls)"),
    (["export", "demo", "--format", "xlsx"], "--format 'xlsx' is not an export format (fix: use one of csv, jsonl)"),
])
def test_errors_are_one_line_exit_1(argv: list[str], message: str, db: str, tmp_path: Path,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "out.csv"
    code, out, err = run(capsys, "--storage", db, *argv, "-o", str(target))
    assert code == 1 and out == "" and message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not list(tmp_path.iterdir())  # nothing written, not even a partial file
