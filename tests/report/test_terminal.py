"""The terminal report: intervals beside values, "what should I deploy" under limits with ties
named, tables fitted to the terminal width, paired comparisons that are right on known data."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from llmopt.cli import main
from llmopt.evaluation.measures import MEASURES
from llmopt.report import render
from llmopt.report.compare import paired_difference
from llmopt.trial import ExampleResult


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_values_carry_their_intervals(report_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "report", "report-demo", "--storage", str(report_db))
    assert code == 0 and "values shown with their 95% interval" in out
    body = out.splitlines()[3:]
    assert body and all("[" in line for line in body[1:]), out  # every member's accuracy has its [low, high]
    code, out, _ = run(capsys, "report", "report-demo", "--storage", str(report_db), "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    for row in rows:
        assert float(row["accuracy_low"]) <= float(row["accuracy"]) <= float(row["accuracy_high"])


def test_where_picks_the_best_under_limits_and_names_ties(report_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import llmopt

    with llmopt.load_study("report-demo", storage=str(report_db)) as study:
        complete = [t for t in study.get_trials(["COMPLETE"]) if t.feasible]
    limit = sorted(t.values["cost"] for t in complete)[len(complete) // 2]
    code, out, _ = run(capsys, "report", "report-demo", "--storage", str(report_db), "--where", f"cost <= {limit!r}",
                       "--format", "table")
    assert code == 0, out
    qualifying = [t for t in complete if t.values["cost"] <= limit]
    best = max(qualifying, key=lambda t: t.values["accuracy"])
    assert f"{len(qualifying)} of {len(complete)} complete trials qualify" in out
    deploy = next(line for line in out.splitlines() if line.startswith("deploy: trial"))
    number = int(deploy.split()[2])
    assert next(t for t in complete if t.number == number).values["accuracy"] == best.values["accuracy"]
    assert "tied with trial" in out or "better on accuracy than every other" in out or len(qualifying) == 1


def test_where_errors_name_the_field(report_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "report", "report-demo", "--storage", str(report_db), "--where", "costt <= 1")
    assert code == 1 and "'costt' is not an objective or stored measure" in err and err.count("\n") == 1
    code, _, err = run(capsys, "report", "report-demo", "--storage", str(report_db), "--where", "cost < 1")
    assert code == 1 and "--where 'cost < 1'" in err and "cost <= 0.002" in err


def test_wide_tables_fit_the_terminal(report_db: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "60")
    code, out, _ = run(capsys, "report", "report-demo", "--storage", str(report_db), "--all-variables")
    table = out.split("\n", 2)[2]
    assert code == 0 and max(len(line) for line in table.splitlines()) <= 60, table
    assert table.count("\ntrial ") + table.startswith("trial ") >= 2  # continued in a second block that repeats the trial column


def test_render_cuts_text_never_numbers() -> None:
    rows = [{"trial": 1, "template": "x" * 80, "accuracy": "0.8 [0.7, 0.9]"}]
    out = render(rows, "table", width=40)
    assert "0.8 [0.7, 0.9]" in out and "x" * 80 not in out and "…" in out
    assert max(len(line) for line in out.splitlines()) <= 40


def _rows(scores: list[float], latencies: list[float] | None = None) -> list[ExampleResult]:
    return [ExampleResult(f"q{i}", {"score": s}, latency=(latencies or [0.0] * len(scores))[i]) for i, s in enumerate(scores)]


def test_paired_difference_sees_what_independent_intervals_miss() -> None:
    # B fails exactly 4 of the 40 questions A gets right, and nothing else differs: independent
    # Wilson intervals (0.9 vs 0.8) overlap, the paired test does not
    a = [1.0] * 36 + [0.0] * 4
    b = [1.0] * 32 + [0.0] * 8
    diff = paired_difference(MEASURES["accuracy"], _rows(a), _rows(b))
    assert diff is not None and diff.difference == pytest.approx(0.1) and diff.shared == 40
    low_a, _ = MEASURES["accuracy"].interval(_rows(a))  # type: ignore[misc]
    _, high_b = MEASURES["accuracy"].interval(_rows(b))  # type: ignore[misc]
    assert low_a < high_b  # the intervals overlap
    assert diff.interval is not None and diff.interval[0] > 0 and not diff.tied


def test_paired_difference_on_identical_and_disjoint_sets() -> None:
    same = paired_difference(MEASURES["accuracy"], _rows([1.0, 0.0] * 10), _rows([1.0, 0.0] * 10))
    assert same is not None and same.difference == 0.0 and same.p_value == 1.0 and same.tied
    other = [ExampleResult(f"z{i}", {"score": 1.0}) for i in range(5)]
    assert paired_difference(MEASURES["accuracy"], _rows([1.0] * 5), other) is None  # nothing shared: nothing to test
    slow = paired_difference(MEASURES["latency_p95"], _rows([1.0] * 200, [1.0 + i / 100 for i in range(200)]),
                             _rows([1.0] * 200, [0.5 + i / 200 for i in range(200)]))
    assert slow is not None and slow.difference > 0 and slow.interval is not None and slow.interval[0] > 0
