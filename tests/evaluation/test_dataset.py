"""Datasets: JSONL loading, unique ids, required fields, clear errors naming the line."""

from __future__ import annotations

from pathlib import Path

import pytest

from llmopt.errors import DatasetError
from llmopt.evaluation import Dataset


def test_jsonl_round_trip_and_stable_order(tmp_path: Path) -> None:
    path = tmp_path / "d.jsonl"
    path.write_text('{"id": 1, "question": "a", "answer": "x"}\n\n{"id": "2", "question": "b", "answer": "y"}\n')
    data = Dataset.from_jsonl(path, required=["question", "answer"])
    assert data.ids == ["1", "2"] and data["2"].question == "b" and data[0].answer == "x"
    assert data.order(seed=3) == data.order(seed=3)
    assert sorted(data.order(seed=3)) == ["1", "2"]


def test_order_differs_between_seeds() -> None:
    data = Dataset([{"id": str(i)} for i in range(50)])
    assert data.order(0) != data.order(1)


@pytest.mark.parametrize(
    ("text", "pattern"),
    [
        ('{"id": "a"}\n{"id": "a"}\n', "duplicate example id 'a'"),
        ('{"question": "no id"}\n', r"d.jsonl:1: missing id field 'id'"),
        ('{"id": "a"}\n{oops\n', r"d.jsonl:2: not valid JSON"),
        ('[1, 2]\n', "expected a JSON object"),
        ("", "empty"),
    ],
)
def test_bad_files_name_the_problem(tmp_path: Path, text: str, pattern: str) -> None:
    path = tmp_path / "d.jsonl"
    path.write_text(text)
    with pytest.raises(DatasetError, match=pattern):
        Dataset.from_jsonl(path)


def test_missing_required_field_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match=r"'q' \(item 0\) lacks required field\(s\) \['answer'\]"):
        Dataset([{"id": "q", "question": "?"}], required=["answer"])
    with pytest.raises(DatasetError, match="no evaluation set at"):
        Dataset.from_jsonl(tmp_path / "absent.jsonl")


def test_example_field_errors_name_the_example() -> None:
    example = Dataset([{"id": "q", "question": "?"}])["q"]
    with pytest.raises(AttributeError, match="example 'q' has no field 'answer'"):
        example.answer
    assert example.get("answer", "-") == "-"
